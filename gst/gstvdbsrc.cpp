/**
 * SECTION:element-vdbsrc
 * @title: vdbsrc
 *
 * Plays one stream of a vdb store as one seekable stream in TIME, with the
 * timestamps and caps it was recorded with. Opening reads only the store's
 * catalog; segments are loaded as playback reaches them. Seeks may be
 * flushing or not, KEY_UNIT (with SNAP_BEFORE / SNAP_AFTER / SNAP_NEAREST),
 * ACCURATE (decoding starts at the previous keyframe, the segment starts at
 * the target), SEGMENT, TRICKMODE_KEY_UNITS (keyframes only) and reverse.
 * H.264 byte-stream keyframes are given their SPS/PPS after every seek, so a
 * decoder can start anywhere.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 vdbsrc location=/var/lib/vdb stream=cam1 ! decodebin ! autovideosink
 * gst-launch-1.0 vdbsrc location=store start-time=2026-11-23T10:00:00Z \
 *     stop-time=2026-11-23T10:05:00Z ! h264parse ! mp4mux ! filesink location=clip.mp4
 * gst-play-1.0 vdb:///var/lib/vdb?stream=cam1
 * ]|
 *
 * Action signals: `get-ranges` returns a #GstStructure with the recorded UTC
 * ranges; `utc-to-stream-time` and `stream-time-to-utc` convert times.
 */
#include "gstvdbsrc.h"

#include <gst/video/video.h>

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "h264_headers.h"
#include "reader.h"
#include "time_parse.h"

GST_DEBUG_CATEGORY_STATIC(gst_vdb_src_debug);
#define GST_CAT_DEFAULT gst_vdb_src_debug

#define DEFAULT_LOCATION NULL
#define DEFAULT_STREAM "default"
#define DEFAULT_START_TIME NULL
#define DEFAULT_STOP_TIME NULL
#define DEFAULT_FOLLOW FALSE
#define DEFAULT_GAPS GST_VDB_GAPS_PRESERVE
#define DEFAULT_SKIP_CORRUPT TRUE
#define FOLLOW_POLL_US (50 * 1000)
#define READ_FRAMES 64               /* frames per read in normal playback */
#define READ_BYTES (4 * 1024 * 1024) /* and at most this many bytes */
#define GAP_TOLERANCE (GST_SECOND / 2)

enum {
  PROP_0,
  PROP_LOCATION,
  PROP_STREAM,
  PROP_START_TIME,
  PROP_STOP_TIME,
  PROP_FOLLOW,
  PROP_GAPS,
  PROP_SKIP_CORRUPT,
};

enum { SIGNAL_GET_RANGES, SIGNAL_UTC_TO_STREAM_TIME, SIGNAL_STREAM_TIME_TO_UTC, LAST_SIGNAL };
static guint gst_vdb_src_signals[LAST_SIGNAL];

struct VdbSrcState {
  /* The reader is used by the streaming thread and by queries and action
   * signals from others; recursive because pushing caps may query us back. */
  std::recursive_mutex mu;
  std::unique_ptr<vdb::Reader> reader;
  std::string caps;              /* caps last pushed */
  std::deque<GstBuffer *> queue; /* buffers ready to push */
  /* Playback cursor. */
  vdb::Position pos; /* next frame (or GOP start) to read */
  bool at_end = false;
  bool discont = true;
  guint64 range_start = GST_CLOCK_TIME_NONE, range_stop = GST_CLOCK_TIME_NONE;
  guint64 last_end = GST_CLOCK_TIME_NONE; /* end of the last frame pushed */
  guint64 collapse_offset = 0;            /* gaps=collapse: removed hole time */
  /* Reverse playback: the GOP being read ends before this frame. */
  vdb::Position gop_end;
  bool have_gop_end = false;
  guint64 skipped_segment = G_MAXUINT64;
  GstSeekFlags seek_flags = GST_SEEK_FLAG_NONE; /* of the seek being handled */
  GMutex lock;
  GCond cond;
  bool flushing = false;
};

struct _GstVdbSrc {
  GstPushSrc parent;
  gchar *location;
  gchar *stream;
  gchar *start_time;
  gchar *stop_time;
  gboolean follow;
  GstVdbGaps gaps;
  gboolean skip_corrupt;
  VdbSrcState *s;
};

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS("video/x-h264; video/x-vp9"));

static void gst_vdb_src_uri_handler_init(gpointer g_iface, gpointer iface_data);

#define gst_vdb_src_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE(GstVdbSrc, gst_vdb_src, GST_TYPE_PUSH_SRC,
                        G_IMPLEMENT_INTERFACE(GST_TYPE_URI_HANDLER, gst_vdb_src_uri_handler_init));
GST_ELEMENT_REGISTER_DEFINE(vdbsrc, "vdbsrc", GST_RANK_NONE, GST_TYPE_VDB_SRC);

GType gst_vdb_gaps_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_VDB_GAPS_PRESERVE, "Real timeline: GAP events across holes", "preserve"},
      {GST_VDB_GAPS_COLLAPSE, "Recordings back to back, DISCONT at each hole", "collapse"},
      {0, NULL, NULL}};
  if (g_once_init_enter(&type))
    g_once_init_leave(&type, g_enum_register_static("GstVdbGaps", values));
  return type;
}

/* ---------------------------------------------------------------- helpers */

static void clear_queue(VdbSrcState *s) {
  for (GstBuffer *b : s->queue) gst_buffer_unref(b);
  s->queue.clear();
}

