#!/usr/bin/python3
"""`vdb serve` as HTTP clients use it.

A store is recorded with GStreamer (H.264 with B-frames + AAC in two runs
with a gap, VP9 + Opus), served on 127.0.0.1, and every answer is checked
the way a client would: JSON parsed, media decoded by ffprobe/ffmpeg, byte
ranges re-read against the whole body, HLS playlists parsed and their
segments decoded; then bad requests; then a recording in progress (live
playlist and live fMP4) with 20 clients at once while retention deletes the
oldest footage, after which the recording must have lost no frame.

Usage: serve_test.py BUILD_DIR   (run by `meson test`, suite clients)
"""
import concurrent.futures
import http.client
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

BUILD = os.path.abspath(sys.argv[1])
VDB = os.path.join(BUILD, "tools", "vdb")
ENV = dict(os.environ, GST_PLUGIN_PATH=os.path.join(BUILD, "gst"))
SEC = 1_000_000_000
MAX_RANGE_S = 10  # the server's --max-range: longer requests are refused


def skip(reason):
    print("SKIP serve_test: " + reason)
    if os.environ.get("VDB_SKIP_LOG"):
        with open(os.environ["VDB_SKIP_LOG"], "a") as f:
            f.write("SKIP serve_test: " + reason + "\n")
    sys.exit(77)


def gst(*pipeline):
    subprocess.run(["gst-launch-1.0", "-q", *pipeline], env=ENV, check=True,
                   stdout=subprocess.DEVNULL, timeout=120)


def record(store, stream, video, audio, frames=180, live=False, extra=()):
    """frames of 320x240 at 30 fps with 1 s segments, and the audio beside."""
    live_arg = ["is-live=true"] if live else []
    gst("videotestsrc", *live_arg, f"num-buffers={frames}", "pattern=ball", "!",
        "video/x-raw,format=I420,width=320,height=240,framerate=30/1", "!", *video.split(),
        "!", "vdbsink", "name=rec", f"location={store}", f"stream={stream}",
        "max-segment-time=1000000000", *extra,
        "audiotestsrc", *live_arg, f"num-buffers={frames * 48000 // 30 // 1024}",
        "samplesperbuffer=1024", "!", "audio/x-raw,rate=48000,channels=1", "!",
        *audio.split(), "!", "rec.audio_0")


class Server:
    def __init__(self, store, *args):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.proc = subprocess.Popen(
            [VDB, "serve", store, "--listen", f"127.0.0.1:{self.port}", *args], env=ENV,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.proc.stdout.readline()
        if "http://" not in line:
            raise RuntimeError("vdb serve did not start: " + line + self.proc.stdout.read())
        threading.Thread(target=lambda: self.proc.stdout.read(), daemon=True).start()

    def get(self, path, headers=None, method="GET", read=True):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        body = r.read() if read else r
        return r.status, r, body

    def json(self, path):
        status, r, body = self.get(path)
        assert r.getheader("Content-Type") == "application/json", r.getheader("Content-Type")
        return status, json.loads(body)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)


def probe(data, suffix, extra=()):
    """ffprobe's streams of `data`, with frames counted."""
    with tempfile.NamedTemporaryFile(suffix=suffix) as f:
        f.write(data)
        f.flush()
        out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", *extra, "-show_entries",
                              "stream=codec_name,codec_type,width,nb_read_frames,start_time",
                              "-of", "json", f.name], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)["streams"]


def decodes_cleanly(source):
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", source, "-f", "null", "-"],
                         capture_output=True, text=True, timeout=120)
    return out.returncode == 0 and not out.stderr.strip(), out.stderr


def frames_of(streams, kind):
    return sum(int(s.get("nb_read_frames", 0)) for s in streams if s["codec_type"] == kind)


def iso(ns):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // SEC)) + ".%03dZ" % (ns % SEC // 1000000)


# ---------------------------------------------------------------- the archive

