// vdb web page: the streams of a store, a timeline per stream, and playback of
// /api/streams/S/video.fmp4 through Media Source Extensions. No libraries.
'use strict';

const BEHIND_S = 60;  // media kept buffered behind the playhead (seconds)
const AHEAD_S = 30;   // the download pauses when this much is buffered ahead
const ZOOMS = [['Last hour', 3600e3], ['Day', 86400e3], ['7 days', 7 * 86400e3], ['All', 0]];
const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
  43200, 86400, 172800, 604800, 2592000].map((s) => s * 1000);  // axis label steps (ms)

const $ = (id) => document.getElementById(id);
const video = $('video');
const streams = new Map();  // name -> {name, info, view, sel, elements...}
let player = null;          // {stream, live, startNs, base, abort, sb}
let lastError = null;
let frames = 0;             // frames presented (requestVideoFrameCallback)
let ownSeek = false;        // the next 'seeking' is the page's own
let listText = '';

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
}

function showError(msg) {
  lastError = msg || null;
  $('error').textContent = msg || '';
  $('error').hidden = !msg;
}

// Times: the API's *_ns numbers exceed 2^53, so they are kept exact as
// strings (BigInt for arithmetic); layout uses milliseconds as Numbers.
const parseJson = (text) => JSON.parse(text.replace(/("\w*_ns"\s*:\s*)(-?\d+)/g, '$1"$2"'));
const nsToMs = (ns) => Number(BigInt(ns) / 1000n) / 1000;
const msToNs = (ms) => BigInt(Math.round(ms * 1000)) * 1000n;
const pad2 = (n) => String(n).padStart(2, '0');
const hms = (d) => `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
const ymd = (d) => `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
const fmtTime = (ms) => { const d = new Date(ms); return `${ymd(d)} ${hms(d)}`; };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const streamUrl = (name, rest) => `/api/streams/${encodeURIComponent(name)}/${rest}`;

const fmtDuration = (ms) => (ms < 120e3 ? `${Math.round(ms / 1e3)} s` : ms < 7200e3 ?
  `${Math.round(ms / 60e3)} min` : ms < 172800e3 ? `${(ms / 3600e3).toFixed(1)} h` : `${(ms / 86400e3).toFixed(1)} days`);
const fmtBytes = (n) => { const i = Math.min(4, Math.floor(Math.log10(Math.max(1, n)) / 3));
  return `${(n / 1000 ** i).toFixed(i ? 1 : 0)} ${['B', 'kB', 'MB', 'GB', 'TB'][i]}`; };

// The message of an error response ({"error": "...", "status": N}, or anything else).
async function errorText(r) {
  const t = await r.text().catch(() => '');
  try {
    const j = JSON.parse(t);
    if (j && j.error) return `${j.error} (HTTP ${j.status || r.status})`;
  } catch (_) { /* not JSON */ }
  return `HTTP ${r.status} ${r.statusText}${t ? ': ' + t.slice(0, 200) : ''}`;
}

// ---- stream list ----

async function loadStreams() {
  try {
    const r = await fetch('/api/streams');
    if (!r.ok) throw new Error(await errorText(r));
    const text = await r.text();
    if (text !== listText) {
      listText = text;
      const list = parseJson(text);
      const names = new Set(list.map((i) => i.stream));
      for (const [name, s] of streams) if (!names.has(name)) { s.card.remove(); streams.delete(name); }
      for (const info of list) renderStream(info);
      $('status').textContent = list.length ? `${list.length} stream${list.length > 1 ? 's' : ''}` :
        'no streams in this store';
    }
    vdbPage.ready = true;
  } catch (e) {
    showError(`loading the streams: ${e.message}`);
  }
}