/* UTC <-> stream time through the catalog. */
static guint64 utc_to_stream_time(VdbSrcState *s, guint64 utc) {
  if (!s->reader) return GST_CLOCK_TIME_NONE;
  const auto &segs = s->reader->segments();
  guint64 best = GST_CLOCK_TIME_NONE;
  for (const auto &seg : segs) { /* segments are in time order */
    if (!seg.utc_start || seg.first_pts == vdb::kNoTime) continue;
    if (seg.utc_start > utc) return best == GST_CLOCK_TIME_NONE ? seg.first_pts : best;
    guint64 t = seg.first_pts + (utc - seg.utc_start);
    best = seg.end_pts != vdb::kNoTime && t > seg.end_pts ? seg.end_pts : t;
  }
  return best;
}

static guint64 stream_time_to_utc(VdbSrcState *s, guint64 t) {
  if (!s->reader || s->reader->segments().empty()) return 0;
  const auto &segs = s->reader->segments();
  size_t lo = 0, hi = segs.size();
  while (hi - lo > 1) { /* last segment with first_pts <= t */
    size_t mid = (lo + hi) / 2;
    if (segs[mid].first_pts <= t)
      lo = mid;
    else
      hi = mid;
  }
  return segs[lo].UtcAt(t < segs[lo].first_pts ? segs[lo].first_pts : t);
}

/* End of the stream now (grows while a writer appends). */
static guint64 stream_end(VdbSrcState *s) {
  const auto &segs = s->reader->segments();
  if (segs.empty()) return GST_CLOCK_TIME_NONE;
  if (segs.back().sealed()) return segs.back().end_pts;
  auto seg = s->reader->Segment(segs.size() - 1);
  if (!seg.ok() || (*seg)->size() == 0) return segs.back().first_pts;
  const vdb::IndexEntry &e = (*seg)->entry((*seg)->size() - 1);
  return e.pts != vdb::kNoTime ? e.pts : e.dts;
}

static void post_error(GstVdbSrc *self, const vdb::Status &st, const char *what) {
  if (st.code() == vdb::Code::kCorrupt)
    GST_ELEMENT_ERROR(self, STREAM, DECODE, ("Store is damaged: %s", what),
                      ("%s", st.ToString().c_str()));
  else
    GST_ELEMENT_ERROR(self, RESOURCE, READ, ("Could not read the store: %s", what),
                      ("%s", st.ToString().c_str()));
}

static bool is_byte_stream(const std::string &caps) {
  return caps.rfind("video/x-h264", 0) == 0 &&
         caps.find("stream-format=(string)byte-stream") != std::string::npos;
}

/* Wraps the bytes of one read in a GstMemory shared by the frames' buffers. */
static GstMemory *wrap_bytes(std::vector<uint8_t> &&bytes) {
  auto *v = new std::vector<uint8_t>(std::move(bytes));
  return gst_memory_new_wrapped(GST_MEMORY_FLAG_READONLY, v->data(), v->size(), 0, v->size(), v,
                                [](gpointer p) { delete static_cast<std::vector<uint8_t> *>(p); });
}

/* SPS/PPS of a segment: from its first keyframe, which the sink made carry them. */
static std::vector<uint8_t> segment_headers(vdb::SegmentReader *seg) {
  vdb::H264Headers h;
  if (seg->keyframe_count() == 0) return {};
  std::vector<uint8_t> bytes;
  std::vector<vdb::FrameView> views;
  if (!seg->Read(seg->keyframe(0), 1, &bytes, &views).ok()) return {};
  h.Scan(bytes.data() + views[0].data_offset, views[0].header.payload_size);
  return h.headers();
}

