#!/usr/bin/python3
"""The web page of `vdb serve`, in a real browser (headless Chromium).

    /usr/bin/python3 tests/serve/browser_test.py --vdb BUILD/tools/vdb --store STORE --stream cam

STORE holds at least ~10 s of H.264 in the stream (a finished recording). The
test starts `vdb serve STORE --listen 127.0.0.1:PORT` and headless Chromium,
drives Chromium over the DevTools protocol (websocket-client) and checks that
the page (web/) shows the stream's recorded ranges on its timeline; that a
click on the timeline plays the recording through Media Source Extensions (the
time advances from the clicked wall-clock time, frames are decoded and
presented, the picture is not uniform in a canvas nor in a screenshot); that
hovering shows a thumbnail of that moment; that a drag offers the selection's
MP4 export and plays from its start; and that an API error is shown with its
message. It prints what it measured.

Exit status: 0 passed, 1 failed (with the reason), 77 Chromium could not start.
"""

import argparse
import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

TOTAL_TIMEOUT = 240  # seconds for the whole test, after which it kills everything


class Failure(Exception):
    pass


class Skip(Exception):
    pass


def log(msg):
    print(msg, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def stop_process(proc, name):
    """Ends a process started in its own session, and its children."""
    if proc is None or proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue
    log(f'warning: {name} (pid {proc.pid}) did not exit')


def http_get(url, headers=None, timeout=10):
    """(status, headers, body) of a GET; error statuses are returned, not raised."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


class Cdp:
    """A minimal DevTools protocol client over one websocket (flattened sessions)."""

    def __init__(self, url):
        import websocket  # python3-websocket (websocket-client)
        self.ws = websocket.create_connection(url, timeout=10, suppress_origin=True)
        self.next_id = 0
        self.session = None
        self.console = []  # the page's console messages and exceptions, for failures

    def call(self, method, params=None, timeout=30, session=True):
        self.next_id += 1
        msg = {'id': self.next_id, 'method': method, 'params': params or {}}
        if session and self.session:
            msg['sessionId'] = self.session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            reply = json.loads(self.ws.recv())
            if reply.get('id') == self.next_id:
                if 'error' in reply:
                    raise Failure(f'DevTools {method}: {reply["error"]}')
                return reply.get('result', {})
            self.event(reply)
        raise Failure(f'DevTools {method}: no answer in {timeout} s')

    def event(self, msg):
        method, p = msg.get('method'), msg.get('params', {})
        if method == 'Runtime.consoleAPICalled':
            text = ' '.join(str(a.get('value', a.get('description', ''))) for a in p.get('args', []))
            self.console.append(f'console.{p.get("type")}: {text}')
        elif method == 'Runtime.exceptionThrown':
            d = p.get('exceptionDetails', {})
            self.console.append(f'exception: {d.get("exception", {}).get("description") or d.get("text")}')

    def eval(self, expr, timeout=30):
        """The value of a JavaScript expression (promises awaited)."""
        r = self.call('Runtime.evaluate', {'expression': expr, 'returnByValue': True,
                                           'awaitPromise': True}, timeout=timeout)
        if 'exceptionDetails' in r:
            d = r['exceptionDetails']
            raise Failure(f'JavaScript error in {expr[:80]!r}: '
                          f'{d.get("exception", {}).get("description") or d.get("text")}')
        return r['result'].get('value')

    def mouse(self, kind, x, y, buttons=0):
        p = {'type': kind, 'x': x, 'y': y, 'button': 'left' if kind != 'mouseMoved' else 'none',
             'buttons': buttons, 'clickCount': 1 if kind != 'mouseMoved' else 0}
        if kind == 'mouseMoved' and buttons:
            p['button'] = 'left'
        self.call('Input.dispatchMouseEvent', p)

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass


def start_chromium(chromium, profile):
    """Starts headless Chromium; returns (process, DevTools websocket URL). Raises Skip."""
    exe = shutil.which(chromium)
    if not exe:
        raise Skip(f'{chromium} not found')
    cmd = [exe, '--headless=new', '--no-sandbox', '--disable-gpu', '--remote-debugging-port=0',
           f'--user-data-dir={profile}', '--autoplay-policy=no-user-gesture-required',
           '--no-first-run', '--no-default-browser-check', '--mute-audio',
           '--window-size=1280,1000', 'about:blank']
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    found, lines = [], []
    ready = threading.Event()

    def drain():  # read stderr to its end, so Chromium never blocks on it
        for raw in proc.stderr:
            line = raw.decode(errors='replace').rstrip()
            lines.append(line)
            del lines[:-30]
            m = re.search(r'DevTools listening on (ws://\S+)', line)
            if m and not found:
                found.append(m.group(1))
                ready.set()
        ready.set()

    threading.Thread(target=drain, daemon=True).start()
    ready.wait(30)
    if not found:
        stop_process(proc, 'chromium')
        tail = '\n  '.join(lines[-10:])
        raise Skip(f'chromium did not start (exit status {proc.poll()}):\n  {tail}')
    return proc, found[0]


def start_server(vdb, store, port, logfile):
    env = dict(os.environ)
    gst = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(vdb))), 'gst')
    if os.path.isdir(gst):  # the build tree's plugin (vdbsrc), as the other tests use it
        env['GST_PLUGIN_PATH'] = gst + (os.pathsep + env['GST_PLUGIN_PATH'] if env.get('GST_PLUGIN_PATH') else '')
    proc = subprocess.Popen([vdb, 'serve', store, '--listen', f'127.0.0.1:{port}'],
                            stdin=subprocess.DEVNULL, stdout=logfile, stderr=subprocess.STDOUT,
                            env=env, start_new_session=True)
    base = f'http://127.0.0.1:{port}'
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise Failure(f'vdb serve exited with status {proc.returncode}')
        try:
            status, _, _ = http_get(base + '/', timeout=2)
            if status == 200:
                return proc, base
        except OSError:
            pass
        time.sleep(0.2)
    raise Failure('vdb serve did not answer GET / in 30 s')


def png_size(data):
    if data[:8] != b'\x89PNG\r\n\x1a\n' or data[12:16] != b'IHDR':
        raise Failure('the screenshot is not a PNG')
    return int.from_bytes(data[16:20], 'big'), int.from_bytes(data[20:24], 'big')


def gray_variance(png_path, rect):
    """Variance of the gray pixels of rect (x, y, w, h) of a PNG, decoded by ffmpeg."""
    x, y, w, h = rect
    out = subprocess.run(['ffmpeg', '-nostdin', '-loglevel', 'error', '-i', png_path,
                          '-vf', f'crop={w}:{h}:{x}:{y}', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'],
                         capture_output=True, timeout=30)
    if out.returncode != 0 or len(out.stdout) != w * h:
        raise Failure(f'ffmpeg could not crop the screenshot: {out.stderr.decode(errors="replace")}')
    px = out.stdout
    mean = sum(px) / len(px)
    return sum((p - mean) ** 2 for p in px) / len(px)


# JavaScript run in the page.
JS_RANGES = '''(() => [...document.querySelectorAll('.timeline[data-stream=' + JSON.stringify(%s) + '] .range')]
  .map((e) => { const r = e.getBoundingClientRect();
    return {start: e.dataset.start, end: e.dataset.end, x: r.left, y: r.top, w: r.width, h: r.height}; }))()'''
JS_VIDEO = '''(() => { const v = document.getElementById('video'), q = v.getVideoPlaybackQuality(), b = [];
  for (let i = 0; i < v.buffered.length; i++) b.push([v.buffered.start(i), v.buffered.end(i)]);
  return Object.assign(vdbPage.state(), {decoded: q.totalVideoFrames, dropped: q.droppedVideoFrames,
    width: v.videoWidth, height: v.videoHeight, readyState: v.readyState, seeking: v.seeking, buffered: b,
    mediaError: v.error && v.error.message}); })()'''
JS_CANVAS = '''(() => { const v = document.getElementById('video');
  const c = document.createElement('canvas'); c.width = v.videoWidth; c.height = v.videoHeight;
  const g = c.getContext('2d'); g.drawImage(v, 0, 0); const d = g.getImageData(0, 0, c.width, c.height).data;
  let n = 0, s = 0, s2 = 0;
  for (let i = 0; i < d.length; i += 4) { const y = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2]; n++; s += y; s2 += y * y; }
  return {pixels: n, mean: s / n, variance: s2 / n - (s / n) * (s / n)}; })()'''
JS_RECT = '''(() => { const r = document.querySelector(%s).getBoundingClientRect();
  return {x: r.left, y: r.top, w: r.width, h: r.height}; })()'''


def poll(what, fn, timeout, interval=0.25):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Failure(f'{what}: not within {timeout} s')
        time.sleep(interval)


class Page:
    """The page in Chromium, and what the checks share."""

    def __init__(self, cdp, base, stream, info):
        self.cdp, self.base, self.stream, self.info = cdp, base, stream, info
        self.stream_js = json.dumps(stream)

    def eval(self, expr, timeout=30):
        return self.cdp.eval(expr, timeout)

    def timeline_blocks(self):
        """The range blocks of the stream's timeline (scrolled into view), the first first."""
        self.eval(f'document.querySelector(".timeline[data-stream=" + JSON.stringify({self.stream_js}) + "]")'
                  '.scrollIntoView({block: "center"})')
        return sorted(self.eval(JS_RANGES % self.stream_js), key=lambda b: int(b['start']))

    def video_state(self):
        st = self.eval(JS_VIDEO)
        if st.get('error') or st.get('mediaError'):
            raise Failure(f'the page shows an error: {st.get("error") or st.get("mediaError")}')
        return st


def check_timeline(page, ranges):
    """The stream's timeline shows the ranges of /api/streams (the whole recording by default)."""
    blocks = page.timeline_blocks()
    log(f'timeline: {len(blocks)} range blocks: ' +
        ', '.join(f'[{b["start"]}, {b["end"]}] at x={b["x"]:.0f} w={b["w"]:.0f}' for b in blocks[:5]))
    if not blocks:
        raise Failure(f'the timeline of {page.stream} shows no range')
    shown = set()
    for b in blocks:
        try:
            shown.add((int(b['start']), int(b['end'])))
        except (TypeError, ValueError):
            raise Failure(f'range block without numeric data-start/data-end: {b}')
    unknown = shown - ranges
    if unknown:
        raise Failure(f'range blocks not in /api/streams: {sorted(unknown)} (API: {sorted(ranges)})')
    if not page.info.get('live') and shown != ranges:
        raise Failure(f'the timeline lacks ranges of /api/streams: {sorted(ranges - shown)}')
    if blocks[0]['w'] < 8 or blocks[0]['h'] < 4:
        raise Failure(f'the first range block is too small to click: {blocks[0]}')


def check_click_plays(page):
    """A click at the centre-left of the first range plays from there: the time
    advances, frames are decoded and presented, the wall clock is the clicked one."""
    first = page.timeline_blocks()[0]
    r0, r1 = int(first['start']), int(first['end'])
    x, y = first['x'] + first['w'] * 0.25, first['y'] + first['h'] / 2
    clicked = r0 + (r1 - r0) // 4
    log(f'click at ({x:.0f}, {y:.0f}): {clicked}')
    page.cdp.mouse('mouseMoved', x, y)
    page.cdp.mouse('mousePressed', x, y, buttons=1)
    page.cdp.mouse('mouseReleased', x, y)
    started = {}

    def playing():
        st = page.video_state()
        if ('ct0' not in started and st['readyState'] >= 3 and not st['seeking'] and st['decoded'] > 0 and
                st['wall_utc']):  # playing, from where the page put the playhead
            started.update(ct0=st['currentTime'], decoded0=st['decoded'], wall0=st['wall_utc'])
        started['last'] = st
        return ('ct0' in started and st['currentTime'] - started['ct0'] > 1 and
                st['decoded'] - started['decoded0'] >= 10 and st['width'] > 0 and st)
    try:
        st = poll('playback (currentTime advancing > 1 s with decoded frames)', playing, 20)
    except Failure as e:
        raise Failure(f'{e}; last state: {started.get("last")}')
    log(f'playing: stream={st["playing_stream"]} currentTime {started["ct0"]:.3f} -> {st["currentTime"]:.3f} s '
        f'(wall clock {started["wall0"]} -> {st["wall_utc"]}), '
        f'{st["width"]}x{st["height"]}, decoded {st["decoded"]} frames (dropped {st["dropped"]}), '
        f'presented {st["frames"]}, buffered {st["buffered"]}, X-Vdb-Start {st["start_utc"]}')
    if st['playing_stream'] != page.stream:
        raise Failure(f'playing {st["playing_stream"]!r}, not {page.stream!r}')
    if not st['start_utc'] or not (r0 - 10**9 <= int(st['start_utc']) <= r1):
        raise Failure(f'X-Vdb-Start {st["start_utc"]} is not in the clicked range [{r0}, {r1}]')
    if abs(int(st['start_utc']) - clicked) > 10 * 10**9:
        raise Failure(f'playback starts at {st["start_utc"]}, more than 10 s from the click ({clicked})')
    if abs(int(started['wall0']) - clicked) > 2 * 10**9:
        raise Failure(f'the page shows {started["wall0"]} at the start, not the clicked time ({clicked})')
    if st['frames'] == 0:
        raise Failure('no frame was presented (requestVideoFrameCallback)')


def check_picture(page, tmp):
    """The picture is drawn and not uniform: in a canvas, and in a screenshot."""
    canvas = page.eval(JS_CANVAS)
    log(f'canvas drawImage(video): {canvas["pixels"]} pixels, mean {canvas["mean"]:.1f}, '
        f'variance {canvas["variance"]:.1f}')
    if canvas['variance'] < 20:
        raise Failure(f'the video frame is uniform (variance {canvas["variance"]:.1f})')
    page.eval('window.scrollTo(0, 0)')
    time.sleep(0.3)
    rect = page.eval(JS_RECT % json.dumps('#video'))
    shot = base64.b64decode(page.cdp.call('Page.captureScreenshot', {'format': 'png'})['data'])
    shot_path = os.path.join(tmp, 'shot.png')
    with open(shot_path, 'wb') as f:
        f.write(shot)
    w, h = png_size(shot)
    x, y = max(0, int(rect['x'])), max(0, int(rect['y']))
    crop = (x, y, min(int(rect['w']), w - x) // 2 * 2, min(int(rect['h']), h - y) // 2 * 2)
    if crop[2] < 16 or crop[3] < 16:
        raise Failure(f'the video element is not on screen: {rect} in a {w}x{h} screenshot')
    if not shutil.which('ffmpeg'):
        log(f'screenshot: {len(shot)} bytes PNG {w}x{h} (no ffmpeg to decode it)')
        return
    var = gray_variance(shot_path, crop)
    log(f'screenshot: {len(shot)} bytes PNG {w}x{h}; video element {crop}: gray variance {var:.1f}')
    if var < 20:
        raise Failure(f'the video element is uniform in the screenshot (variance {var:.1f})')


def check_thumbnail(page):
    """Hovering over the middle of the first range shows a 160 px thumbnail of that moment."""
    first = page.timeline_blocks()[0]
    r0, r1 = int(first['start']), int(first['end'])
    want, tolerance = r0 + (r1 - r0) // 2, max((r1 - r0) // 20, int(3 * (r1 - r0) / first['w']))
    page.cdp.mouse('mouseMoved', first['x'] + first['w'] * 0.5, first['y'] + first['h'] / 2)

    def thumbnail():  # the image of the hovered moment, loaded
        t = page.eval('(() => { const i = document.getElementById("thumb");'
                      ' return !i.hidden && i.complete && i.naturalWidth > 0 && {src: i.getAttribute("src"),'
                      ' w: i.naturalWidth, h: i.naturalHeight}; })()')
        m = t and re.search(r'[?&]time=(\d+)', t['src'])
        return m and abs(int(m.group(1)) - want) < tolerance and t
    try:
        thumb = poll('a thumbnail of the hovered moment', thumbnail, 10)
    except Failure as e:
        img = page.eval('(() => { const i = document.getElementById("thumb"); return {src: i.getAttribute("src"), '
                        'hidden: i.hidden, complete: i.complete, w: i.naturalWidth}; })()')
        status, headers, body = http_get(page.base + img['src'], timeout=30) if img['src'] else (None, {}, b'')
        raise Failure(f'{e}; the image: {img}; GET it: {status} {headers.get("Content-Type")} {len(body)} bytes')
    log(f'thumbnail: {thumb["src"]} {thumb["w"]}x{thumb["h"]}')
    if thumb['w'] != 160:
        raise Failure(f'the thumbnail is {thumb["w"]} wide, not 160')


def check_selection(page):
    """A drag over [30 %, 70 %] of the first range offers that range's MP4
    export (the link answers with an MP4) and plays from its start."""
    first = page.timeline_blocks()[0]
    r0, r1 = int(first['start']), int(first['end'])
    span, y = r1 - r0, first['y'] + first['h'] / 2
    tolerance = max(span // 20, int(3 * span / first['w']))
    xa, xb = first['x'] + first['w'] * 0.3, first['x'] + first['w'] * 0.7
    page.cdp.mouse('mousePressed', xa, y, buttons=1)
    for i in range(1, 6):
        page.cdp.mouse('mouseMoved', xa + (xb - xa) * i / 5, y, buttons=1)
    page.cdp.mouse('mouseReleased', xb, y)
    href = poll('the "Export selection" link', lambda: page.eval(
        f'(() => {{ const a = document.querySelector(".stream:has(.timeline[data-stream=" + '
        f'JSON.stringify({page.stream_js}) + "]) a.export"); return a && a.getAttribute("href"); }})()'), 5)
    m = re.search(r'[?&]start=(\d+)&end=(\d+)&download=1', href)
    if not m:
        raise Failure(f'the export link has no start, end and download=1: {href}')
    a, b = int(m.group(1)), int(m.group(2))
    if abs(a - (r0 + span * 3 // 10)) > tolerance or abs(b - (r0 + span * 7 // 10)) > tolerance:
        raise Failure(f'the selection [{a}, {b}] is not the dragged [30 %, 70 %] of [{r0}, {r1}]')
    status, headers, body = http_get(page.base + href, headers={'Range': 'bytes=0-15'}, timeout=60)
    log(f'export link: {href} -> {status} {headers.get("Content-Type")} {headers.get("Content-Range")} {body[4:8]!r}')
    if status not in (200, 206) or body[4:8] != b'ftyp':
        raise Failure(f'GET {href}: {status} {body[:200]!r}')

    def selection_playing():
        s = page.video_state()
        return s['requested_utc'] == str(a) and s['start_utc'] and s['decoded'] > 0 and s
    sel = poll('playback from the selection\'s start', selection_playing, 10)
    log(f'the selection plays: requested {sel["requested_utc"]}, X-Vdb-Start {sel["start_utc"]}, '
        f'currentTime {sel["currentTime"]:.3f} s')
    if not (a - 10 * 10**9 <= int(sel['start_utc']) <= a + 10**9):
        raise Failure(f'the selection plays from {sel["start_utc"]}, not near its start {a}')


def check_error_shown(page):
    """An API error (playing an hour after the recording's end) is shown with its message."""
    t = int(page.info['end_ns']) + 3600 * 10**9
    status, _, body = http_get(f'{page.base}/api/streams/{page.stream}/video.fmp4?start={t}')
    if status < 400:
        log(f'error display: not checked (video.fmp4 an hour after the end answers {status})')
        return
    message = json.loads(body)['error']
    page.eval(f'void vdbPage.playAt({page.stream_js}, {json.dumps(str(t))})')
    shown = poll('the error message on the page', lambda: page.eval(
        '(() => { const e = document.getElementById("error"); return !e.hidden && e.textContent; })()'), 10)
    log(f'error display: {status} {message!r} -> the page shows {shown!r}')
    if message not in shown or page.eval('vdbPage.state().error') != shown:
        raise Failure(f'the page shows {shown!r} for the error {message!r}')


def run(args, tmp, procs):
    port = free_port()
    server_log = open(os.path.join(tmp, 'serve.log'), 'w+b')
    procs['server_log'] = server_log
    procs['server'], base = start_server(args.vdb, args.store, port, server_log)
    log(f'vdb serve: {base}')

    status, _, body = http_get(f'{base}/api/streams')
    if status != 200:
        raise Failure(f'GET /api/streams: {status} {body[:300]!r}')
    streams = json.loads(body)
    info = next((s for s in streams if s.get('stream') == args.stream), None)
    if not info:
        raise Failure(f'GET /api/streams has no stream {args.stream!r}: {[s.get("stream") for s in streams]}')
    ranges = {(r['start_ns'], r['end_ns']) for r in info.get('ranges', [])}
    log(f'/api/streams: {args.stream} live={info.get("live")} mime={info.get("mime")} '
        f'ranges={len(ranges)} {info.get("start")} .. {info.get("end")}')
    if not ranges:
        raise Failure(f'/api/streams: {args.stream} has no ranges')

    procs['chromium'], ws_url = start_chromium(args.chromium, os.path.join(tmp, 'profile'))
    log(f'chromium: {ws_url}')
    cdp = procs['cdp'] = Cdp(ws_url)
    target = cdp.call('Target.createTarget', {'url': 'about:blank'})['targetId']
    cdp.session = cdp.call('Target.attachToTarget', {'targetId': target, 'flatten': True})['sessionId']
    for method in ('Page.enable', 'Runtime.enable'):
        cdp.call(method)
    cdp.call('Emulation.setDeviceMetricsOverride', {'width': 1280, 'height': 1000,
                                                    'deviceScaleFactor': 1, 'mobile': False})
    supported = cdp.eval(f'MediaSource.isTypeSupported({json.dumps(info.get("mime", ""))})')
    log(f'MediaSource.isTypeSupported({info.get("mime")!r}): {supported}')
    if not supported:
        raise Failure(f'Chromium cannot play {info.get("mime")!r} (MediaSource.isTypeSupported is false)')

    nav = cdp.call('Page.navigate', {'url': base + '/'})
    if nav.get('errorText'):
        raise Failure(f'Chromium could not load {base}/: {nav["errorText"]}')
    try:
        poll('vdbPage.ready', lambda: cdp.eval('!!(window.vdbPage && vdbPage.ready)'), 30)
    except Failure as e:
        state = cdp.eval('({url: location.href, readyState: document.readyState, vdbPage: !!window.vdbPage, '
                         'status: (document.getElementById("status") || {}).textContent, '
                         'error: (document.getElementById("error") || {}).textContent})')
        raise Failure(f'{e}; the page: {state}')

    page = Page(cdp, base, args.stream, info)
    check_timeline(page, ranges)
    check_click_plays(page)
    check_picture(page, tmp)
    check_thumbnail(page)
    check_selection(page)
    if not info.get('live'):
        check_error_shown(page)


def save_screenshot(cdp, path):
    try:
        cdp.eval('window.scrollTo(0, 0)')
        shot = cdp.call('Page.captureScreenshot', {'format': 'png'}, timeout=10)
        with open(path, 'wb') as f:
            f.write(base64.b64decode(shot['data']))
        log(f'saved {path}')
    except Exception as e:
        log(f'no screenshot: {e}')


def show_logs(procs):
    """The page's console and the server's output, after a failure."""
    cdp = procs.get('cdp')
    if cdp and cdp.console:
        log('page console:\n  ' + '\n  '.join(cdp.console[-20:]))
    f = procs.get('server_log')
    if f:
        f.seek(0)
        tail = f.read().decode(errors='replace').splitlines()[-20:]
        if tail:
            log('vdb serve log:\n  ' + '\n  '.join(tail))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--vdb', required=True, help='the vdb binary (BUILD/tools/vdb)')
    ap.add_argument('--store', required=True)
    ap.add_argument('--stream', default='cam')
    ap.add_argument('--chromium', default='chromium')
    ap.add_argument('--screenshot', metavar='PNG', help='save a screenshot of the page at the end (or at a failure)')
    args = ap.parse_args()

    procs = {}
    tmp = tempfile.mkdtemp(prefix='vdb-browser-test-')

    def cleanup():
        cdp = procs.pop('cdp', None)
        if cdp:
            cdp.close()
        stop_process(procs.pop('chromium', None), 'chromium')
        stop_process(procs.pop('server', None), 'vdb serve')
        if procs.get('server_log'):
            procs.pop('server_log').close()
        shutil.rmtree(tmp, ignore_errors=True)

    def watchdog():
        log(f'FAIL: the test took more than {TOTAL_TIMEOUT} s')
        cleanup()
        os._exit(1)

    timer = threading.Timer(TOTAL_TIMEOUT, watchdog)
    timer.daemon = True
    timer.start()

    def terminated(*_):
        raise Failure('terminated (SIGTERM)')
    signal.signal(signal.SIGTERM, terminated)

    code = 1
    try:
        try:
            run(args, tmp, procs)
        finally:
            if args.screenshot and procs.get('cdp') and procs['cdp'].session:
                save_screenshot(procs['cdp'], args.screenshot)
        log('PASS')
        code = 0
    except Skip as e:
        log(f'SKIP: {e}')
        code = 77
    except Failure as e:
        log(f'FAIL: {e}')
    except ImportError as e:
        log(f'FAIL: {e} (install python3-websocket and run with /usr/bin/python3)')
    except Exception as e:  # a bug, a dropped connection...
        log(f'FAIL: {type(e).__name__}: {e}')
    except KeyboardInterrupt:
        log('FAIL: interrupted')
    finally:  # also at Ctrl-C and SIGTERM
        if code == 1:
            show_logs(procs)
        timer.cancel()
        cleanup()
    return code

if __name__ == '__main__':
    sys.exit(main())