function renderStream(info) {
  let s = streams.get(info.stream);
  if (!s) {
    s = { name: info.stream, view: null, sel: null, card: el('section', 'stream') };
    const head = el('div', 'head');
    s.badge = el('span', 'badge', 'live');
    s.tracks = el('span', 'tracks');
    s.summary = el('div', 'summary');
    head.append(el('h2', null, info.stream), s.badge, s.tracks);
    const tools = el('div', 'tools');
    s.liveBtn = el('button', 'live-btn', 'Live');
    s.liveBtn.onclick = () => playLive(s.name);
    tools.append(s.liveBtn);
    for (const [label, span] of ZOOMS) {
      const b = el('button', 'zoom', label);
      b.onclick = () => { s.view = span ? { span } : null; draw(s); };
      tools.append(b);
    }
    s.tl = el('div', 'timeline');
    s.tl.dataset.stream = info.stream;
    s.ranges = el('div', 'ranges');
    s.selBox = el('div', 'selection');
    s.playhead = el('div', 'playhead');
    s.tl.append(s.ranges, s.selBox, s.playhead);
    s.axis = el('div', 'axis');
    s.selInfo = el('div', 'selinfo');
    s.card.append(head, s.summary, tools, s.tl, s.axis, s.selInfo);
    $('streams').append(s.card);
    attachTimeline(s);
    streams.set(info.stream, s);
  }
  s.info = info;
  s.badge.hidden = s.liveBtn.hidden = !info.live;
  s.tracks.replaceChildren(...(info.tracks || []).map((t) => {
    const e = el('span', 'track', `${t.pad} ${t.codec}`);
    e.title = t.caps || '';
    return e;
  }));
  const n = (k, what) => `${k} ${what}${k === 1 ? '' : 's'}`;
  s.summary.textContent = !info.start_ns ? 'no recording' :
    `${fmtTime(nsToMs(info.start_ns))} – ${fmtTime(nsToMs(info.end_ns))} · ` +
    `${n((info.ranges || []).length, 'range')}, ${n((info.gaps || []).length, 'gap')} · ` +
    `${n(info.segments, 'segment')} · ${fmtBytes(info.bytes || 0)}`;
  draw(s);
}

// ---- timeline ----

// The visible window [from, to] in ms: the whole recording, its last `span`
// ms (following a live recording), or an explicit window (wheel zoom).
function windowOf(s) {
  if (!s.info.start_ns) return [Date.now() - 3600e3, Date.now()];
  let a = nsToMs(s.info.start_ns), b = nsToMs(s.info.end_ns);
  if (s.view && s.view.span) a = b - s.view.span;
  else if (s.view) [a, b] = [s.view.from, s.view.to];
  if (b - a < 1000) [a, b] = [(a + b) / 2 - 500, (a + b) / 2 + 500];
  return [a, b];
}

function timeAt(s, clientX) {
  const r = s.tl.getBoundingClientRect(), [a, b] = windowOf(s);
  return a + (b - a) * Math.min(1, Math.max(0, (clientX - r.left) / r.width));
}

function draw(s) {
  const [a, b] = windowOf(s);
  const pct = (ms) => (ms - a) / (b - a) * 100;
  s.ranges.replaceChildren();
  for (const r of s.info.ranges || []) {
    const r0 = nsToMs(r.start_ns), r1 = nsToMs(r.end_ns);
    if (r1 < a || r0 > b) continue;
    const d = el('div', 'range');
    d.dataset.start = r.start_ns;
    d.dataset.end = r.end_ns;
    const left = Math.max(0, pct(r0));
    d.style.left = `${left}%`;
    d.style.width = `${Math.min(100, pct(r1)) - left}%`;
    d.title = `${fmtTime(r0)} – ${fmtTime(r1)} (${fmtDuration(r1 - r0)}, ${r.segments} segments)`;
    s.ranges.append(d);
  }
  drawAxis(s, a, b);
  drawSelection(s);
  drawPlayhead();
}

// Labels in local time, at round local times, about one per 90 px.
function drawAxis(s, a, b) {
  const width = s.tl.clientWidth || 800;
  const step = STEPS.find((st) => (b - a) / st <= width / 90) || STEPS[STEPS.length - 1];
  const tz = new Date(a).getTimezoneOffset() * 60000;
  s.axis.replaceChildren();
  for (let t = Math.ceil((a - tz) / step) * step + tz; t <= b; t += step) {
    const d = new Date(t);
    const midnight = !d.getHours() && !d.getMinutes() && !d.getSeconds();
    let label = step < 60000 ? hms(d) : hms(d).slice(0, 5);
    if (step >= 86400000) label = ymd(d).slice(5);
    else if (midnight) label = `${ymd(d).slice(5)} ${label}`;
    const tick = el('span', 'tick', label);
    tick.style.left = `${(t - a) / (b - a) * 100}%`;
    s.axis.append(tick);
  }
}

function drawSelection(s) {
  s.selBox.hidden = !s.sel;
  s.selInfo.replaceChildren();
  if (!s.sel) return;
  const [a, b] = windowOf(s), [x, y] = s.sel;
  const l = Math.max(0, (x - a) / (b - a) * 100), r = Math.min(100, (y - a) / (b - a) * 100);
  s.selBox.style.left = `${l}%`;
  s.selBox.style.width = `${Math.max(0, r - l)}%`;
  const link = el('a', 'export', 'Export selection');
  link.href = streamUrl(s.name, `video.mp4?start=${msToNs(x)}&end=${msToNs(y)}&download=1`);
  link.download = `${s.name}-${ymd(new Date(x))}-${hms(new Date(x)).replace(/:/g, '')}.mp4`;
  const clear = el('button', 'clear', '×');
  clear.title = 'clear the selection';
  clear.onclick = () => { s.sel = null; drawSelection(s); };
  s.selInfo.append(`Selection ${fmtTime(x)} – ${hms(new Date(y))} (${fmtDuration(y - x)}) `, link, ' ', clear);
}