/* Turns frames [first, first+count) of segment `si` into queued buffers. */
static vdb::Status queue_frames(GstVdbSrc *self, size_t si, size_t first, size_t count,
                                bool keys_only) {
  VdbSrcState *s = self->s;
  auto segr = s->reader->Segment(si);
  if (!segr.ok()) return segr.status();
  vdb::SegmentReader *seg = segr.value();
  if (seg->caps() != s->caps) {
    GstCaps *caps = gst_caps_from_string(seg->caps().c_str());
    if (!caps) return vdb::Status(vdb::Code::kCorrupt, "segment caps do not parse: " + seg->caps());
    GST_INFO_OBJECT(self, "caps: %s", seg->caps().c_str());
    gboolean ok = gst_base_src_set_caps(GST_BASE_SRC(self), caps);
    gst_caps_unref(caps);
    if (!ok)
      return vdb::Status(vdb::Code::kInvalidArgument, "downstream refused the caps " + seg->caps());
    s->caps = seg->caps();
    s->discont = true;
  }
  std::vector<uint8_t> bytes;
  std::vector<vdb::FrameView> views;
  std::vector<size_t> which;
  if (keys_only) {
    VDB_RETURN_IF_ERROR(seg->Read(first, 1, &bytes, &views));
  } else {
    VDB_RETURN_IF_ERROR(seg->Read(first, count, &bytes, &views));
  }
  bool byte_stream = is_byte_stream(s->caps);
  const uint8_t *base = bytes.data();  // the vector's storage moves into the memory
  GstMemory *mem = wrap_bytes(std::move(bytes));
  for (const vdb::FrameView &v : views) {
    const vdb::RecordHeader &h = v.header;
    GstBuffer *buf = gst_buffer_new();
    bool key = h.flags & vdb::kFlagKey;
    if (byte_stream && key && s->discont &&
        !vdb::H264Headers().Scan(base + v.data_offset, h.payload_size)) {
      std::vector<uint8_t> hdr = segment_headers(seg);
      if (!hdr.empty()) gst_buffer_append_memory(buf, wrap_bytes(std::move(hdr)));
    }
    gst_buffer_append_memory(buf,
                             gst_memory_share(mem, gssize(v.data_offset), gssize(h.payload_size)));
    GstClockTime pts = h.pts, dts = h.dts;
    GstClockTime t = GST_CLOCK_TIME_IS_VALID(pts) ? pts : dts;
    /* A hole between recordings. */
    if (s->last_end != GST_CLOCK_TIME_NONE && GST_CLOCK_TIME_IS_VALID(t) &&
        self->parent.parent.segment.rate > 0 && t > s->last_end + GAP_TOLERANCE && !keys_only) {
      if (self->gaps == GST_VDB_GAPS_COLLAPSE) {
        s->collapse_offset += t - s->last_end;
      } else {
        GST_DEBUG_OBJECT(self, "gap %" GST_TIME_FORMAT " - %" GST_TIME_FORMAT,
                         GST_TIME_ARGS(s->last_end), GST_TIME_ARGS(t));
        gst_pad_push_event(GST_BASE_SRC_PAD(self),
                           gst_event_new_gap(s->last_end - s->collapse_offset, t - s->last_end));
      }
      s->discont = true;
    }
    if (GST_CLOCK_TIME_IS_VALID(pts)) pts -= s->collapse_offset;
    if (GST_CLOCK_TIME_IS_VALID(dts))
      dts = dts >= s->collapse_offset ? dts - s->collapse_offset : 0;
    GST_BUFFER_PTS(buf) = pts;
    GST_BUFFER_DTS(buf) = dts;
    GST_BUFFER_DURATION(buf) = h.duration;
    if (!key) GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
    if (h.flags & vdb::kFlagHeader) GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_HEADER);
    if (h.flags & vdb::kFlagDroppable) GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DROPPABLE);
    if (s->discont || (h.flags & vdb::kFlagDiscont)) {
      GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DISCONT);
      s->discont = false;
    }
    if (GST_CLOCK_TIME_IS_VALID(t))
      s->last_end = t + (GST_CLOCK_TIME_IS_VALID(h.duration) ? h.duration : 0);
    s->queue.push_back(buf);
  }
  gst_memory_unref(mem);
  return vdb::Status::Ok();
}

/* Waits for a live writer to add frames; false when flushing. */
static bool wait_for_more(GstVdbSrc *self) {
  VdbSrcState *s = self->s;
  g_mutex_lock(&s->lock);
  if (!s->flushing) g_cond_wait_until(&s->cond, &s->lock, g_get_monotonic_time() + FOLLOW_POLL_US);
  bool flushing = s->flushing;
  g_mutex_unlock(&s->lock);
  if (flushing) return false;
  bool changed = false;
  vdb::Status st = s->reader->Refresh(&changed);
  if (!st.ok()) GST_WARNING_OBJECT(self, "refresh: %s", st.ToString().c_str());
  return true;
}

/* Skips a damaged segment (skip-corrupt) or fails. */
static GstFlowReturn damaged(GstVdbSrc *self, const vdb::Status &st) {
  VdbSrcState *s = self->s;
  if (!self->skip_corrupt || st.code() != vdb::Code::kCorrupt) {
    post_error(self, st, "playback stopped");
    return GST_FLOW_ERROR;
  }
  guint64 id = s->reader->segments()[s->pos.segment].id;
  if (s->skipped_segment != id) {
    GST_ELEMENT_WARNING(self, STREAM, DECODE, ("Skipped a damaged segment"),
                        ("segment %" G_GUINT64_FORMAT ": %s", id, st.ToString().c_str()));
    s->skipped_segment = id;
  }
  s->discont = true;
  return GST_FLOW_OK;
}

/* Fills the queue going forward. */
static GstFlowReturn fill_forward(GstVdbSrc *self, bool keys_only) {
  VdbSrcState *s = self->s;
  GstSegment *segment = &self->parent.parent.segment;
  while (s->queue.empty()) {
    const auto &segs = s->reader->segments();
    if (s->pos.segment >= segs.size()) {
      if (!self->follow) return GST_FLOW_EOS;
      if (!wait_for_more(self)) return GST_FLOW_FLUSHING;
      continue;
    }
    auto segr = s->reader->Segment(s->pos.segment);
    if (!segr.ok()) {
      GstFlowReturn r = damaged(self, segr.status());
      if (r != GST_FLOW_OK) return r;
      s->pos = vdb::Position{s->pos.segment + 1, 0};
      continue;
    }
    vdb::SegmentReader *seg = segr.value();
    size_t frame = s->pos.frame;
    if (keys_only) { /* next keyframe at or after the cursor */
      long k = seg->KeyFrameAtOrAfter(frame);
      frame = k < 0 ? seg->size() : size_t(k);
    }
    if (frame >= seg->size()) {
      bool last = s->pos.segment + 1 >= segs.size();
      if (last && !segs.back().sealed()) { /* live: wait for the writer */
        if (!self->follow) return GST_FLOW_EOS;
        if (!wait_for_more(self)) return GST_FLOW_FLUSHING;
        continue;
      }
      if (last && self->follow) {
        if (!wait_for_more(self)) return GST_FLOW_FLUSHING;
        if (s->pos.segment + 1 >= s->reader->segments().size()) continue;
      }
      s->pos = vdb::Position{s->pos.segment + 1, 0};
      continue;
    }
    const vdb::IndexEntry &e = seg->entry(frame);
    guint64 t = e.pts != vdb::kNoTime ? e.pts : e.dts;
    if (GST_CLOCK_TIME_IS_VALID(segment->stop) && t != vdb::kNoTime && t >= segment->stop &&
        (e.flags & vdb::kFlagKey))
      return GST_FLOW_EOS;
    size_t count = 1;
    if (!keys_only) {
      uint64_t bytes = 0;
      while (frame + count < seg->size() && count < READ_FRAMES && bytes < READ_BYTES) {
        bytes += seg->entry(frame + count).size;
        count++;
      }
    }
    vdb::Status st = queue_frames(self, s->pos.segment, frame, count, keys_only);
    if (!st.ok()) {
      clear_queue(s);
      GstFlowReturn r = damaged(self, st);
      if (r != GST_FLOW_OK) return r;
      s->pos = vdb::Position{s->pos.segment + 1, 0};
      continue;
    }
    s->pos.frame = frame + count;
  }
  return GST_FLOW_OK;
}