def test_list_shows_streams_tracks_ranges_and_gaps(srv, store):
    status, streams = srv.json("/api/streams")
    assert status == 200
    by = {s["stream"]: s for s in streams}
    assert set(by) == {"cam", "vp9"}, by.keys()
    cam = by["cam"]
    assert [t["pad"] for t in cam["tracks"]] == ["video", "audio_0"]
    assert [t["codec"] for t in cam["tracks"]] == ["h264", "aac"]
    assert len(cam["ranges"]) == 2 and len(cam["gaps"]) == 1, cam
    assert cam["gaps"][0]["start_ns"] == cam["ranges"][0]["end_ns"]
    assert cam["gaps"][0]["end_ns"] == cam["ranges"][1]["start_ns"]
    assert cam["gaps"][0]["end_ns"] - cam["gaps"][0]["start_ns"] >= 1 * SEC
    assert re.match(r'video/mp4; codecs="avc1\.[0-9A-F]{6}, mp4a\.40\.2"', cam["mime"]), cam["mime"]
    assert cam["live"] is False
    # The same ranges as `vdb info`, and the one-stream resource agrees.
    info = json.loads(subprocess.run([VDB, "info", store, "--json"], capture_output=True,
                                     text=True, env=ENV, check=True).stdout)
    cam_info = [s for s in info if s["stream"] == "cam"][0]
    assert [r["utc_start"] for r in cam_info["ranges"]] == [r["start_ns"] for r in cam["ranges"]]
    status, one = srv.json("/api/streams/cam")
    assert status == 200 and one == cam
    print(f"     cam: {cam['ranges'][0]['start']} .. {cam['ranges'][1]['end']}, "
          f"gap {(cam['gaps'][0]['end_ns'] - cam['gaps'][0]['start_ns']) / SEC:.2f} s")


def cam(srv):
    return srv.json("/api/streams/cam")[1]


def test_mp4_of_a_range_starts_at_a_keyframe_and_decodes(srv, store):
    c = cam(srv)
    start = c["ranges"][0]["start_ns"] + 2 * SEC + SEC // 2  # mid-GOP
    status, r, body = srv.get(f"/api/streams/cam/video.mp4?start={iso(start)}&duration=2")
    assert status == 200, body
    assert int(r.getheader("Content-Length")) == len(body)
    assert r.getheader("Accept-Ranges") == "bytes"
    assert r.getheader("Content-Type") == "video/mp4"
    streams = probe(body, ".mp4")
    assert [s["codec_name"] for s in streams] == ["h264", "aac"], streams
    v = frames_of(streams, "video")
    # The keyframe at or before the start (1 s GOPs) to the end.
    assert 60 <= v <= 91, v
    key = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-read_intervals",
                          "%+#1", "-show_entries", "frame=key_frame", "-of", "csv=p=0", "-"],
                         input=body, capture_output=True, timeout=60).stdout.split()
    assert key[:1] == [b"1"], key
    ok, err = decodes_cleanly("http://127.0.0.1:%d/api/streams/cam/video.mp4?start=%s&duration=2"
                              % (srv.port, iso(start)))
    assert ok, err
    print(f"     {len(body)} bytes, {v} video frames from a keyframe")


def test_mp4_across_a_gap_holds_both_sides(srv, store):
    c = cam(srv)
    a, b = c["ranges"][0]["end_ns"] - 3 * SEC, c["ranges"][1]["start_ns"] + 3 * SEC
    status, r, body = srv.get(f"/api/streams/cam/video.mp4?start={a}&end={b}")
    assert status == 200, body
    v = frames_of(probe(body, ".mp4"), "video")
    # 3 s before the gap (from the keyframe before: 1 s GOPs) and 3 s after.
    assert 178 <= v <= 212, v


