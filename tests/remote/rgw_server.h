// A throwaway Ceph RGW for tests and benchmarks: tests/s3/ceph-s3-start.sh
// in a new temporary directory, on free ports the script picks (so test
// binaries can run side by side), stopped and removed by Stop() or the
// destructor. Set VDB_KEEP_S3_DIR=1 to keep the directory (logs) after Stop.
//
// Thread rules: one thread. Not copyable.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#ifndef VDB_S3_SCRIPTS
#error "VDB_S3_SCRIPTS: the directory of ceph-s3-start.sh (set by tests/remote/meson.build)"
#endif

namespace vdb::test {

// True if every program ceph-s3-start.sh runs is on PATH.
inline bool RadosgwInstalled() {
  const char *path = std::getenv("PATH");
  std::string p = path ? path : "/usr/bin:/bin";
  for (const char *tool : {"radosgw", "ceph-mon", "ceph-osd", "radosgw-admin", "monmaptool", "ceph",
                           "curl", "python3"}) {
    bool found = false;
    std::stringstream ss(p);
    std::string dir;
    while (!found && std::getline(ss, dir, ':'))
      found = !dir.empty() && access((dir + "/" + tool).c_str(), X_OK) == 0;
    if (!found) return false;
  }
  return true;
}

// Prints the skip line, appends it to $VDB_SKIP_LOG, returns 77 (meson's skip).
inline int SkipNoRadosgw(const char *test) {
  std::string line =
      std::string("SKIP ") + test +
      ": radosgw not installed (Debian packages ceph-mon ceph-osd radosgw curl python3)";
  std::printf("%s\n", line.c_str());
  if (const char *log = std::getenv("VDB_SKIP_LOG"); log && *log) {
    std::ofstream f(log, std::ios::app);
    f << line << "\n";
  }
  return 77;
}

class RgwServer {
 public:
  RgwServer() = default;
  RgwServer(const RgwServer &) = delete;
  RgwServer &operator=(const RgwServer &) = delete;
  ~RgwServer() { Stop(); }

  // Starts it (on `port`, else a free one); false (with `error` set) if the
  // script fails.
  bool Start(std::string *error, int port = 0) {
    char tmpl[] = "/tmp/vdb-rgw-XXXXXX";
    if (!mkdtemp(tmpl)) {
      *error = "mkdtemp failed";
      return false;
    }
    root_ = tmpl;
    dir_ = root_ + "/ceph";
    auto t0 = std::chrono::steady_clock::now();
    std::string cmd = std::string(VDB_S3_SCRIPTS) + "/ceph-s3-start.sh " + dir_ +
                      (port ? " " + std::to_string(port) : std::string()) + " > " + root_ +
                      "/start.log 2>&1";
    int rc = std::system(cmd.c_str());
    start_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    started_ = true;
    if (rc != 0) {
      *error = "ceph-s3-start.sh failed (status " + std::to_string(rc) +
               "): " + Slurp(root_ + "/start.log") + " (logs in " + dir_ + "/log)";
      keep_ = true;
      return false;
    }
    endpoint_ = Slurp(dir_ + "/endpoint");
    while (!endpoint_.empty() && (endpoint_.back() == '\n' || endpoint_.back() == '\r'))
      endpoint_.pop_back();
    std::string env = Slurp(dir_ + "/env");
    access_key_ = EnvValue(env, "AK");
    secret_key_ = EnvValue(env, "SK");
    return !endpoint_.empty();
  }

  // Stops the daemons; removes the directory unless VDB_KEEP_S3_DIR is set
  // or starting failed.
  void Stop() {
    if (!started_) return;
    started_ = false;
    std::string cmd = std::string(VDB_S3_SCRIPTS) + "/ceph-s3-stop.sh " + dir_ + " >/dev/null 2>&1";
    (void)std::system(cmd.c_str());
    const char *keep = std::getenv("VDB_KEEP_S3_DIR");
    if (keep_ || (keep && *keep)) {
      std::fprintf(stderr, "RGW directory kept: %s\n", root_.c_str());
      return;
    }
    (void)std::system(("rm -rf '" + root_ + "'").c_str());
  }

  const std::string &endpoint() const { return endpoint_; }
  const std::string &access_key() const { return access_key_; }
  const std::string &secret_key() const { return secret_key_; }
  double start_seconds() const { return start_seconds_; }
  const std::string &dir() const { return dir_; }

 private:
  static std::string Slurp(const std::string &path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  static std::string EnvValue(const std::string &env, const std::string &name) {
    std::stringstream ss(env);
    std::string line;
    while (std::getline(ss, line))
      if (line.compare(0, name.size() + 1, name + "=") == 0) return line.substr(name.size() + 1);
    return "";
  }

  bool started_ = false, keep_ = false;
  std::string root_, dir_, endpoint_, access_key_, secret_key_;
  double start_seconds_ = 0;
};

}  // namespace vdb::test