/* The keyframe before `p` (previous segment's last one at a segment start). */
static bool previous_key(VdbSrcState *s, vdb::Position p, vdb::Position *out) {
  for (long si = long(p.segment); si >= 0; si--) {
    auto segr = s->reader->Segment(size_t(si));
    if (!segr.ok()) continue;
    vdb::SegmentReader *seg = segr.value();
    long k = seg->KeyFrameBefore(size_t(si) < p.segment ? seg->size() : p.frame);
    if (k >= 0) {
      *out = vdb::Position{size_t(si), size_t(k)};
      return true;
    }
  }
  return false;
}

/* Fills the queue going backwards: one GOP at a time, each in decode order. */
static GstFlowReturn fill_reverse(GstVdbSrc *self, bool keys_only) {
  VdbSrcState *s = self->s;
  GstSegment *segment = &self->parent.parent.segment;
  while (s->queue.empty()) {
    if (s->at_end) return GST_FLOW_EOS;
    vdb::Position key = s->pos;
    auto segr = s->reader->Segment(key.segment);
    if (!segr.ok())
      return damaged(self, segr.status()) == GST_FLOW_OK ? GST_FLOW_EOS : GST_FLOW_ERROR;
    vdb::SegmentReader *seg = segr.value();
    const vdb::IndexEntry &e = seg->entry(key.frame);
    size_t end = seg->size();
    if (s->have_gop_end && s->gop_end.segment == key.segment) end = s->gop_end.frame;
    /* Next keyframe in this segment bounds the GOP too. */
    long next_key = seg->KeyFrameAtOrAfter(key.frame + 1);
    if (next_key >= 0) end = std::min(end, size_t(next_key));
    size_t count = keys_only ? 1 : end - key.frame;
    s->discont = true;
    s->last_end = GST_CLOCK_TIME_NONE;
    vdb::Status st = queue_frames(self, key.segment, key.frame, count, keys_only);
    if (!st.ok()) {
      clear_queue(s);
      if (damaged(self, st) != GST_FLOW_OK) return GST_FLOW_ERROR;
    }
    /* Drop frames after the segment stop: the decoder would clip them anyway. */
    s->gop_end = key;
    s->have_gop_end = true;
    vdb::Position prev;
    guint64 t = e.pts != vdb::kNoTime ? e.pts : e.dts;
    if ((GST_CLOCK_TIME_IS_VALID(segment->start) && t <= segment->start) ||
        !previous_key(s, key, &prev))
      s->at_end = true;
    else
      s->pos = prev;
  }
  return GST_FLOW_OK;
}

/* ---------------------------------------------------------- GstBaseSrc */

static gboolean gst_vdb_src_start(GstBaseSrc *src) {
  GstVdbSrc *self = GST_VDB_SRC(src);
  VdbSrcState *s = self->s;
  GST_OBJECT_LOCK(self);
  std::string location = self->location ? self->location : "";
  std::string stream = self->stream ? self->stream : "";
  std::string start = self->start_time ? self->start_time : "";
  std::string stop = self->stop_time ? self->stop_time : "";
  GST_OBJECT_UNLOCK(self);
  if (location.empty()) {
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("No store location set"),
                      ("set the 'location' property to a vdb store directory"));
    return FALSE;
  }
  auto r = vdb::Reader::Open(vdb::DefaultFs(), location, stream);
  if (!r.ok()) {
    const vdb::Status &st = r.status();
    if (st.code() == vdb::Code::kNotFound)
      GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("%s", st.message().c_str()), (NULL));
    else if (st.code() == vdb::Code::kCorrupt)
      GST_ELEMENT_ERROR(self, STREAM, DECODE,
                        ("The catalog of stream '%s' is damaged", stream.c_str()),
                        ("%s. Run 'vdb repair %s' or record to it once to rebuild it.",
                         st.ToString().c_str(), location.c_str()));
    else
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ, ("Could not open store '%s'", location.c_str()),
                        ("%s", st.ToString().c_str()));
    return FALSE;
  }
  s->reader = std::move(r).value();
  if (s->reader->segments().empty() && !self->follow) {
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND,
                      ("Stream '%s' in '%s' holds no recording", stream.c_str(), location.c_str()),
                      (NULL));
    s->reader.reset();
    return FALSE;
  }
  s->range_start = s->range_stop = GST_CLOCK_TIME_NONE;
  for (int i = 0; i < 2; i++) {
    const std::string &text = i == 0 ? start : stop;
    if (text.empty()) continue;
    guint64 utc;
    if (!vdb::ParseUtc(text, &utc)) {
      GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
                        ("Invalid %s '%s'", i == 0 ? "start-time" : "stop-time", text.c_str()),
                        ("use ISO 8601 (2026-11-23T10:00:00Z) or nanoseconds since 1970"));
      s->reader.reset();
      return FALSE;
    }
    (i == 0 ? s->range_start : s->range_stop) = utc_to_stream_time(s, utc);
  }
  s->caps.clear();
  s->flushing = false;
  s->collapse_offset = 0;
  gst_base_src_set_format(src, GST_FORMAT_TIME);
  return TRUE;
}