def test_byte_ranges_are_the_bytes_of_the_whole(srv, store):
    c = cam(srv)
    path = f"/api/streams/cam/video.mp4?start={c['ranges'][1]['start_ns']}&duration=3"
    _, _, whole = srv.get(path)
    _, _, again = srv.get(path)
    assert whole == again, "the same request gave other bytes"
    n = len(whole)
    for spec, want in [("bytes=0-99", whole[:100]), ("bytes=1000-", whole[1000:]),
                       ("bytes=-500", whole[-500:]), (f"bytes={n // 2}-{n // 2 + 4095}",
                                                      whole[n // 2:n // 2 + 4096])]:
        status, r, part = srv.get(path, {"Range": spec})
        assert status == 206, (spec, status)
        assert part == want, spec
        first = n - len(want)
        if spec.startswith("bytes=0") or spec.startswith(f"bytes={n // 2}"):
            first = whole.find(want)
        assert r.getheader("Content-Range") == f"bytes {first}-{first + len(want) - 1}/{n}", \
            r.getheader("Content-Range")
    status, r, body = srv.get(path, {"Range": f"bytes={n + 10}-"})
    assert status == 416 and json.loads(body)["status"] == 416
    assert r.getheader("Content-Range") == f"bytes */{n}"
    status, r, body = srv.get(path, method="HEAD")
    assert status == 200 and int(r.getheader("Content-Length")) == n and body == b""


def test_fragmented_mp4_streams_with_its_start_time(srv, store):
    c = cam(srv)
    start = c["ranges"][1]["start_ns"] + SEC
    status, r, body = srv.get(f"/api/streams/cam/video.fmp4?start={start}&duration=3")
    assert status == 200, body
    assert r.getheader("Transfer-Encoding") == "chunked" and r.getheader("Content-Length") is None
    first = int(r.getheader("X-Vdb-Start"))
    assert start - SEC <= first <= start, (first, start)  # the keyframe at or before
    assert b"moof" in body and b"mvex" in body, "not fragmented"
    streams = probe(body, ".mp4")
    assert [s["codec_name"] for s in streams] == ["h264", "aac"], streams
    assert 88 <= frames_of(streams, "video") <= 92


def test_hls_playlist_has_wall_clock_gaps_and_decodable_segments(srv, store):
    c = cam(srv)
    a, b = c["ranges"][0]["start_ns"], c["ranges"][1]["end_ns"]
    status, r, body = srv.get(f"/api/streams/cam/index.m3u8?start={a}&end={b}")
    assert status == 200, body
    assert r.getheader("Content-Type") == "application/vnd.apple.mpegurl"
    text = body.decode()
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U" and lines[-1] == "#EXT-X-ENDLIST", text
    uris = [l for l in lines if l and not l.startswith("#")]
    pdts = [l for l in lines if l.startswith("#EXT-X-PROGRAM-DATE-TIME:")]
    assert len(uris) == c["segments"] == len(pdts), (len(uris), c["segments"])
    assert text.count("#EXT-X-DISCONTINUITY\n") == 1
    assert pdts[0] == "#EXT-X-PROGRAM-DATE-TIME:" + c["ranges"][0]["start"]
    target = int(re.search(r"#EXT-X-TARGETDURATION:(\d+)", text).group(1))
    durations = [float(l[8:-1]) for l in lines if l.startswith("#EXTINF:")]
    assert max(durations) <= target
    total = 0
    for uri in uris:
        status, r, seg = srv.get(urllib.parse.urljoin(f"/api/streams/cam/index.m3u8", uri))
        assert status == 200 and r.getheader("Content-Type") == "video/mp2t"
        streams = probe(seg, ".ts")
        assert streams[0]["codec_name"] == "h264" and "aac" in [s["codec_name"] for s in streams]
        total += frames_of(streams, "video")
    assert total == 360, total  # every recorded frame, once
    ok, err = decodes_cleanly(f"http://127.0.0.1:{srv.port}/api/streams/cam/index.m3u8")
    assert ok, err
    print(f"     {len(uris)} segments, target {target} s, {total} video frames")


def test_thumbnail_is_the_keyframe_as_a_jpeg(srv, store):
    c = cam(srv)
    t = c["ranges"][0]["start_ns"] + 3 * SEC + SEC // 3
    status, r, body = srv.get(f"/api/streams/cam/thumbnail.jpg?time={t}&width=160")
    assert status == 200, body
    assert r.getheader("Content-Type") == "image/jpeg"
    s = probe(body, ".jpg")
    assert s[0]["codec_name"] == "mjpeg" and s[0]["width"] == 160, s


def test_vp9_is_served_as_webm_and_refused_where_it_cannot_go(srv, store):
    status, r, body = srv.get("/api/streams/vp9/video.webm")
    assert status == 200, body
    assert [s["codec_name"] for s in probe(body, ".webm")] == ["vp9", "opus"]
    # Browsers play it from fragmented MP4 (Media Source Extensions).
    status, vp9 = srv.json("/api/streams/vp9")
    assert re.match(r'video/mp4; codecs="vp09\.00\.\d\d\.08, opus"', vp9["mime"]), vp9["mime"]
    status, r, body = srv.get("/api/streams/vp9/video.fmp4")
    assert status == 200 and [s["codec_name"] for s in probe(body, ".mp4")] == ["vp9", "opus"]
    status, _, body = srv.get("/api/streams/vp9/video.mp4")
    err = json.loads(body)
    assert status == 415 and "webm" in err["error"].lower(), err
    status, _, body = srv.get("/api/streams/vp9/index.m3u8")
    assert status == 415 and "H.264" in json.loads(body)["error"]


def test_bad_requests_are_4xx_with_a_json_error(srv, store):
    c = cam(srv)
    a = c["ranges"][0]["start_ns"]
    cases = [
        ("/api/streams/nosuch", 404),
        ("/api/streams/nosuch/video.mp4", 404),
        ("/api/streams/cam/video.mp4?start=yesterday", 400),
        ("/api/streams/cam/video.mp4?start=2026-13-45T99:00:00Z", 400),
        (f"/api/streams/cam/video.mp4?start={a + 4 * SEC}&end={a + 2 * SEC}", 400),
        ("/api/streams/cam/video.mp4?start=2001-01-01T00:00:00Z&end=2001-01-01T00:10:00Z", 404),
        (f"/api/streams/cam/video.mp4?start={a}&duration=-5", 400),
        (f"/api/streams/cam/video.mp4?start={a}&end={c['ranges'][1]['end_ns']}", 413),
        (f"/api/streams/cam/video.fmp4?start={a}&end={a - 1}", 400),
        (f"/api/streams/cam/index.m3u8?start={a + SEC}&end={a}", 400),
        ("/api/streams/cam/thumbnail.jpg", 400),
        ("/api/streams/cam/thumbnail.jpg?time=2001-01-01T00:00:00Z", 404),
        (f"/api/streams/cam/thumbnail.jpg?time={a + SEC}&width=100000", 400),
        ("/api/streams/cam/segments/999999.ts", 404),
        ("/api/streams/cam/segments/1abc.ts", 404),
        ("/api/streams/cam/nothing", 404),
        ("/nothing", 404),
        # Path tricks: nothing outside the store, nothing but stream names
        # (400: refused by libsoup itself, which never lets %-escapes make "..").
        ("/api/streams/..%2F..%2Fetc/video.mp4", 400),
        ("/api/streams/%2e%2e/video.mp4", 404),
        ("/api/streams/cam%2F..%2F..%2Fetc%2Fpasswd", 400),
        ("/api/streams/cam/segments/..%2F..%2Fcatalog.vdbc.ts", 400),
        ("/api/streams/.vdb-store/video.mp4", 404),
        ("/api/streams/cam%00/video.mp4", 400),
        ("/api/streams/cam/../../../../etc/passwd", 404),
        ("/app.js/../../etc/passwd", 404),
    ]
    for path, want in cases:
        status, r, body = srv.get(path)
        assert status == want, (path, status, body[:200])
        err = json.loads(body)
        assert err["status"] == want and err["error"], (path, err)
        assert b"root:" not in body
    status, r, body = srv.get("/api/streams", method="POST")
    assert status == 405 and r.getheader("Allow") == "GET, HEAD"


def test_a_file_bigger_than_the_limit_is_refused_naming_the_stream_alternative(srv, store):
    small = Server(store, "--max-file-mb", "0")
    try:
        status, r, body = small.get("/api/streams/cam/video.mp4?duration=2")
        err = json.loads(body)
        assert status == 413 and "video.fmp4" in err["error"], err
        status, r, body = small.get("/api/streams/cam/video.fmp4?duration=2")
        assert status == 200 and frames_of(probe(body, ".mp4"), "video") > 0
    finally:
        small.stop()


def test_web_page_and_its_files_are_served(srv, store):
    for path, kind in [("/", "text/html"), ("/app.js", "text/javascript"), ("/style.css", "text/css")]:
        status, r, body = srv.get(path)
        assert status == 200 and r.getheader("Content-Type").startswith(kind), (path, status)
        assert len(body) > 100


# ------------------------------------------------ a recording in progress

def test_live_playlist_and_20_clients_while_recording_with_retention(store):
    frames = 30 * 24
    recorder = threading.Thread(target=record, args=(
        store, "live", "x264enc tune=zerolatency key-int-max=15 speed-preset=ultrafast ! h264parse",
        "avenc_aac"), kwargs=dict(frames=frames, live=True, extra=("max-total-bytes=400000",)))
    recorder.start()
    srv = Server(store, "--max-range", f"{MAX_RANGE_S}s", "--workers", "2")
    try:
        deadline = time.time() + 30
        while time.time() < deadline:  # until two segments are sealed
            status, body = srv.json("/api/streams/live") if os.path.isdir(
                os.path.join(store, "live")) else (404, None)
            if status == 200 and body["segments"] >= 3:
                break
            time.sleep(0.2)
        assert status == 200 and body["live"] is True, body
        status, r, text = srv.get("/api/streams/live/live.m3u8")
        assert status == 200 and b"#EXT-X-ENDLIST" not in text and b"#EXTINF" in text, text
        seq0 = int(re.search(rb"MEDIA-SEQUENCE:(\d+)", text).group(1))
        uri = [l for l in text.decode().splitlines() if l.endswith(".ts")][-1]
        status, r, seg = srv.get("/api/streams/live/" + uri)
        assert status == 200 and frames_of(probe(seg, ".ts"), "video") > 0
        # A live view: fragmented MP4 from the newest keyframe, read for 2 s.
        status, r, resp = srv.get("/api/streams/live/video.fmp4?live=1", read=False)
        assert status == 200 and int(r.getheader("X-Vdb-Start")) > 0
        data, t0 = b"", time.time()
        while time.time() - t0 < 2:
            data += resp.read1(65536)
        resp.close()
        live_frames = frames_of(probe(data, ".mp4"), "video")
        assert live_frames > 15, live_frames

        errors, counts = [], {}
        def client(n):
            rnd = random.Random(n)
            while recorder.is_alive():
                status, s = srv.json("/api/streams/live")
                if status != 200:
                    errors.append(("list", status))
                    continue
                end = s["end_ns"]
                kind = rnd.choice(["mp4", "m3u8", "thumb", "fmp4"])
                path = {"mp4": f"/api/streams/live/video.mp4?start={end - 3 * SEC}&duration=2",
                        "m3u8": "/api/streams/live/live.m3u8",
                        "thumb": f"/api/streams/live/thumbnail.jpg?time={end - 2 * SEC}&width=64",
                        "fmp4": f"/api/streams/live/video.fmp4?start={end - 3 * SEC}&duration=1",
                        }[kind]
                status, r, body = srv.get(path)
                # 503 (busy, retry later) is an answer a loaded server may give.
                if status not in (200, 503) or (status == 200 and not body):
                    errors.append((path, status, body[:200]))
                counts[status] = counts.get(status, 0) + 1
        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            list(pool.map(client, range(20)))
        recorder.join()
        assert not errors, errors[:5]
        # Thousands of connections came and went: none is left open.
        time.sleep(0.5)
        fds = len(os.listdir(f"/proc/{srv.proc.pid}/fd"))
        assert fds < 100, f"{fds} file descriptors open after the clients left"
        assert counts.get(200, 0) > 40, counts
        status, text = srv.get("/api/streams/live/live.m3u8")[0::2]
        assert int(re.search(rb"MEDIA-SEQUENCE:(\d+)", text).group(1)) > seq0
        print(f"     answers while recording: {counts}; live view: {live_frames} frames in 2 s")
    finally:
        srv.stop()
        recorder.join()
    # No frame lost: what retention kept is one run of every frame up to the last.
    info = [s for s in json.loads(subprocess.run(
        [VDB, "info", store, "--json"], capture_output=True, text=True, env=ENV,
        check=True).stdout) if s["stream"] == "live"][0]
    assert len(info["ranges"]) == 1, info["ranges"]
    first_seg = subprocess.run([VDB, "info", store], capture_output=True, text=True, env=ENV)
    span = info["ranges"][0]["end_pts"] - info["ranges"][0]["start_pts"]
    assert info["ranges"][0]["end_pts"] >= 3600000 * SEC + (frames - 1) * SEC // 30, info
    video = [t for t in info["tracks"] if t["pad"] == "video"]
    assert video and info["segments"] < 24, info  # retention deleted the oldest
    print(f"     kept {info['segments']} segments, {span / SEC:.2f} s, ending with frame {frames}")


def main():
    for tool in ("ffprobe", "ffmpeg"):
        if not shutil.which(tool):
            skip(f"{tool} not installed (Debian package ffmpeg)")
    if "no GStreamer" in subprocess.run([VDB, "serve", "/nonexistent"], capture_output=True, text=True).stderr:
        skip("vdb was built without libsoup-3 (libsoup-3.0-dev)")
    work = tempfile.mkdtemp()
    store = os.path.join(work, "store")
    failed = 0
    try:
        h264 = "x264enc key-int-max=30 bframes=2 speed-preset=ultrafast ! h264parse ! " \
               "video/x-h264,stream-format=avc"
        # Live, so that wall-clock time passes as recorded: then a gap.
        record(store, "cam", h264, "avenc_aac", live=True)
        time.sleep(1.5)
        record(store, "cam", h264, "avenc_aac", live=True)
        record(store, "vp9", "vp9enc deadline=1 cpu-used=8 keyframe-max-dist=30", "opusenc",
               frames=90)
        srv = Server(store, "--max-range", f"{MAX_RANGE_S}s")
        tests = [(n, f) for n, f in globals().items() if n.startswith("test_") and
                 f.__code__.co_argcount == 2]
        try:
            for name, fn in tests:
                try:
                    fn(srv, store)
                    print("ok   " + name)
                except Exception as e:  # noqa: BLE001 - report and go on
                    failed += 1
                    print(f"FAIL {name}: {e!r}\n" + traceback.format_exc(limit=-1))
        finally:
            srv.stop()
        try:
            test_live_playlist_and_20_clients_while_recording_with_retention(store)
            print("ok   test_live_playlist_and_20_clients_while_recording_with_retention")
        except Exception as e:  # noqa: BLE001
            failed += 1
            print(f"FAIL test_live_playlist_and_20_clients_while_recording_with_retention: {e!r}")
    finally:
        if not os.environ.get("KEEP"):
            shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
