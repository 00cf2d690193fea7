#!/bin/bash
# ceph-s3-start.sh DIR [RGW_PORT]
# A throwaway single-node Ceph 16.2 (Debian 12 packages ceph-mon ceph-osd radosgw) serving S3 on
# 127.0.0.1:RGW_PORT, for tests. Recipe, measurements and gotchas: ../shared/reference/s3-test-server.md
# (section 1, "Ceph: works. Exact scripts"); this is that script with ports that let several instances
# run side by side, a record of what it chose, and clean-up when it fails.
#
# 1 mon + 1 OSD (objectstore=memstore: data in RAM, capped 2 GiB; no disk, no loop device) + radosgw;
# no mgr; cephx off (S3 SigV4 signatures and payload hashes are still verified by radosgw). Every daemon
# binds 127.0.0.1 only; the OSD picks free ports itself (6800-7300). Returns once S3 answers (~4 s).
#
# Ports: RGW_PORT (argument, else env RGW_PORT) and MON_V2/MON_V1 (env); each one not given is a free
#   port picked by the kernel (bind to port 0) just before the daemons start.
# Credentials: env AK/SK (defaults below), user "vdb". Any region is accepted.
# Writes DIR/endpoint (http://127.0.0.1:PORT) and DIR/env (RGW_PORT= MON_V2= MON_V1= AK= SK= lines).
# Stop with ceph-s3-stop.sh DIR (also run here if starting fails). Logs: DIR/log/.
set -euo pipefail
D=${1:?usage: $0 DIR [RGW_PORT]}
RGW_PORT=${2:-${RGW_PORT:-}}
AK=${AK:-vdbtestaccesskey}; SK=${SK:-vdbtestsecretkey0123456789}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T0=$(date +%s%N)
for tool in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph curl; do
  command -v "$tool" >/dev/null || { echo "$tool not found (Debian packages ceph-mon ceph-osd radosgw curl)" >&2; exit 3; }
done
mkdir -p "$D"; [ -z "$(ls -A "$D")" ] || { echo "$D must be empty or absent" >&2; exit 2; }
D=$(cd "$D" && pwd)
mkdir -p "$D"/{run,log,mon.a,osd.0,rgw}

# Free ports for what was not given: held open together so the picks differ, then released.
# (Another process could take one before the daemon binds it: then the start fails, clearly.)
need=0; for v in "$RGW_PORT" "${MON_V2:-}" "${MON_V1:-}"; do [ -n "$v" ] || need=$((need + 1)); done
if [ $need -gt 0 ]; then
  read -r -a free <<<"$(python3 -c '
import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))' "$need")"
  i=0
  [ -n "$RGW_PORT" ] || { RGW_PORT=${free[$i]}; i=$((i + 1)); }
  [ -n "${MON_V2:-}" ] || { MON_V2=${free[$i]}; i=$((i + 1)); }
  [ -n "${MON_V1:-}" ] || { MON_V1=${free[$i]}; i=$((i + 1)); }
fi
printf 'RGW_PORT=%s\nMON_V2=%s\nMON_V1=%s\nAK=%s\nSK=%s\n' "$RGW_PORT" "$MON_V2" "$MON_V1" "$AK" "$SK" > "$D/env"

started=0
cleanup_on_failure() {
  local rc=$?
  if [ $rc != 0 ] && [ $started = 1 ]; then
    echo "ceph-s3-start.sh: failed (exit $rc); stopping what was started; logs in $D/log" >&2
    "$HERE/ceph-s3-stop.sh" "$D" || true
  fi
}
trap cleanup_on_failure EXIT

FSID=$(cat /proc/sys/kernel/random/uuid)
C="$D/ceph.conf"
cat > "$C" <<CONF
[global]
fsid = $FSID
mon host = [v2:127.0.0.1:$MON_V2,v1:127.0.0.1:$MON_V1]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
run dir = $D/run
admin socket = $D/run/\$name.asok
log file = $D/log/\$name.log
pid file = $D/run/\$name.pid
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 1
osd pool default pgp num = 1
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail warn = 2
mon data avail crit = 1
paxos propose interval = 0.05
[mon]
mon data = $D/mon.\$id
[osd]
osd data = $D/osd.\$id
osd objectstore = memstore
memstore device bytes = 2147483648
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT tcp_nodelay=1
rgw data = $D/rgw
# radosgw defaults to ms_mon_client_mode=secure + auth_client_required=cephx, which fails (-13) with auth none:
ms mon client mode = crc secure
auth client required = none
CONF
CE="timeout 60 ceph -c $C"
monmaptool --create --clobber --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_V2,v1:127.0.0.1:$MON_V1]" "$D/monmap" >/dev/null
ceph-mon -c "$C" --mkfs -i a --monmap "$D/monmap"
started=1
ceph-mon -c "$C" -i a                                   # daemonizes
$CE osd pool ls >/dev/null                              # waits for the mon
UUID=$(cat /proc/sys/kernel/random/uuid)
OSDID=$($CE osd new "$UUID")
ceph-osd -c "$C" -i "$OSDID" --mkfs --osd-uuid "$UUID" 2>>"$D/log/osd-stderr.log"
ceph-osd -c "$C" -i "$OSDID" 2>>"$D/log/osd-stderr.log"  # daemonizes
up=0
for i in $(seq 1 120); do $CE osd stat -f json 2>/dev/null | grep -q '"num_up_osds":1' && { up=1; break; }; sleep 0.25; done
[ $up = 1 ] || { echo "the OSD did not come up; see $D/log" >&2; exit 1; }
# Pre-create radosgw's pools, 1 PG each, in one ceph CLI session (saves ~10 s of lazy creation)
for p in .rgw.root default.rgw.log default.rgw.control default.rgw.meta default.rgw.buckets.index \
         default.rgw.buckets.data default.rgw.buckets.non-ec; do
  echo "osd pool create $p 1 1"; echo "osd pool application enable $p rgw"; done | $CE >/dev/null 2>&1
timeout 120 radosgw -c "$C" -n client.rgw.a               # daemonizes
timeout 60 radosgw-admin -c "$C" user create --uid=vdb --display-name=vdb \
  --access-key="$AK" --secret-key="$SK" >/dev/null
for i in $(seq 1 240); do
  if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$RGW_PORT/"; then
    echo "http://127.0.0.1:$RGW_PORT" > "$D/endpoint"
    ms=$((($(date +%s%N) - T0) / 1000000))
    printf 'S3 ready on http://127.0.0.1:%s (mon %s/%s) in %d.%03d s\n' "$RGW_PORT" "$MON_V2" "$MON_V1" $((ms / 1000)) $((ms % 1000))
    exit 0
  fi
  sleep 0.25
done
echo "radosgw did not answer on 127.0.0.1:$RGW_PORT; see $D/log" >&2; exit 1