static gboolean gst_vdb_src_stop(GstBaseSrc *src) {
  GstVdbSrc *self = GST_VDB_SRC(src);
  std::lock_guard<std::recursive_mutex> l(self->s->mu);
  clear_queue(self->s);
  self->s->reader.reset();
  return TRUE;
}

static gboolean gst_vdb_src_is_seekable(GstBaseSrc *) {
  return TRUE;
}

/* basesrc turns a seek into a segment itself and keeps no KEY_UNIT / SNAP
 * flags in it: remember them here, on the way in, for do_seek. */
static void remember_seek_flags(GstVdbSrc *self, GstEvent *event) {
  if (GST_EVENT_TYPE(event) != GST_EVENT_SEEK) return;
  GstSeekFlags flags;
  gst_event_parse_seek(event, NULL, NULL, &flags, NULL, NULL, NULL, NULL);
  std::lock_guard<std::recursive_mutex> l(self->s->mu);
  self->s->seek_flags = flags;
}

static gboolean gst_vdb_src_event(GstBaseSrc *src, GstEvent *event) {
  remember_seek_flags(GST_VDB_SRC(src), event);
  return GST_BASE_SRC_CLASS(parent_class)->event(src, event);
}

static gboolean gst_vdb_src_send_event(GstElement *element, GstEvent *event) {
  remember_seek_flags(GST_VDB_SRC(element), event);
  return GST_ELEMENT_CLASS(parent_class)->send_event(element, event);
}

/* KEY_UNIT seeks: move the segment start to the chosen keyframe. */
static void snap_to_keyframe(GstVdbSrc *self, GstSegment *segment, GstSeekFlags flags) {
  VdbSrcState *s = self->s;
  if (!(flags & GST_SEEK_FLAG_KEY_UNIT) || segment->rate < 0) return;
  vdb::Snap snap = vdb::Snap::kBefore;
  if ((flags & GST_SEEK_FLAG_SNAP_NEAREST) == GST_SEEK_FLAG_SNAP_NEAREST)
    snap = vdb::Snap::kNearest;
  else if (flags & GST_SEEK_FLAG_SNAP_AFTER)
    snap = vdb::Snap::kAfter;
  auto p = s->reader->FindKeyframe(segment->start, snap);
  if (!p.ok()) return;
  auto seg = s->reader->Segment(p->segment);
  if (!seg.ok()) return;
  guint64 key = (*seg)->entry(p->frame).pts;
  GST_DEBUG_OBJECT(self, "key unit seek %" GST_TIME_FORMAT " -> %" GST_TIME_FORMAT,
                   GST_TIME_ARGS(segment->start), GST_TIME_ARGS(key));
  segment->start = segment->time = segment->position = key;
}

static gboolean gst_vdb_src_do_seek(GstBaseSrc *src, GstSegment *segment) {
  GstVdbSrc *self = GST_VDB_SRC(src);
  VdbSrcState *s = self->s;
  std::lock_guard<std::recursive_mutex> l(s->mu);
  if (!s->reader) return FALSE;
  /* Clamp to start-time / stop-time. */
  if (s->range_start != GST_CLOCK_TIME_NONE && segment->start < s->range_start) {
    segment->start = s->range_start;
    segment->time = s->range_start;
    segment->position = s->range_start;
  }
  if (s->range_stop != GST_CLOCK_TIME_NONE &&
      (!GST_CLOCK_TIME_IS_VALID(segment->stop) || segment->stop > s->range_stop))
    segment->stop = s->range_stop;
  bool refreshed;
  (void)s->reader->Refresh(&refreshed);
  snap_to_keyframe(self, segment, s->seek_flags);
  s->seek_flags = GST_SEEK_FLAG_NONE;
  clear_queue(s);
  s->discont = true;
  s->at_end = false;
  s->have_gop_end = false;
  s->last_end = GST_CLOCK_TIME_NONE;
  s->collapse_offset = 0;
  if (s->reader->segments().empty()) {
    s->pos = vdb::Position{0, 0};
    return TRUE;
  }
  guint64 target = segment->rate >= 0
                       ? segment->start
                       : (GST_CLOCK_TIME_IS_VALID(segment->stop) ? segment->stop : stream_end(s));
  auto p = s->reader->FindKeyframe(target, vdb::Snap::kBefore);
  if (!p.ok()) {
    if (p.status().code() == vdb::Code::kNotFound) { /* past the end / nothing */
      s->pos = vdb::Position{s->reader->segments().size(), 0};
      s->at_end = true;
      return TRUE;
    }
    post_error(self, p.status(), "seek failed");
    return FALSE;
  }
  s->pos = p.value();
  GST_DEBUG_OBJECT(self, "seek to %" GST_TIME_FORMAT ": segment %zu frame %zu",
                   GST_TIME_ARGS(target), s->pos.segment, s->pos.frame);
  /* Reverse: a seek target in the middle of a GOP still needs the GOP. */
  return TRUE;
}

