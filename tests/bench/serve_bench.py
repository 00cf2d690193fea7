#!/usr/bin/python3
"""serve_bench: `vdb serve` over a month of one-minute segments, against
MediaMTX-like serving of one-minute MP4 files reproduced with GStreamer's own
elements, in the same run.

  serve_bench.py [--build DIR] [--work DIR] [--quick] [--days D] [--reps N]

What it builds (cached under --work, default /tmp/vdb-serve-bench):
  src/          60 s of real H.264 (videotestsrc pattern=ball, 320x240, 5 fps,
                x264enc pass=quant quantizer=40 tune=zerolatency: no B-frames,
                as from most cameras; a keyframe every 2 s) recorded by vdbsink;
  archive-Nd/   N days (30; --quick: 1) of continuous one-minute segments
                written by make_archive through the engine's Writer, looping
                the source's frames, ending at the minute it was generated;
  mp4-Nd-Hh/    H hours (24; --quick: 1) of the same archive replayed through
                vdbsrc ! h264parse ! splitmuxsink (mp4mux, 60 s parts), the
                parts renamed as MediaMTX names its recordings
                (%Y-%m-%d_%H-%M-%S-%f.mp4), centred on the hour 20 days back.

What it measures, with a fresh HTTP connection per timing (http.client):
  - list: GET /api/streams and /api/streams/cam;
  - time to the first body byte of a one-minute video.mp4 20 days back (a
    different minute each repetition, so the server has not seen it), and of
    the first media segment of an index.m3u8 playlist (10 min) 20 days back;
  - throughput of GET video.mp4 over one hour (and, in full mode, six hours,
    the server's longest range) against `cat` of the same segment frame files
    to /dev/null: the first request for a range (the server renders it to a
    file before its first byte) and the same range again (its render cache);
  - time to the first byte of video.fmp4 (fragmented MP4, streamed), one
    minute 20 days back;
  - MediaMTX-like, on the MP4 parts: "list" as MediaMTX does it (list the
    directory, open every part and read its duration from moov/mvhd, merge
    into ranges), extrapolated linearly to the archive's length; a one-minute
    MP4 served by splitmuxsrc seeked to the start and muxed by mp4mux
    (tests/bench/splitmux_get), given the parts picked by name (as MediaMTX
    does) and given the whole directory as a glob; its throughput over the
    same hour and `cat` of those parts.

Everything is read once before it is timed (page cache warm for both sides;
nothing is dropped). Prints figures and a table; asserts only correctness
(HTTP 200, non-empty bodies of the right kind). Exits 77 when `vdb serve` is
not built.
"""

import argparse
import bisect
import calendar
import http.client
import json
import os
import select
import shutil
import socket
import struct
import subprocess
import sys
import time
import urllib.parse

NS = 1_000_000_000
MIN = 60 * NS
HOUR = 3600 * NS
DAY = 86400 * NS

failures = []


def log(*a):
    print(*a, flush=True)


def fail(what):
    failures.append(what)
    log("FAILED: " + what)


def iso(ns):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ns // NS))