function drawPlayhead() {
  const w = wallMs();
  for (const s of streams.values()) {
    const [a, b] = windowOf(s);
    const x = w == null ? -1 : (w - a) / (b - a) * 100;
    s.playhead.hidden = !player || player.stream !== s.name || x < 0 || x > 100;
    s.playhead.style.left = `${x}%`;
  }
}

// Click: play from there. Drag: select [a, b], offer its export, play from a.
// Wheel: zoom around the pointer. Hover: a thumbnail of that moment.
function attachTimeline(s) {
  let drag = null;
  s.tl.addEventListener('mousedown', (ev) => {
    if (ev.button !== 0) return;
    ev.preventDefault();
    drag = { x: ev.clientX, t: timeAt(s, ev.clientX) };
  });
  window.addEventListener('mousemove', (ev) => {
    if (!drag || Math.abs(ev.clientX - drag.x) <= 3) return;
    const t = timeAt(s, ev.clientX);
    s.sel = [Math.min(drag.t, t), Math.max(drag.t, t)];
    drawSelection(s);
  });
  window.addEventListener('mouseup', (ev) => {
    if (!drag) return;
    const d = drag;
    drag = null;
    if (Math.abs(ev.clientX - d.x) <= 3) return playAt(s.name, msToNs(d.t));
    const t = timeAt(s, ev.clientX);
    s.sel = [Math.min(d.t, t), Math.max(d.t, t)];
    drawSelection(s);
    playAt(s.name, msToNs(s.sel[0]));
  });
  s.tl.addEventListener('wheel', (ev) => {
    ev.preventDefault();
    const t = timeAt(s, ev.clientX), [a, b] = windowOf(s), f = ev.deltaY > 0 ? 1.25 : 0.8;
    const span = Math.min(Math.max((b - a) * f, 1000), 3650 * 86400e3);
    const k = (t - a) / (b - a);
    s.view = { from: t - span * k, to: t + span * (1 - k) };
    draw(s);
  }, { passive: false });
  s.tl.addEventListener('mousemove', (ev) => hover(s, ev));
  s.tl.addEventListener('mouseleave', () => { clearTimeout(hoverTimer); $('tip').hidden = true; });
}

let hoverTimer = 0;
function hover(s, ev) {
  const t = timeAt(s, ev.clientX);
  const recorded = (s.info.ranges || []).some((r) => t >= nsToMs(r.start_ns) && t <= nsToMs(r.end_ns));
  const tip = $('tip'), img = $('thumb');
  tip.hidden = false;
  tip.style.left = `${ev.clientX}px`;
  tip.style.top = `${s.tl.getBoundingClientRect().top}px`;
  $('tip-time').textContent = fmtTime(t) + (recorded ? '' : ' · no recording');
  clearTimeout(hoverTimer);
  if (!recorded) { img.hidden = true; return; }
  hoverTimer = setTimeout(() => {
    img.onload = () => { img.hidden = false; };
    img.onerror = () => { img.hidden = true; };
    img.src = streamUrl(s.name, `thumbnail.jpg?time=${msToNs(t)}&width=160`);
  }, 150);
}

// ---- playback ----

// The wall-clock time (ms) of the frame on screen.
function wallMs() {
  if (!player || player.startNs == null || player.base == null) return null;
  return nsToMs(player.startNs) + (video.currentTime - player.base) * 1000;
}

const playAt = (name, utcNs) => play(name, `start=${BigInt(utcNs)}`, false, BigInt(utcNs));
const playLive = (name) => play(name, 'live=1', true, null);

function stop() {
  if (!player) return;
  player.abort.abort();
  player = null;
  video.removeAttribute('src');
  video.load();
}

// Resolves at the SourceBuffer's next updateend; rejects on its error.
function updated(sb) {
  return new Promise((resolve, reject) => {
    const done = (ev) => {
      sb.removeEventListener('updateend', done);
      sb.removeEventListener('error', done);
      ev.type === 'updateend' ? resolve() : reject(new Error('the browser could not decode the stream'));
    };
    sb.addEventListener('updateend', done);
    sb.addEventListener('error', done);
  });
}

// Drops what is more than `keep` seconds behind the playhead.
async function trim(p, keep) {
  if (p !== player) return;
  const b = p.sb.buffered, cut = video.currentTime - keep;
  if (b.length && b.start(0) < cut - 1) {
    p.sb.remove(0, cut);
    await updated(p.sb);
  }
}