static GstFlowReturn gst_vdb_src_create(GstPushSrc *psrc, GstBuffer **outbuf) {
  GstVdbSrc *self = GST_VDB_SRC(psrc);
  VdbSrcState *s = self->s;
  GstSegment *segment = &GST_BASE_SRC(psrc)->segment;
  std::lock_guard<std::recursive_mutex> l(s->mu);
  bool keys_only = segment->flags & GST_SEGMENT_FLAG_TRICKMODE_KEY_UNITS;
  if (segment->rate < 0) {
    /* Reverse: one GOP per call, as a buffer list, so that basesrc marks only
     * its first buffer DISCONT and takes the keyframe time as the position. */
    GstFlowReturn r = fill_reverse(self, keys_only);
    if (r != GST_FLOW_OK) return r;
    GstBufferList *list = gst_buffer_list_new_sized(guint(s->queue.size()));
    for (GstBuffer *b : s->queue) gst_buffer_list_add(list, b);
    s->queue.clear();
    gst_base_src_submit_buffer_list(GST_BASE_SRC(psrc), list);
    *outbuf = NULL;
    return GST_FLOW_OK;
  }
  GstFlowReturn r = fill_forward(self, keys_only);
  if (r != GST_FLOW_OK) return r;
  *outbuf = s->queue.front();
  s->queue.pop_front();
  return GST_FLOW_OK;
}

static gboolean gst_vdb_src_unlock(GstBaseSrc *src) {
  VdbSrcState *s = GST_VDB_SRC(src)->s;
  g_mutex_lock(&s->lock);
  s->flushing = true;
  g_cond_broadcast(&s->cond);
  g_mutex_unlock(&s->lock);
  return TRUE;
}

static gboolean gst_vdb_src_unlock_stop(GstBaseSrc *src) {
  VdbSrcState *s = GST_VDB_SRC(src)->s;
  g_mutex_lock(&s->lock);
  s->flushing = false;
  g_mutex_unlock(&s->lock);
  return TRUE;
}

static gboolean gst_vdb_src_query(GstBaseSrc *src, GstQuery *query) {
  GstVdbSrc *self = GST_VDB_SRC(src);
  VdbSrcState *s = self->s;
  switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_DURATION: {
      GstFormat fmt;
      gst_query_parse_duration(query, &fmt, NULL);
      if (fmt != GST_FORMAT_TIME || !s->reader) break;
      std::lock_guard<std::recursive_mutex> l(s->mu);
      guint64 end = stream_end(s);
      if (s->range_stop != GST_CLOCK_TIME_NONE && end > s->range_stop) end = s->range_stop;
      gst_query_set_duration(query, GST_FORMAT_TIME, gint64(end));
      return TRUE;
    }
    case GST_QUERY_SEEKING: {
      GstFormat fmt;
      gst_query_parse_seeking(query, &fmt, NULL, NULL, NULL);
      if (fmt != GST_FORMAT_TIME || !s->reader) break;
      std::lock_guard<std::recursive_mutex> l(s->mu);
      guint64 a = s->reader->start_pts(), b = stream_end(s);
      if (s->range_start != GST_CLOCK_TIME_NONE && a < s->range_start) a = s->range_start;
      if (s->range_stop != GST_CLOCK_TIME_NONE && b > s->range_stop) b = s->range_stop;
      gst_query_set_seeking(query, GST_FORMAT_TIME, TRUE, gint64(a), gint64(b));
      return TRUE;
    }
    default:
      break;
  }
  return GST_BASE_SRC_CLASS(parent_class)->query(src, query);
}

/* ---------------------------------------------------------- signals */

static GstStructure *gst_vdb_src_get_ranges(GstVdbSrc *self) {
  VdbSrcState *s = self->s;
  std::lock_guard<std::recursive_mutex> l(s->mu);
  GstStructure *out = gst_structure_new_empty("vdbsrc-ranges");
  if (!s->reader) return out;
  GValue list = G_VALUE_INIT;
  g_value_init(&list, GST_TYPE_LIST);
  GstStructure *cur = NULL;
  guint64 cur_end = 0;
  auto flush = [&] {
    if (!cur) return;
    GValue v = G_VALUE_INIT;
    g_value_init(&v, GST_TYPE_STRUCTURE);
    gst_value_set_structure(&v, cur);
    gst_value_list_append_and_take_value(&list, &v);
    gst_structure_free(cur);
    cur = NULL;
  };
  for (const auto &seg : s->reader->segments()) {
    guint64 end = seg.end_pts != vdb::kNoTime ? seg.end_pts : seg.first_pts;
    if (cur && seg.first_pts <= cur_end + GAP_TOLERANCE) {
      gst_structure_set(cur, "end", G_TYPE_UINT64, end, "utc-end", G_TYPE_UINT64, seg.UtcAt(end),
                        NULL);
    } else {
      flush();
      cur = gst_structure_new("range", "start", G_TYPE_UINT64, seg.first_pts, "end", G_TYPE_UINT64,
                              end, "utc-start", G_TYPE_UINT64, guint64(seg.utc_start), "utc-end",
                              G_TYPE_UINT64, seg.UtcAt(end), NULL);
    }
    cur_end = end;
  }
  flush();
  gst_structure_take_value(out, "ranges", &list);
  return out;
}

static guint64 gst_vdb_src_utc_to_stream_time(GstVdbSrc *self, guint64 utc) {
  std::lock_guard<std::recursive_mutex> l(self->s->mu);
  return utc_to_stream_time(self->s, utc);
}