def median(xs):
    s = sorted(xs)
    return s[len(s) // 2] if s else float("nan")


def p95(xs):
    s = sorted(xs)
    if not s:
        return float("nan")
    k = max(0, -(-len(s) * 95 // 100) - 1)  # nearest rank
    return s[k]


def fmt_ms(xs):
    if not xs:
        return "n/a"
    if len(xs) == 1:
        return "%.1f ms" % (xs[0] * 1e3)
    return "%.1f / %.1f ms" % (median(xs) * 1e3, p95(xs) * 1e3)


def run(cmd, env=None, what=""):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    secs = time.perf_counter() - t0
    if p.returncode != 0:
        log("command failed (%s): %s\n%s" % (what, " ".join(cmd), p.stdout[-4000:]))
        sys.exit(1)
    return p.stdout, secs


def du(path):
    out = subprocess.run(["du", "-sb", path], stdout=subprocess.PIPE, text=True).stdout
    return int(out.split()[0]) if out else 0


# ---------------------------------------------------------------- fixtures


def make_source(work, env):
    src = os.path.join(work, "src")
    if os.path.exists(src + ".done"):
        return src
    shutil.rmtree(src, ignore_errors=True)
    _, secs = run(
        ["gst-launch-1.0", "-q", "videotestsrc", "num-buffers=300", "pattern=ball", "!",
         "video/x-raw,format=I420,width=320,height=240,framerate=5/1", "!", "x264enc",
         "pass=quant", "quantizer=40", "key-int-max=10", "speed-preset=veryfast",
         "tune=zerolatency", "!", "h264parse",
         "!", "vdbsink", "location=" + src, "stream=cam"], env, "source recording")
    log("source: 60 s of 320x240 H.264 at 5 fps recorded in %.1f s (%d bytes)" % (secs, du(src)))
    open(src + ".done", "w").write("ok\n")
    return src


def make_archive(work, build, src, days):
    store = os.path.join(work, "archive-%gd" % days)
    meta_path = store + ".json"
    if os.path.exists(meta_path):
        meta = json.load(open(meta_path))
        meta["reused"] = True
        return store, meta
    shutil.rmtree(store, ignore_errors=True)
    log("generating %g days of one-minute segments in %s ..." % (days, store))
    out, secs = run([os.path.join(build, "tests/bench/make_archive"), src, "cam", store, "cam",
                     "--days", str(days)], None, "make_archive")
    meta = {}
    for line in out.splitlines():
        if line.startswith("start_utc="):
            for kv in line.split():
                k, v = kv.split("=")
                meta[k] = float(v) if "." in v else int(v)
        else:
            log("  " + line)
    meta["wall_seconds"] = secs
    json.dump(meta, open(meta_path, "w"))
    meta["reused"] = False
    return store, meta


def mp4_boxes(f, start, end):
    pos = start
    while pos + 8 <= end:
        f.seek(pos)
        h = f.read(16)
        if len(h) < 8:
            return
        size, typ = struct.unpack(">I4s", h[:8])
        hdr = 8
        if size == 1:
            size, hdr = struct.unpack(">Q", h[8:16])[0], 16
        elif size == 0:
            size = end - pos
        if size < hdr:
            return
        yield typ, pos, hdr, size
        pos += size


def mp4_duration_ns(path):
    """Duration from moov/mvhd, walking the top-level boxes (moov may be last)."""
    with open(path, "rb") as f:
        end = os.fstat(f.fileno()).st_size
        for typ, pos, hdr, size in mp4_boxes(f, 0, end):
            if typ != b"moov":
                continue
            for t2, p2, h2, s2 in mp4_boxes(f, pos + hdr, pos + size):
                if t2 == b"mvhd":
                    f.seek(p2 + h2)
                    b = f.read(32)
                    if b[0] == 1:
                        scale, dur = struct.unpack(">IQ", b[20:32])
                    else:
                        scale, dur = struct.unpack(">II", b[12:20])
                    return dur * NS // scale
    raise ValueError("%s: no moov/mvhd" % path)


def mtx_name(ns):
    t = time.gmtime(ns // NS)
    return time.strftime("%Y-%m-%d_%H-%M-%S", t) + "-%06d.mp4" % ((ns % NS) // 1000)


def mtx_name_time(name):
    # 2026-11-05_12-00-00-000000.mp4, parsed the way MediaMTX parses its path format
    y, mo, d = int(name[0:4]), int(name[5:7]), int(name[8:10])
    h, mi, s, us = int(name[11:13]), int(name[14:16]), int(name[17:19]), int(name[20:26])
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) * NS + us * 1000


def make_mp4s(work, env, store, days, span_start, span_end):
    hours = (span_end - span_start) // HOUR
    d = os.path.join(work, "mp4-%gd-%dh" % (days, hours))
    meta_path = d + ".json"
    if os.path.exists(meta_path):
        meta = json.load(open(meta_path))
        if meta.get("span_start") == span_start:
            meta["reused"] = True
            return d, meta
    shutil.rmtree(d, ignore_errors=True)
    tmp = d + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    log("recording %d h of one-minute MP4 parts with splitmuxsink in %s ..." % (hours, d))
    _, secs = run(["gst-launch-1.0", "-q", "vdbsrc", "location=" + store, "stream=cam",
                   "start-time=" + iso(span_start), "stop-time=" + iso(span_end), "!", "h264parse",
                   "!", "splitmuxsink", "location=" + os.path.join(tmp, "seg%05d.mp4"),
                   "max-size-time=60000000000", "muxer=mp4mux"], env, "splitmuxsink recording")
    t = span_start
    n = 0
    for name in sorted(os.listdir(tmp)):
        p = os.path.join(tmp, name)
        dur = mp4_duration_ns(p)
        os.rename(p, os.path.join(tmp, mtx_name(t)))
        t += dur
        n += 1
    os.rename(tmp, d)
    meta = {"span_start": span_start, "span_end": span_end, "files": n, "record_seconds": secs,
            "bytes": du(d), "recorded_end": t}
    json.dump(meta, open(meta_path, "w"))
    meta["reused"] = False
    return d, meta


def make_names(work, days, start, end):
    """A directory holding an empty file for every one-minute part of the whole archive, named
    as the MP4 parts are: what a MediaMTX-like server lists to pick parts by name."""
    d = os.path.join(work, "names-%gd" % days)
    if os.path.exists(d + ".done") and open(d + ".done").read() == "%d\n" % start:
        return d
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for t in range(start, end, MIN):
        open(os.path.join(d, mtx_name(t)), "w").close()
    open(d + ".done", "w").write("%d\n" % start)
    return d


# ---------------------------------------------------------------- MediaMTX-like


def mtx_list(d):
    """List as MediaMTX's playback server does: the parts by name, each opened for its duration."""
    segs = []
    for name in sorted(os.listdir(d)):
        if not name.endswith(".mp4"):
            continue
        start = mtx_name_time(name)
        segs.append((start, start + mp4_duration_ns(os.path.join(d, name))))
    ranges = []
    for s, e in segs:
        if ranges and s <= ranges[-1][1] + NS // 10:
            ranges[-1][1] = max(ranges[-1][1], e)
        else:
            ranges.append([s, e])
    return ranges, len(segs)


def mtx_pick(d, start, end):
    """The parts covering [start, end), picked by their names: the directory listed and sorted,
    the first part found by bisection on the names (they sort as their times do). MediaMTX
    parses every name instead; this is the cheaper way, to be fair to it in Python."""
    names = sorted(os.listdir(d))
    i = max(0, bisect.bisect_right(names, mtx_name(start)) - 1)
    picked = []
    while i < len(names) and mtx_name_time(names[i]) < end:
        nxt = mtx_name_time(names[i + 1]) if i + 1 < len(names) else mtx_name_time(names[i]) + HOUR
        if nxt > start:
            picked.append(i)
        i += 1
    return ([os.path.join(d, names[i]) for i in picked],
            mtx_name_time(names[picked[0]]) if picked else None)


class SplitmuxGet:
    """tests/bench/splitmux_get, one long-running process (a server keeps GStreamer loaded).

    splitmuxsrc (GStreamer 1.22.0) sometimes never finishes preparing its parts: the helper
    reports it after 10 s ("error hang") and may be stuck in the teardown, so it is restarted
    and the request retried; self.hangs counts them."""

    def __init__(self, exe, env):
        self.exe, self.env, self.p, self.hangs, self.requests = exe, env, None, 0, 0
        self.start()

    def start(self):
        self.p = subprocess.Popen([self.exe], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  env=self.env, text=True, bufsize=1)

    def restart(self):
        self.p.kill()
        self.p.wait()
        self.start()

    def request(self, mode, start, stop, locs):
        for _ in range(3):
            self.requests += 1
            self.p.stdin.write("%s %d %d %s\n" % (mode, start, stop, " ".join(locs)))
            self.p.stdin.flush()
            ready, _, _ = select.select([self.p.stdout], [], [], 120)
            line = self.p.stdout.readline().strip() if ready else "error hang (no answer)"
            if line.startswith("ok "):
                return {k: float(v) for k, v in (kv.split("=") for kv in line[3:].split())}
            if not line.startswith("error hang"):
                raise RuntimeError("splitmux_get: " + (line or "no answer"))
            self.hangs += 1
            log("  splitmux_get: %s: restarted, request retried" % line)
            self.restart()
        raise RuntimeError("splitmux_get: hung three times in a row")

    def close(self):
        self.p.stdin.close()
        self.p.wait()


# ---------------------------------------------------------------- HTTP


class NoServe(Exception):
    pass


class Server:
    def __init__(self, vdb, store, work, env):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.log_path = os.path.join(work, "serve-%d.log" % os.getpid())
        self.log = open(self.log_path, "w")
        self.cmd = [vdb, "serve", store, "--listen", "127.0.0.1:%d" % self.port]
        t0 = time.perf_counter()
        self.p = subprocess.Popen(self.cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        self.first_list = None
        while time.perf_counter() - t0 < 60:
            if self.p.poll() is not None:
                break
            try:
                r = self.get("/api/streams")
                if r["status"] == 200:
                    self.first_list = r["total"]
                    break
            except OSError:
                time.sleep(0.02)
        self.startup = time.perf_counter() - t0
        if self.first_list is None:
            self.stop()
            log("vdb serve did not answer GET /api/streams with 200 within 60 s: %s\n%s" %
                (" ".join(self.cmd), open(self.log_path).read()[-4000:]))
            sys.exit(1)

    def get(self, path):
        t0 = time.perf_counter()
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        try:
            c.request("GET", path)
            r = c.getresponse()
            first = r.read(1)
            t1 = time.perf_counter()
            body = first + r.read()
            t2 = time.perf_counter()
            return {"status": r.status, "headers": {k.lower(): v for k, v in r.getheaders()},
                    "body": body, "ttfb": t1 - t0, "total": t2 - t0}
        finally:
            c.close()

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()


def check(r, path, kind):
    """Correctness only: 200 and a body of the right kind. Returns the parsed body or None."""
    b = r["body"]
    what = "GET %s -> %d, %d bytes" % (path, r["status"], len(b))
    if r["status"] != 200 or not b:
        fail(what + ": " + b[:300].decode("utf-8", "replace"))
        return None
    cl = r["headers"].get("content-length")
    if cl is not None and int(cl) != len(b):
        fail(what + ": Content-Length says %s" % cl)
        return None
    if kind == "json":
        try:
            return json.loads(b)
        except ValueError as e:
            fail(what + ": not JSON (%s): %r" % (e, b[:200]))
            return None
    if kind == "mp4" and b[4:8] != b"ftyp":
        fail(what + ": not an MP4 (starts %r)" % b[:16])
        return None
    if kind == "m3u8" and not b.startswith(b"#EXTM3U"):
        fail(what + ": not a playlist (starts %r)" % b[:40])
        return None
    if kind == "ts" and b[0] != 0x47:
        fail(what + ": not MPEG-TS (starts %r)" % b[:16])
        return None
    return b


def cat_seconds(files):
    t0 = time.perf_counter()
    subprocess.run(["cat"] + files, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def ffprobe_duration(data, work):
    if not shutil.which("ffprobe"):
        return None
    p = os.path.join(work, "probe-%d.mp4" % os.getpid())
    open(p, "wb").write(data)
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                          "csv=p=0", p], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True).stdout.strip()
    os.remove(p)
    try:
        return float(out)
    except ValueError:
        return out


# ---------------------------------------------------------------- main


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(here, "..", "..", "build"))
    ap.add_argument("--work", default="/tmp/vdb-serve-bench")
    ap.add_argument("--quick", action="store_true", help="1 day of archive, 1 h of MP4 parts")
    ap.add_argument("--days", type=float, help="archive length (default 30; quick: 1)")
    ap.add_argument("--reps", type=int, help="repetitions per timing (default 50; quick: 10)")
    ap.add_argument("--mp4-hours", type=int, help="span of MP4 parts (default 24; quick: 1)")
    ap.add_argument("--no-serve", action="store_true",
                    help="only the fixtures and the MediaMTX-like side (no vdb serve)")
    a = ap.parse_args()
    days = a.days or (1 if a.quick else 30)
    reps = a.reps or (10 if a.quick else 50)
    mp4_hours = a.mp4_hours or (1 if a.quick else 24)
    build = os.path.abspath(a.build)
    vdb = os.path.join(build, "tools", "vdb")
    if not a.no_serve and not os.access(vdb, os.X_OK):
        log("SKIP: %s is not built" % vdb)
        return 77
    if not a.no_serve:
        # `vdb serve` of a store that does not exist: an error naming the store if the command
        # is built, the usage or "this build has no ..." if not.
        try:
            h = subprocess.run([vdb, "serve", os.path.join(a.work, "no-such-store"), "--listen",
                                "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, timeout=10).stdout
        except subprocess.TimeoutExpired:
            h = ""
        if h.startswith("usage:") or "this build has no" in h:
            log("SKIP: this vdb has no `serve` command (`vdb serve` said: %s)" %
                (h.strip().splitlines() or ["nothing"])[0])
            return 77
    for exe in ("tests/bench/make_archive", "gst/libgstvdb.so"):
        if not os.path.exists(os.path.join(build, exe)):
            log("SKIP: %s is not built" % os.path.join(build, exe))
            return 77
    splitmux_exe = os.path.join(build, "tests/bench/splitmux_get")
    env = dict(os.environ, GST_PLUGIN_PATH=os.path.join(build, "gst"))
    os.makedirs(a.work, exist_ok=True)
    free = shutil.disk_usage(a.work).free
    log("serve_bench (%s): %g days of one-minute segments, %d repetitions per timing; work dir %s "
        "(%.1f GB free)" % ("quick" if a.quick else "full", days, reps, a.work, free / 1e9))

    src = make_source(a.work, env)
    store, am = make_archive(a.work, build, src, days)
    start, end = am["start_utc"], am["end_utc"]
    length = end - start
    log("archive: %s .. %s, %d segments, %d frames, %.2f GB on disk; generated in %.1f s%s" %
        (iso(start), iso(end), am["segments"], am["frames"], am["disk_bytes"] / 1e9,
         am["seconds"], " (earlier run, reused)" if am["reused"] else ""))

    back = min(20 * DAY, length - HOUR) // HOUR * HOUR
    tb = end - back  # the hour "20 days back": one-minute MP4s, throughput
    th = max(start, tb - HOUR)  # the hour before it: HLS
    back_label = "%g d back" % (back / DAY) if back % DAY == 0 else "%.1f h back" % (back / HOUR)
    span_start = max(start, tb - (mp4_hours - 1) // 2 * HOUR)
    span_end = min(end, span_start + mp4_hours * HOUR)
    mp4_dir, mm = make_mp4s(a.work, env, store, days, span_start, span_end)
    log("MP4 parts: %d files, %s .. %s, %.1f MB; recorded in %.1f s%s" %
        (mm["files"], iso(span_start), iso(span_end), mm["bytes"] / 1e6, mm["record_seconds"],
         " (earlier run, reused)" if mm["reused"] else ""))

    # Page cache: read both sides once before timing anything.
    subprocess.run("find '%s' '%s' -type f -exec cat {} + > /dev/null" % (store, mp4_dir),
                   shell=True, check=True)

    R = {}  # results
    srv = Server(vdb, store, a.work, env) if not a.no_serve else None
    try:
        if srv is None:
            raise NoServe()
        log("vdb serve up on port %d in %.0f ms (first GET /api/streams: %.1f ms)" %
            (srv.port, srv.startup * 1e3, srv.first_list * 1e3))
        R["startup"] = srv.startup

        # -- list
        for key, path in (("list_all", "/api/streams"), ("list_cam", "/api/streams/cam")):
            r = srv.get(path)
            body = check(r, path, "json")
            if key == "list_cam" and body is not None:
                info = {k: body.get(k) for k in ("stream", "start", "end", "segments", "bytes")}
                info["ranges"] = len(body.get("ranges", []))
                info["gaps"] = len(body.get("gaps", []))
                log("GET %s (%d bytes): %s" % (path, len(r["body"]), json.dumps(info)))
                if body.get("start_ns") is not None and abs(body["start_ns"] - start) > MIN:
                    fail("%s: start_ns %s, the archive starts at %d" % (path, body["start_ns"],
                                                                        start))
                if body.get("end_ns") is not None and abs(body["end_ns"] - end) > MIN:
                    fail("%s: end_ns %s, the archive ends at %d" % (path, body["end_ns"], end))
                if info["ranges"] != 1 or info["gaps"]:
                    fail("%s: %d ranges and %d gaps, the archive is one continuous range" %
                         (path, info["ranges"], info["gaps"]))
                if body.get("segments") not in (None, am["segments"]):
                    fail("%s: %s segments, the archive has %d" % (path, body["segments"],
                                                                  am["segments"]))
            if key == "list_all" and body is not None and not isinstance(body, list):
                fail("%s: not a JSON array" % path)
            xs = []
            for _ in range(reps):
                r = srv.get(path)
                if check(r, path, "json") is None:
                    break
                xs.append(r["total"])
            R[key] = xs
            log("list %-18s median %.2f ms, p95 %.2f ms (%d requests)" %
                (path, median(xs) * 1e3, p95(xs) * 1e3, len(xs)))

        # -- one-minute MP4, 20 days back, a different minute each time
        xs, totals, sizes = [], [], []
        for i in range(min(reps, 60)):
            t = tb + i * MIN
            path = "/api/streams/cam/video.mp4?start=%s&end=%s" % (iso(t), iso(t + MIN))
            r = srv.get(path)
            body = check(r, path, "mp4")
            if body is None:
                break
            xs.append(r["ttfb"])
            totals.append(r["total"])
            sizes.append(len(body))
            if i == 0:
                dur = ffprobe_duration(body, a.work)
                log("GET %s: %d bytes, Content-Type %s, Accept-Ranges %s, ffprobe duration %s" %
                    (path, len(body), r["headers"].get("content-type"),
                     r["headers"].get("accept-ranges"), dur))
                if isinstance(dur, float) and not 55 <= dur <= 65:
                    fail("%s: ffprobe says %.3f s, not about 60 s" % (path, dur))
        R["mp4_ttfb"], R["mp4_total"] = xs, totals
        log("MP4 1 min %s: first byte median %.2f ms, p95 %.2f ms; whole body median %.2f ms "
            "(%d requests, %s bytes each)" % (back_label, median(xs) * 1e3, p95(xs) * 1e3,
                                              median(totals) * 1e3, len(xs), median(sizes)))

        # a byte range of an MP4 (correctness of Range, timed once)
        path = "/api/streams/cam/video.mp4?start=%s&end=%s" % (iso(tb), iso(tb + MIN))
        c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
        c.request("GET", path, headers={"Range": "bytes=100-199"})
        r = c.getresponse()
        rb = r.read()
        c.close()
        if r.status != 206 or len(rb) != 100:
            fail("GET %s with Range: bytes=100-199 -> %d, %d bytes" % (path, r.status, len(rb)))

        # -- HLS: playlist, then the first byte of its first media segment
        xs, pl = [], []
        for i in range(min(reps, 60)):
            t = th + i * MIN
            path = "/api/streams/cam/index.m3u8?start=%s&end=%s" % (iso(t), iso(t + 10 * MIN))
            r = srv.get(path)
            body = check(r, path, "m3u8")
            if body is None:
                break
            pl.append(r["total"])
            uris = [l.strip() for l in body.decode("utf-8", "replace").splitlines()
                    if l.strip() and not l.startswith("#")]
            if not uris:
                fail("GET %s: no media segment in the playlist: %r" % (path, body[:300]))
                break
            seg_url = urllib.parse.urljoin("http://127.0.0.1:%d%s" % (srv.port, path), uris[0])
            u = urllib.parse.urlsplit(seg_url)
            spath = u.path + ("?" + u.query if u.query else "")
            r = srv.get(spath)
            if check(r, spath, "ts") is None:
                break
            xs.append(r["ttfb"])
            if i == 0:
                log("GET %s: %d lines, %d segments; first %s: %d bytes, Content-Type %s" %
                    (path, len(body.splitlines()), len(uris), spath, len(r["body"]),
                     r["headers"].get("content-type")))
        R["hls_ttfb"], R["hls_playlist"] = xs, pl
        log("HLS %s: playlist (10 min) median %.2f ms; first segment first byte median %.2f ms, "
            "p95 %.2f ms (%d)" % (back_label, median(pl) * 1e3, median(xs) * 1e3, p95(xs) * 1e3,
                                  len(xs)))

        # -- throughput: GET video.mp4 against cat of the same frame files
        def seg_files(t0, t1):
            first = (t0 - start) // MIN + 1
            last = (t1 - start) // MIN  # the segment holding t1 - 1 ns
            files = [os.path.join(store, "cam", "%012d.vdbf" % i) for i in range(first, last + 1)]
            for i in (first, last):  # the ids follow the minutes (one-minute segments from id 1)
                m = json.load(open(os.path.join(store, "cam", "%012d.json" % i)))
                want = start + (i - 1) * MIN
                if m["utc_start"] != want:
                    fail("segment %d starts at %d, expected %d" % (i, m["utc_start"], want))
            return files

        # `vdb serve` renders a range to a file before its first byte (Content-Length) and
        # keeps it in a cache: each timed request asks for a range it has not seen (shifted by
        # k seconds, the same segments), then the last one is asked for again (cached).
        spans = [("1 h", HOUR)] + ([] if a.quick or length < DAY else [("6 h", 6 * HOUR)])
        R["tput"] = {}
        for label, span in spans:
            base = tb if span == HOUR else max(start, tb - 3 * HOUR)
            n = 3 if a.quick else 5
            g, c_, cached, cat_c = [], [], [], []
            for k in range(n + 1):
                t0 = base + k * NS
                path = "/api/streams/cam/video.mp4?start=%s&end=%s" % (iso(t0), iso(t0 + span))
                files = seg_files(t0, t0 + span)
                cat_bytes = sum(os.path.getsize(f) for f in files)
                if k == 0:  # once before timing: the page cache holds both sides
                    cat_seconds(files)
                r = srv.get(path)
                if check(r, path, "mp4") is None:
                    break
                if k:
                    g.append(r["total"])
                    c_.append(cat_seconds(files))
            if not g:
                continue
            gb = len(r["body"])
            for _ in range(n):
                r = srv.get(path)
                if check(r, path, "mp4") is None:
                    break
                cached.append(r["total"])
            R["tput"][label] = {"get_bytes": gb, "get_s": median(g), "cat_bytes": cat_bytes,
                                "cat_s": median(c_), "files": len(files), "span": span,
                                "cached_s": median(cached) if cached else None}
            log("throughput %s: GET video.mp4 %d bytes, first request %.1f ms (%.1f MB/s, %.0fx "
                "real time), repeated (server cache) %.1f ms (%.1f MB/s); cat of %d .vdbf files, "
                "%d bytes, %.1f ms (%.1f MB/s)" %
                (label, gb, median(g) * 1e3, gb / median(g) / 1e6, span / NS / median(g),
                 median(cached) * 1e3, gb / median(cached) / 1e6, len(files), cat_bytes,
                 median(c_) * 1e3, cat_bytes / median(c_) / 1e6))

        # -- fragmented MP4 streamed (video.fmp4), the closest to the MediaMTX-like side
        xs = []
        for i in range(min(reps, 60)):
            t = tb + HOUR + i * MIN
            path = "/api/streams/cam/video.fmp4?start=%s&end=%s" % (iso(t), iso(t + MIN))
            r = srv.get(path)
            if check(r, path, "mp4") is None:
                break
            xs.append(r["ttfb"])
        R["fmp4_ttfb"] = xs
        log("fMP4 1 min %s: first byte median %.2f ms, p95 %.2f ms (%d)" %
            (back_label, median(xs) * 1e3, p95(xs) * 1e3, len(xs)))
    except NoServe:
        pass
    finally:
        if srv:
            srv.stop()
            if not failures:  # kept to read when something failed
                os.remove(srv.log_path)

    # -- MediaMTX-like
    M = {}
    xs = []
    for _ in range(5):
        t0 = time.perf_counter()
        ranges, nfiles = mtx_list(mp4_dir)
        xs.append(time.perf_counter() - t0)
    scale = length / (span_end - span_start)
    M["list"] = xs
    M["list_files"] = nfiles
    M["list_30d"] = [x * scale for x in xs]
    log("MediaMTX-like list: %d parts opened (moov/mvhd) in median %.1f ms -> %d ranges; "
        "extrapolated to %g days (%d parts): %.0f ms" %
        (nfiles, median(xs) * 1e3, len(ranges), days, round(nfiles * scale),
         median(xs) * scale * 1e3))
    if nfiles != mm["files"] or len(ranges) != 1:
        log("note: MP4 parts listed as %d ranges" % len(ranges))
    names_dir = make_names(a.work, days, start, end)

    def pick(t0, t1):  # by name over the whole archive's names, the parts from the MP4 span
        files, f0 = mtx_pick(names_dir, t0, t1)
        files = [os.path.join(mp4_dir, os.path.basename(f)) for f in files]
        for f in files:
            if not os.path.exists(f):
                raise RuntimeError("no MP4 part %s" % f)
        return files, f0

    if os.access(splitmux_exe, os.X_OK):
        sg = SplitmuxGet(splitmux_exe, env)
        try:
            sg.request("full", 0, MIN, pick(tb, tb + MIN)[0])  # warm up
            by_name, sel = [], []
            for i in range(min(reps, 60)):
                t = tb + i * MIN
                t0 = time.perf_counter()
                files, f0 = pick(t, t + MIN)
                pick_s = time.perf_counter() - t0
                r = sg.request("ttfb", t - f0, t + MIN - f0, files)
                by_name.append(pick_s + r["ttfb_ms"] / 1e3)
                sel.append(pick_s)
            M["ttfb_name"] = by_name
            M["pick"] = sel
            log("MediaMTX-like MP4 1 min %s, parts picked by name (%d each, among the %d names "
                "of the whole archive) + splitmuxsrc + mp4mux: first byte median %.1f ms, p95 "
                "%.1f ms (of which picking %.1f ms)" %
                (back_label, len(files), am["segments"], median(by_name) * 1e3,
                 p95(by_name) * 1e3, median(sel) * 1e3))
            glob_, opens = [], []
            for i in range(3 if a.quick else 5):
                t = tb + i * MIN
                r = sg.request("ttfb", t - span_start, t + MIN - span_start,
                               [os.path.join(mp4_dir, "*.mp4")])
                glob_.append(r["ttfb_ms"] / 1e3)
                opens.append(r["open_ms"] / 1e3)
            M["ttfb_glob"] = glob_
            log("MediaMTX-like MP4 1 min %s, splitmuxsrc location=DIR/*.mp4 (%d parts): first byte "
                "median %.1f ms (of which splitmuxsrc's open, median %.1f ms)" %
                (back_label, nfiles, median(glob_) * 1e3, median(opens) * 1e3))
            files, f0 = pick(tb, tb + HOUR)
            sg.request("full", tb - f0, tb + HOUR - f0, files)
            cat_seconds(files)
            g, c_ = [], []
            for _ in range(3 if a.quick else 5):
                r = sg.request("full", tb - f0, tb + HOUR - f0, files)
                g.append(r["total_ms"] / 1e3)
                c_.append(cat_seconds(files))
            cb = sum(os.path.getsize(f) for f in files)
            M["tput"] = {"get_bytes": r["bytes"], "get_s": median(g), "cat_bytes": cb,
                         "cat_s": median(c_), "files": len(files)}
            log("MediaMTX-like throughput 1 h: splitmuxsrc + mp4mux %d bytes in %.1f ms "
                "(%.1f MB/s, %.0fx real time); cat of %d parts, %d bytes, in %.1f ms (%.1f MB/s)" %
                (r["bytes"], median(g) * 1e3, r["bytes"] / median(g) / 1e6, 3600 / median(g),
                 len(files), cb, median(c_) * 1e3, cb / median(c_) / 1e6))
        except RuntimeError as e:
            fail(str(e))
        finally:
            M["hangs"], M["requests"] = sg.hangs, sg.requests
            if sg.hangs:
                log("note: splitmuxsrc did not preroll within 10 s in %d of %d requests "
                    "(helper restarted, request retried; excluded from the figures)" %
                    (sg.hangs, sg.requests))
            sg.close()
    else:
        log("note: %s is not built: no MediaMTX-like serving figures" % splitmux_exe)

    # -- table
    rows = []

    def lat_row(name, v, m, goal):
        vm = median(v) if v else None
        mm_ = median(m) if isinstance(m, list) and m else None
        ratio = "%.1fx" % (mm_ / vm) if vm and mm_ else "-"
        verdict = "-"
        if goal and v:
            ok_m, ok_p = median(v) < goal, p95(v) < goal
            verdict = "PASS" if ok_m and ok_p else ("median PASS, p95 FAIL" if ok_m else "FAIL")
        rows.append((name, fmt_ms(v) if v else "n/a", fmt_ms(m) if isinstance(m, list) and m
                     else (m if isinstance(m, str) else "n/a"), ratio,
                     "< %d ms" % (goal * 1e3) if goal else "-", verdict))

    mtx_list_cell = ("%.0f ms (extrapolated from %d parts: %.1f ms)" %
                     (median(M["list_30d"]) * 1e3, M["list_files"], median(M["list"]) * 1e3))
    lat_row("list GET /api/streams (%g d, %d segs)" % (days, am["segments"]), R.get("list_all"),
            M["list_30d"], 0.050)
    rows[-1] = rows[-1][:2] + (mtx_list_cell,) + rows[-1][3:]
    lat_row("list GET /api/streams/cam", R.get("list_cam"), M["list_30d"], 0.050)
    rows[-1] = rows[-1][:2] + (mtx_list_cell,) + rows[-1][3:]
    lat_row("TTFB MP4 1 min %s (parts by name)" % back_label, R.get("mp4_ttfb"),
            M.get("ttfb_name"), 0.100)
    lat_row("TTFB MP4 1 min %s (splitmuxsrc glob, %d parts)" % (back_label, M["list_files"]),
            R.get("mp4_ttfb"), M.get("ttfb_glob"), 0.100)
    lat_row("TTFB HLS segment %s" % back_label, R.get("hls_ttfb"),
            "n/a (no HLS of recordings)", 0.100)
    lat_row("HLS playlist, 10 min", R.get("hls_playlist"), "n/a", 0)
    lat_row("TTFB fMP4 stream 1 min %s (parts by name)" % back_label, R.get("fmp4_ttfb"),
            M.get("ttfb_name"), 0)

    def mbps(b, s):
        return b / s / 1e6

    for label, t in R.get("tput", {}).items():
        mt = M.get("tput") if label == "1 h" else None
        rt = t["span"] / NS
        v = "%.1f MB/s (%.0fx rt)" % (mbps(t["get_bytes"], t["get_s"]), rt / t["get_s"])
        m = ("%.1f MB/s (%.0fx rt)" % (mbps(mt["get_bytes"], mt["get_s"]), rt / mt["get_s"])
             if mt else "n/a")
        ratio = "%.1fx (footage/s)" % (mt["get_s"] / t["get_s"]) if mt else "-"
        rows.append(("throughput GET video.mp4 %s, first request" % label, v, m, ratio, "-", "-"))
        if t["cached_s"]:
            rows.append(("  same range again (server cache)", "%.1f MB/s (%.0fx rt)" %
                         (mbps(t["get_bytes"], t["cached_s"]), rt / t["cached_s"]), "-", "-", "-",
                         "-"))
        v = "%.1f MB/s (%d .vdbf, %.1f ms)" % (mbps(t["cat_bytes"], t["cat_s"]), t["files"],
                                                 t["cat_s"] * 1e3)
        m = ("%.1f MB/s (%d .mp4, %.1f ms)" % (mbps(mt["cat_bytes"], mt["cat_s"]), mt["files"],
                                               mt["cat_s"] * 1e3) if mt else "-")
        rows.append(("  cat of the same files to /dev/null", v, m, "-", "-", "-"))
        v = "%.2f" % (mbps(t["get_bytes"], t["get_s"]) / mbps(t["cat_bytes"], t["cat_s"]))
        if t["cached_s"]:
            v += " (cached: %.2f)" % (mbps(t["get_bytes"], t["cached_s"]) /
                                      mbps(t["cat_bytes"], t["cat_s"]))
        m = ("%.2f" % (mbps(mt["get_bytes"], mt["get_s"]) / mbps(mt["cat_bytes"], mt["cat_s"]))
             if mt else "-")
        rows.append(("  get / cat (bytes/s)", v, m, "-", "-", "-"))
    if "startup" in R:
        rows.append(("server start to first list", "%.0f ms" % (R["startup"] * 1e3), "-", "-",
                     "-", "-"))
    rows.append(("archive generation (make_archive)", "%.1f s, %.2f GB" %
                 (am["seconds"], am["disk_bytes"] / 1e9), "%.1f s, %.1f MB (%d parts)" %
                 (mm["record_seconds"], mm["bytes"] / 1e6, mm["files"]), "-", "-", "-"))

    head = ("measure", "vdb (median / p95)", "MediaMTX-like", "vdb advantage", "goal", "vs goal")
    w = [max(len(str(r[i])) for r in rows + [head]) for i in range(6)]
    log("")
    log("| " + " | ".join(h.ljust(w[i]) for i, h in enumerate(head)) + " |")
    log("|" + "|".join("-" * (x + 2) for x in w) + "|")
    for r in rows:
        log("| " + " | ".join(str(c).ljust(w[i]) for i, c in enumerate(r)) + " |")
    log("")
    log("Page cache warm on both sides (everything read once before timing; nothing dropped). "
        "TTFB = request sent on a fresh connection to the first body byte; MediaMTX-like TTFB "
        "is measured inside splitmux_get (no HTTP) from the request to mp4mux's first output "
        "buffer. vdb advantage = MediaMTX-like time / vdb time (latency) or vdb rate / "
        "MediaMTX-like rate (throughput).")
    if M.get("hangs"):
        log("MediaMTX-like: splitmuxsrc hung (no preroll in 10 s) in %d of %d requests; those "
            "were retried and are not in the figures." % (M["hangs"], M["requests"]))
    if failures:
        log("%d correctness failure(s):" % len(failures))
        for f in failures:
            log("  " + f)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