async function append(p, chunk) {
  for (;;) {
    if (p !== player) throw new DOMException('replaced', 'AbortError');
    try {
      p.sb.appendBuffer(chunk);
      return await updated(p.sb);
    } catch (e) {
      if (e.name !== 'QuotaExceededError') throw e;
      await trim(p, 5);
      await sleep(1000);
    }
  }
}

async function play(name, query, live, requested) {
  const s = streams.get(name);
  stop();
  showError('');
  if (!s) return showError(`no stream ${name}`);
  const mime = s.info.mime;
  if (!window.MediaSource || !MediaSource.isTypeSupported(mime)) {
    return showError(`${name}: this browser cannot play ${mime}`);
  }
  const p = player = { stream: name, live, requested, startNs: null, base: null, abort: new AbortController() };
  drawPlayhead();
  $('now-stream').textContent = `${name}${live ? ' (live)' : ''}`;
  try {
    const ms = new MediaSource(), url = URL.createObjectURL(ms);
    video.src = url;
    await new Promise((r) => ms.addEventListener('sourceopen', r, { once: true }));
    URL.revokeObjectURL(url);
    if (p !== player) return;
    p.sb = ms.addSourceBuffer(mime);
    const r = await fetch(streamUrl(name, `video.fmp4?${query}`), { signal: p.abort.signal });
    if (!r.ok) throw new Error(await errorText(r));
    const start = r.headers.get('X-Vdb-Start');
    p.startNs = start ? BigInt(start) : null;
    const reader = r.body.getReader();
    p.abort.signal.addEventListener('abort', () => reader.cancel().catch(() => {}));
    for (;;) {
      // Backpressure: read on only when the buffer has room ahead.
      while (p === player && p.sb.buffered.length &&
             p.sb.buffered.end(p.sb.buffered.length - 1) - video.currentTime > AHEAD_S) await sleep(500);
      if (p !== player) return;
      const { value, done } = await reader.read();
      if (done) break;
      await append(p, value);
      if (p !== player) return;
      const b = p.sb.buffered;
      if (p.base == null && b.length) {
        // The first frame (a keyframe at or before the time asked for) is
        // where the media timeline starts; show from the time asked for.
        p.base = b.start(0);
        const skip = requested != null && p.startNs != null ? Number(requested - p.startNs) / 1e9 : 0;
        seek(p.base + Math.max(0, skip));
        video.play().catch(() => {});
      }
      if (live && b.length && b.end(b.length - 1) - video.currentTime > 4) {
        seek(b.end(b.length - 1) - 1);  // stay near the live edge
      }
      await trim(p, BEHIND_S);
    }
    if (p === player && ms.readyState === 'open') ms.endOfStream();
  } catch (e) {
    if (p === player && e.name !== 'AbortError') showError(`${name}: ${e.message}`);
  }
}

function seek(t) {
  ownSeek = true;
  video.currentTime = t;
}

// A seek with the video's own controls before what is buffered, or well
// past it, fetches from there.
video.addEventListener('seeking', () => {
  const p = player, w = wallMs(), b = video.buffered, t = video.currentTime;
  if (ownSeek || !p || p.live || w == null || !b.length) return void (ownSeek = false);
  if (t < b.start(0) - 0.1 || t > b.end(b.length - 1) + 5) playAt(p.stream, msToNs(w));
});

video.addEventListener('error', () => {
  if (player && video.error) showError(`${player.stream}: ${video.error.message || 'the video could not be played'}`);
});

function tick() {
  // Stalled before a hole in the buffered media (a gap in the recording): jump it.
  const b = video.buffered, t = video.currentTime;
  if (player && !video.paused && video.readyState < 3) {
    for (let i = 0; i < b.length; i++) if (b.start(i) > t) { seek(b.start(i)); break; }
  }
  const w = wallMs();
  $('now-time').textContent = w == null ? '' : fmtTime(w) + `.${String(Math.floor(w % 1000)).padStart(3, '0')}`;
  drawPlayhead();
}

const countFrames = () => video.requestVideoFrameCallback(() => { frames++; countFrames(); });

// For tests (tests/serve/browser_test.py) and the console.
window.vdbPage = {
  ready: false, playAt, playLive, stop,
  state: () => ({
    playing_stream: player ? player.stream : null,
    live: !!(player && player.live),
    currentTime: video.currentTime,
    requested_utc: player && player.requested != null ? player.requested.toString() : null,
    start_utc: player && player.startNs != null ? player.startNs.toString() : null,
    wall_utc: wallMs() == null ? null : msToNs(wallMs()).toString(),
    paused: video.paused,
    frames,
    error: lastError,
  }),
};

if ('requestVideoFrameCallback' in HTMLVideoElement.prototype) countFrames();
setInterval(tick, 250);
setInterval(loadStreams, 10000);
window.addEventListener('resize', () => streams.forEach(draw));
loadStreams();