static guint64 gst_vdb_src_stream_time_to_utc(GstVdbSrc *self, guint64 t) {
  std::lock_guard<std::recursive_mutex> l(self->s->mu);
  return stream_time_to_utc(self->s, t);
}

/* ---------------------------------------------------------- URI handler */

static GstURIType gst_vdb_src_uri_get_type(GType) {
  return GST_URI_SRC;
}

static const gchar *const *gst_vdb_src_uri_get_protocols(GType) {
  static const gchar *protocols[] = {"vdb", NULL};
  return protocols;
}

static gchar *gst_vdb_src_uri_get_uri(GstURIHandler *handler) {
  GstVdbSrc *self = GST_VDB_SRC(handler);
  GST_OBJECT_LOCK(self);
  gchar *uri = NULL;
  if (self->location) {
    GstUri *u = gst_uri_new("vdb", NULL, NULL, GST_URI_NO_PORT, self->location, NULL, NULL);
    gst_uri_set_query_value(u, "stream", self->stream);
    if (self->start_time) gst_uri_set_query_value(u, "start", self->start_time);
    if (self->stop_time) gst_uri_set_query_value(u, "stop", self->stop_time);
    uri = gst_uri_to_string(u);
    gst_uri_unref(u);
  }
  GST_OBJECT_UNLOCK(self);
  return uri;
}

static gboolean gst_vdb_src_uri_set_uri(GstURIHandler *handler, const gchar *uri, GError **error) {
  GstVdbSrc *self = GST_VDB_SRC(handler);
  GstUri *u = gst_uri_from_string(uri);
  gchar *path = u ? gst_uri_get_path(u) : NULL; /* transfer full */
  if (!u || g_strcmp0(gst_uri_get_scheme(u), "vdb") != 0 || !path || !*path) {
    g_set_error(error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI,
                "Invalid vdb URI '%s' (expected vdb:///path/to/store?stream=NAME)", uri);
    g_free(path);
    if (u) gst_uri_unref(u);
    return FALSE;
  }
  const gchar *stream = gst_uri_get_query_value(u, "stream");
  const gchar *start = gst_uri_get_query_value(u, "start");
  const gchar *stop = gst_uri_get_query_value(u, "stop");
  const gchar *follow = gst_uri_get_query_value(u, "follow");
  g_object_set(self, "location", path, "stream", stream ? stream : DEFAULT_STREAM, "start-time",
               start, "stop-time", stop, NULL);
  g_free(path);
  if (follow)
    g_object_set(self, "follow",
                 g_ascii_strcasecmp(follow, "true") == 0 || g_str_equal(follow, "1"), NULL);
  gst_uri_unref(u);
  return TRUE;
}

static void gst_vdb_src_uri_handler_init(gpointer g_iface, gpointer) {
  GstURIHandlerInterface *iface = (GstURIHandlerInterface *)g_iface;
  iface->get_type = gst_vdb_src_uri_get_type;
  iface->get_protocols = gst_vdb_src_uri_get_protocols;
  iface->get_uri = gst_vdb_src_uri_get_uri;
  iface->set_uri = gst_vdb_src_uri_set_uri;
}

/* ---------------------------------------------------------- GObject */

