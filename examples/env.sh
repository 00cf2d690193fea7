# Sourced by the examples: build vdb if needed and put the plugin and the
# tools on the paths (installs missing Debian packages, as root).
VDB_EXTRA_PACKAGES="${VDB_EXTRA_PACKAGES:-} libgstrtspserver-1.0-dev gstreamer1.0-plugins-base-apps xvfb"
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/setup.sh"
export PATH="$VDB_BUILD/examples:$PATH"