static void gst_vdb_src_set_property(GObject *object, guint prop_id, const GValue *value,
                                     GParamSpec *pspec) {
  GstVdbSrc *self = GST_VDB_SRC(object);
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_free(self->location);
      self->location = g_value_dup_string(value);
      break;
    case PROP_STREAM:
      g_free(self->stream);
      self->stream = g_value_dup_string(value);
      break;
    case PROP_START_TIME:
      g_free(self->start_time);
      self->start_time = g_value_dup_string(value);
      break;
    case PROP_STOP_TIME:
      g_free(self->stop_time);
      self->stop_time = g_value_dup_string(value);
      break;
    case PROP_FOLLOW:
      self->follow = g_value_get_boolean(value);
      break;
    case PROP_GAPS:
      self->gaps = GstVdbGaps(g_value_get_enum(value));
      break;
    case PROP_SKIP_CORRUPT:
      self->skip_corrupt = g_value_get_boolean(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_vdb_src_get_property(GObject *object, guint prop_id, GValue *value,
                                     GParamSpec *pspec) {
  GstVdbSrc *self = GST_VDB_SRC(object);
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_value_set_string(value, self->location);
      break;
    case PROP_STREAM:
      g_value_set_string(value, self->stream);
      break;
    case PROP_START_TIME:
      g_value_set_string(value, self->start_time);
      break;
    case PROP_STOP_TIME:
      g_value_set_string(value, self->stop_time);
      break;
    case PROP_FOLLOW:
      g_value_set_boolean(value, self->follow);
      break;
    case PROP_GAPS:
      g_value_set_enum(value, self->gaps);
      break;
    case PROP_SKIP_CORRUPT:
      g_value_set_boolean(value, self->skip_corrupt);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_vdb_src_finalize(GObject *object) {
  GstVdbSrc *self = GST_VDB_SRC(object);
  g_free(self->location);
  g_free(self->stream);
  g_free(self->start_time);
  g_free(self->stop_time);
  clear_queue(self->s);
  g_mutex_clear(&self->s->lock);
  g_cond_clear(&self->s->cond);
  delete self->s;
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_vdb_src_init(GstVdbSrc *self) {
  self->location = g_strdup(DEFAULT_LOCATION);
  self->stream = g_strdup(DEFAULT_STREAM);
  self->start_time = g_strdup(DEFAULT_START_TIME);
  self->stop_time = g_strdup(DEFAULT_STOP_TIME);
  self->follow = DEFAULT_FOLLOW;
  self->gaps = DEFAULT_GAPS;
  self->skip_corrupt = DEFAULT_SKIP_CORRUPT;
  self->s = new VdbSrcState();
  g_mutex_init(&self->s->lock);
  g_cond_init(&self->s->cond);
  gst_base_src_set_format(GST_BASE_SRC(self), GST_FORMAT_TIME);
}

static void gst_vdb_src_class_init(GstVdbSrcClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstBaseSrcClass *base_class = GST_BASE_SRC_CLASS(klass);
  GstPushSrcClass *push_class = GST_PUSH_SRC_CLASS(klass);
  const GParamFlags rw_ready =
      GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);

  gobject_class->set_property = gst_vdb_src_set_property;
  gobject_class->get_property = gst_vdb_src_get_property;
  gobject_class->finalize = gst_vdb_src_finalize;

  g_object_class_install_property(
      gobject_class, PROP_LOCATION,
      g_param_spec_string("location", "Location", "Store directory", DEFAULT_LOCATION, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_STREAM,
      g_param_spec_string("stream", "Stream", "Name of the stream to play", DEFAULT_STREAM,
                          rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_START_TIME,
      g_param_spec_string("start-time", "Start time",
                          "Play from this wall-clock time: ISO 8601 UTC "
                          "(2026-11-23T10:00:00Z) or ns since 1970 (NULL: from the start)",
                          DEFAULT_START_TIME, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_STOP_TIME,
      g_param_spec_string("stop-time", "Stop time",
                          "Stop at this wall-clock time: ISO 8601 UTC or ns since 1970 (NULL: "
                          "to the end)",
                          DEFAULT_STOP_TIME, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_FOLLOW,
      g_param_spec_boolean("follow", "Follow",
                           "At the end, wait for and play frames a live writer appends",
                           DEFAULT_FOLLOW, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_GAPS,
      g_param_spec_enum("gaps", "Gaps", "How holes between recordings are played",
                        GST_TYPE_VDB_GAPS_TYPE, DEFAULT_GAPS, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_SKIP_CORRUPT,
      g_param_spec_boolean("skip-corrupt", "Skip corrupt",
                           "Skip a damaged segment with a warning instead of stopping with an "
                           "error",
                           DEFAULT_SKIP_CORRUPT, rw_ready));

  /**
   * GstVdbSrc::get-ranges:
   * Returns a #GstStructure "vdbsrc-ranges" whose "ranges" field lists the
   * recorded ranges (start, end in stream time; utc-start, utc-end in UTC ns).
   */
  gst_vdb_src_signals[SIGNAL_GET_RANGES] = g_signal_new_class_handler(
      "get-ranges", G_TYPE_FROM_CLASS(klass), GSignalFlags(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK(gst_vdb_src_get_ranges), NULL, NULL, NULL, GST_TYPE_STRUCTURE, 0);
  /**
   * GstVdbSrc::utc-to-stream-time:
   * Converts UTC ns to the stream time to seek to (GST_CLOCK_TIME_NONE if unknown).
   */
  gst_vdb_src_signals[SIGNAL_UTC_TO_STREAM_TIME] = g_signal_new_class_handler(
      "utc-to-stream-time", G_TYPE_FROM_CLASS(klass),
      GSignalFlags(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION), G_CALLBACK(gst_vdb_src_utc_to_stream_time),
      NULL, NULL, NULL, G_TYPE_UINT64, 1, G_TYPE_UINT64);
  /**
   * GstVdbSrc::stream-time-to-utc:
   * Converts a stream time to UTC ns (0 if unknown).
   */
  gst_vdb_src_signals[SIGNAL_STREAM_TIME_TO_UTC] = g_signal_new_class_handler(
      "stream-time-to-utc", G_TYPE_FROM_CLASS(klass),
      GSignalFlags(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION), G_CALLBACK(gst_vdb_src_stream_time_to_utc),
      NULL, NULL, NULL, G_TYPE_UINT64, 1, G_TYPE_UINT64);

  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "vdb video database source", "Source/Video",
      "Plays a vdb store stream with fast keyframe-aligned seeking", "vdb developers");

  base_class->start = GST_DEBUG_FUNCPTR(gst_vdb_src_start);
  base_class->stop = GST_DEBUG_FUNCPTR(gst_vdb_src_stop);
  base_class->is_seekable = GST_DEBUG_FUNCPTR(gst_vdb_src_is_seekable);
  base_class->event = GST_DEBUG_FUNCPTR(gst_vdb_src_event);
  element_class->send_event = GST_DEBUG_FUNCPTR(gst_vdb_src_send_event);
  base_class->do_seek = GST_DEBUG_FUNCPTR(gst_vdb_src_do_seek);
  base_class->unlock = GST_DEBUG_FUNCPTR(gst_vdb_src_unlock);
  base_class->unlock_stop = GST_DEBUG_FUNCPTR(gst_vdb_src_unlock_stop);
  base_class->query = GST_DEBUG_FUNCPTR(gst_vdb_src_query);
  push_class->create = GST_DEBUG_FUNCPTR(gst_vdb_src_create);

  GST_DEBUG_CATEGORY_INIT(gst_vdb_src_debug, "vdbsrc", 0, "vdb video database source");
  gst_type_mark_as_plugin_api(GST_TYPE_VDB_GAPS_TYPE, GstPluginAPIFlags(0));
}
