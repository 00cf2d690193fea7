/* vdbtracksrc: plays one track of a stream of a vdb store in TIME; vdbsrc
 * (gstvdbsrc.cpp) holds one per track and exposes their pads. Everything
 * the vdbsrc documentation says of playback is done here: segments and
 * stream time, seeks, gaps, follow, damage. A track that does not lead its
 * segments (audio beside video) starts at the lead's keyframe on KEY_UNIT
 * seeks (it reads the lead's keyframes through a second Reader) and plays
 * nothing in reverse or key-unit trick modes.
 */
#include "vdb_track_src.h"

#include "gstvdbsrc.h"

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "codec_headers.h"
#include "play_cursor.h"
#include "reader.h"
#include "time_parse.h"
#include "timeline.h"

GST_DEBUG_CATEGORY_STATIC(gst_vdb_track_src_debug);
#define GST_CAT_DEFAULT gst_vdb_track_src_debug

#define FOLLOW_POLL_US (10 * 1000) /* how often a follower looks for new frames */

/* The last seek event, as the application sent it (stream time): basesrc
 * keeps neither its KEY_UNIT / SNAP flags nor which fields were set. */
struct SeekRequest {
  bool set = false;
  GstSeekFlags flags = GST_SEEK_FLAG_NONE;
  GstSeekType start_type = GST_SEEK_TYPE_NONE, stop_type = GST_SEEK_TYPE_NONE;
  gint64 start = -1, stop = -1;
};

struct VdbTrackSrcState {
  /* Guards everything below but the wait fields. Held only for engine calls
   * and bookkeeping: never while pushing, posting a message or waiting. */
  std::mutex mu;
  std::unique_ptr<vdb::Reader> reader;
  std::unique_ptr<vdb::PlayCursor> cursor;
  /* Another track leads (this is audio beside video): its keyframes, read
   * on the first KEY_UNIT seek, are where such seeks land. In reverse or
   * key-unit trick modes this track plays nothing (silent). */
  bool follows_lead = false;
  std::unique_ptr<vdb::Reader> lead_reader;
  /* Opened by vdbsrc when it listed the tracks: the next start uses it. */
  std::unique_ptr<vdb::Reader> adopted;
  bool silent = false;
  vdb::Timeline timeline;
  bool collapse = false, follow = false, skip_corrupt = true;
  /* The segment was configured while the stream held nothing (a follower
   * that started first): send the real one with the first frames. */
  bool segment_pending = false;
  std::string caps;              /* caps negotiated: of the segment playing */
  std::deque<GstBuffer *> queue; /* buffers ready to push */
  guint64 range_start = vdb::kNoTime, range_stop = vdb::kNoTime; /* recorded PTS */
  SeekRequest seek;
  VdbTrackConfig config; /* under GST_OBJECT_LOCK */
  /* Waiting for a live writer; interrupted by unlock(). */
  GMutex lock;
  GCond cond;
  bool flushing = false;
};

struct _GstVdbTrackSrc {
  GstPushSrc parent;
  VdbTrackSrcState *s;
};

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("video/x-h264; video/x-h265; video/x-av1; video/x-vp9; audio/mpeg; "
                    "audio/x-opus; audio/x-alaw; audio/x-mulaw"));

#define gst_vdb_track_src_parent_class parent_class
G_DEFINE_TYPE(GstVdbTrackSrc, gst_vdb_track_src, GST_TYPE_PUSH_SRC);

/* ---------------------------------------------------------------- helpers */

static void clear_queue(VdbTrackSrcState *s) {
  for (GstBuffer *b : s->queue) gst_buffer_unref(b);
  s->queue.clear();
}

/* The one mapping from engine Status to GStreamer errors. */
static void post_error(GstVdbTrackSrc *self, const vdb::Status &st, const char *what) {
  switch (st.code()) {
    case vdb::Code::kCorrupt:
      GST_ELEMENT_ERROR(self, STREAM, DECODE, ("Store is damaged: %s", what),
                        ("%s", st.ToString().c_str()));
      break;
    case vdb::Code::kNotFound:
      GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("%s", st.message().c_str()), ("%s", what));
      break;
    default:
      GST_ELEMENT_ERROR(self, RESOURCE, READ, ("Could not read the store: %s", what),
                        ("%s", st.ToString().c_str()));
  }
}

/* Recorded PTS just past the last frame stored now. With s->mu. */
static guint64 recorded_end(VdbTrackSrcState *s) {
  return s->reader->StoredEndPts();
}

static void rebuild_timeline(VdbTrackSrcState *s) {
  s->timeline = vdb::Timeline::Build(s->reader->segments(), recorded_end(s), s->collapse);
  if (s->range_start != vdb::kNoTime) s->timeline.set_origin(s->range_start);
}

/* Stream time of the end of what plays. With s->mu. */
static guint64 duration(VdbTrackSrcState *s) {
  guint64 end = recorded_end(s);
  if (end == vdb::kNoTime) return 0;
  if (s->range_stop != vdb::kNoTime && end > s->range_stop) end = s->range_stop;
  return s->timeline.StreamTime(s->timeline.ToOutput(end));
}

/* Wraps the bytes of one read in a GstMemory shared by the frames' buffers. */
static GstMemory *wrap_bytes(std::vector<uint8_t> &&bytes) {
  auto *v = new std::vector<uint8_t>(std::move(bytes));
  return gst_memory_new_wrapped(GST_MEMORY_FLAG_READONLY, v->data(), v->size(), 0, v->size(), v,
                                [](gpointer p) { delete static_cast<std::vector<uint8_t> *>(p); });
}

/* Turns a batch into buffers with output timestamps. With s->mu. */
static std::vector<GstBuffer *> batch_buffers(VdbTrackSrcState *s, vdb::PlayBatch *b) {
  std::vector<GstBuffer *> out;
  guint64 shift = s->timeline.ShiftOf(b->segment_id);
  vdb::CodecHeaders headers;
  if (b->discont && vdb::InbandHeadersOfCaps(b->caps) != vdb::InbandHeaders::kNone) {
    auto seg = s->reader->SegmentById(b->segment_id);
    if (seg.ok()) headers = (*seg)->InbandHeaders();
  }
  const uint8_t *base = b->bytes.data(); /* the vector's storage moves into the memory */
  GstMemory *mem = wrap_bytes(std::move(b->bytes));
  bool first = true;
  for (const vdb::FrameView &v : b->frames) {
    const vdb::RecordHeader &h = v.header;
    GstBuffer *buf = gst_buffer_new();
    bool key = h.flags & vdb::kFlagKey;
    size_t at = 0; /* where the headers go in this unit */
    if (first && key && !headers.headers().empty() &&
        !vdb::CodecHeaders(headers.kind()).Scan(base + v.data_offset, h.payload_size)) {
      at = headers.InsertAt(base + v.data_offset, h.payload_size);
      if (at)
        gst_buffer_append_memory(buf, gst_memory_share(mem, gssize(v.data_offset), gssize(at)));
      std::vector<uint8_t> copy = headers.headers();
      gst_buffer_append_memory(buf, wrap_bytes(std::move(copy)));
    }
    gst_buffer_append_memory(
        buf, gst_memory_share(mem, gssize(v.data_offset + at), gssize(h.payload_size - at)));
    GST_BUFFER_PTS(buf) = h.pts != vdb::kNoTime ? (h.pts >= shift ? h.pts - shift : 0) : h.pts;
    GST_BUFFER_DTS(buf) = h.dts != vdb::kNoTime ? (h.dts >= shift ? h.dts - shift : 0) : h.dts;
    GST_BUFFER_DURATION(buf) = h.duration;
    if (!key) GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
    if (h.flags & vdb::kFlagHeader) GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_HEADER);
    if (h.flags & vdb::kFlagDroppable) GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DROPPABLE);
    if ((first && b->discont) || (h.flags & vdb::kFlagDiscont))
      GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DISCONT);
    first = false;
    out.push_back(buf);
  }
  gst_memory_unref(mem);
  return out;
}

/* Waits a little for a live writer; false when flushing. No other lock held. */
static bool wait_for_writer(VdbTrackSrcState *s) {
  g_mutex_lock(&s->lock);
  if (!s->flushing) g_cond_wait_until(&s->cond, &s->lock, g_get_monotonic_time() + FOLLOW_POLL_US);
  bool flushing = s->flushing;
  g_mutex_unlock(&s->lock);
  if (flushing) return false;
  std::lock_guard<std::mutex> l(s->mu);
  if (!s->cursor) return false;
  bool changed = false;
  vdb::Status st = s->cursor->Refresh(&changed);
  if (!st.ok()) GST_WARNING("refresh: %s", st.ToString().c_str());
  if (changed) rebuild_timeline(s);
  return true;
}

/* Fetches the next batch into the queue: sets caps and sends GAP events
 * first, posts warnings; never with s->mu held while doing so. */
static GstFlowReturn fill(GstVdbTrackSrc *self) {
  VdbTrackSrcState *s = self->s;
  for (;;) {
    vdb::PlayBatch batch;
    vdb::Status st;
    std::vector<GstBuffer *> bufs;
    bool finished = false, new_caps = false, gap = false, new_segment = false;
    guint64 gap_at = 0, gap_len = 0, origin = 0;
    {
      std::lock_guard<std::mutex> l(s->mu);
      if (!s->cursor) return GST_FLOW_FLUSHING;
      if (s->silent) return GST_FLOW_EOS;
      st = s->cursor->Next(&batch);
      finished = s->cursor->finished();
      if (st.ok() && s->segment_pending) {
        /* The catalog record of the segment these frames are from, which
         * the writer adds just after its files: a reader that listed the
         * files in between knows no start for it. Else the first frame
         * played is the origin: never a segment at -1 that drops them all. */
        bool changed = false;
        vdb::Status refreshed = s->cursor->Refresh(&changed);
        if (!refreshed.ok()) GST_WARNING("refresh: %s", refreshed.ToString().c_str());
        rebuild_timeline(s);
        if (s->timeline.origin() == vdb::kNoTime && !batch.frames.empty()) {
          s->range_start = batch.frames.front().header.pts;
          s->timeline.set_origin(s->range_start);
        }
        s->segment_pending = false;
        new_segment = true;
        origin = s->timeline.ToOutput(s->timeline.origin());
      }
      if (st.ok()) {
        new_caps = batch.caps != s->caps;
        if (new_caps) s->caps = batch.caps;
        gap = batch.gap_start != vdb::kNoTime && !s->collapse;
        if (gap) {
          gap_at = s->timeline.ToOutput(batch.gap_start);
          gap_len = batch.gap_end - batch.gap_start;
        }
        bufs = batch_buffers(s, &batch);
      }
    }
    if (!batch.warning.empty())
      GST_ELEMENT_WARNING(self, STREAM, DECODE, ("Skipped footage"), ("%s", batch.warning.c_str()));
    if (st.ok()) {
      if (new_caps) {
        GstCaps *caps = gst_caps_from_string(batch.caps.c_str());
        gboolean ok = caps && gst_base_src_set_caps(GST_BASE_SRC(self), caps);
        if (caps) gst_caps_unref(caps);
        if (!ok) {
          for (GstBuffer *b : bufs) gst_buffer_unref(b);
          GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("Downstream refused the stored caps"),
                            ("%s", batch.caps.c_str()));
          return GST_FLOW_NOT_NEGOTIATED;
        }
      }
      if (new_segment) { /* a follower that started before the first frame */
        GstSegment seg;
        gst_segment_init(&seg, GST_FORMAT_TIME);
        seg.start = seg.position = origin;
        seg.time = 0;
        gst_base_src_new_segment(GST_BASE_SRC(self), &seg);
      }
      if (gap) {
        GST_DEBUG_OBJECT(self, "gap at %" GST_TIME_FORMAT " for %" GST_TIME_FORMAT,
                         GST_TIME_ARGS(gap_at), GST_TIME_ARGS(gap_len));
        gst_pad_push_event(GST_BASE_SRC_PAD(self), gst_event_new_gap(gap_at, gap_len));
      }
      std::lock_guard<std::mutex> l(s->mu);
      for (GstBuffer *b : bufs) s->queue.push_back(b);
      return GST_FLOW_OK;
    }
    if (st.code() != vdb::Code::kEnd) {
      post_error(self, st, "playback stopped");
      return GST_FLOW_ERROR;
    }
    if (!s->follow || finished || GST_BASE_SRC(self)->segment.rate < 0) return GST_FLOW_EOS;
    if (!wait_for_writer(s)) return GST_FLOW_FLUSHING;
  }
}

/* ---------------------------------------------------------- GstBaseSrc */

static gboolean gst_vdb_track_src_start(GstBaseSrc *src) {
  GstVdbTrackSrc *self = GST_VDB_TRACK_SRC(src);
  VdbTrackSrcState *s = self->s;
  GST_OBJECT_LOCK(self);
  VdbTrackConfig c = self->s->config;
  GST_OBJECT_UNLOCK(self);
  const std::string &location = c.location, &stream = c.stream, &start = c.start_time,
                    &stop = c.stop_time;
  bool follow = c.follow, collapse = c.collapse, skip_corrupt = c.skip_corrupt,
       live_edge = c.live_edge;
  guint32 track = c.track, lead = c.lead;
  if (location.empty()) {
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("No store location set"),
                      ("set the 'location' property to a vdb store directory"));
    return FALSE;
  }
  if (!c.where) {
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ, ("Could not open store '%s'", location.c_str()),
                      ("%s", c.open_error.c_str()));
    return FALSE;
  }
  guint64 utc[2] = {0, 0};
  for (int i = 0; i < 2; i++) {
    const std::string &text = i == 0 ? start : stop;
    if (!text.empty() && !vdb::ParseUtc(text, &utc[i])) {
      GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
                        ("Invalid %s '%s'", i == 0 ? "start-time" : "stop-time", text.c_str()),
                        ("use ISO 8601 (2026-11-23T10:00:00Z) or nanoseconds since 1970"));
      return FALSE;
    }
  }
  vdb::Result<std::unique_ptr<vdb::Reader>> r = vdb::Status(vdb::Code::kNotFound, "");
  {
    std::lock_guard<std::mutex> l(s->mu);
    if (s->adopted && s->adopted->track() == track) r = std::move(s->adopted);
    s->adopted.reset();
  }
  bool changed = false;
  if (r.ok()) {
    (void)(*r)->Refresh(&changed); /* what a writer added since it was opened */
  } else {
    r = vdb::Reader::Open(c.fs(), c.store(), stream, 4, track);
  }
  if (!r.ok()) {
    if (r.status().code() == vdb::Code::kNotFound || r.status().code() == vdb::Code::kCorrupt)
      post_error(self, r.status(), ("open stream '" + stream + "'").c_str());
    else
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ, ("Could not open store '%s'", location.c_str()),
                        ("%s", r.status().ToString().c_str()));
    return FALSE;
  }
  if (!(*r)->problem().empty())  // played from the segment files: say so, and the fix
    GST_ELEMENT_WARNING(self, STREAM, DECODE,
                        ("The catalog of stream '%s' is damaged", stream.c_str()),
                        ("%s. Playing what the segment files hold; 'vdb repair %s' rebuilds it.",
                         (*r)->problem().c_str(), location.c_str()));
  if ((*r)->segments().empty() && !follow) {
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND,
                      ("Stream '%s' in '%s' holds no recording", stream.c_str(), location.c_str()),
                      (NULL));
    return FALSE;
  }
  std::lock_guard<std::mutex> l(s->mu);
  s->reader = std::move(r).value();
  s->follows_lead = track != lead;
  s->lead_reader.reset();
  s->silent = false;
  s->cursor.reset(new vdb::PlayCursor(s->reader.get()));
  s->follow = follow;
  s->collapse = collapse;
  s->skip_corrupt = skip_corrupt;
  s->range_start = s->range_stop = vdb::kNoTime;
  rebuild_timeline(s); /* O(segments): once here, again only when the catalog changes */
  if (utc[0]) s->range_start = s->timeline.UtcToPts(utc[0]);
  if (utc[1]) s->range_stop = s->timeline.UtcToPts(utc[1]);
  if (live_edge && c.live_edge_pts != vdb::kNoTime) {
    s->range_start = c.live_edge_pts; /* the same for every track */
  } else if (live_edge && !s->reader->segments().empty()) {
    /* From the newest keyframe: the lead's (video's), for every track. */
    if (s->follows_lead) {
      auto lr = vdb::Reader::Open(c.fs(), c.store(), stream, 2, lead);
      if (lr.ok()) s->lead_reader = std::move(lr).value();
    }
    vdb::Reader *keys = s->follows_lead && s->lead_reader ? s->lead_reader.get() : s->reader.get();
    auto last = keys->SegmentById(keys->segments().back().id);
    if (last.ok() && (*last)->keyframe_count())
      s->range_start = (*last)->entry((*last)->keyframe((*last)->keyframe_count() - 1)).pts;
  }
  if (s->range_start != vdb::kNoTime) s->timeline.set_origin(s->range_start);
  /* The caps of the segment playback starts in (or, for a track it lacks,
   * of the next one that has it): what negotiation offers. */
  s->caps.clear();
  long first = s->reader->catalog().FindByTime(s->timeline.origin());
  for (long i = first;
       i >= 0 && i < first + 3 && size_t(i) < s->reader->segments().size() && s->caps.empty();
       i++) {
    auto seg = s->reader->Segment(size_t(i));
    if (seg.ok()) s->caps = (*seg)->caps();
  }
  s->seek = SeekRequest();
  s->flushing = false;
  return TRUE;
}

static gboolean gst_vdb_track_src_stop(GstBaseSrc *src) {
  VdbTrackSrcState *s = GST_VDB_TRACK_SRC(src)->s;
  std::lock_guard<std::mutex> l(s->mu);
  clear_queue(s);
  s->cursor.reset();
  s->lead_reader.reset();
  s->reader.reset();
  s->caps.clear();
  return TRUE;
}

/* Caps come from the store, never from the template. */
static GstCaps *gst_vdb_track_src_get_caps(GstBaseSrc *src, GstCaps *filter) {
  VdbTrackSrcState *s = GST_VDB_TRACK_SRC(src)->s;
  std::string stored;
  {
    std::lock_guard<std::mutex> l(s->mu);
    stored = s->caps;
  }
  GstCaps *caps = stored.empty() ? NULL : gst_caps_from_string(stored.c_str());
  if (!caps) caps = gst_pad_get_pad_template_caps(GST_BASE_SRC_PAD(src));
  if (filter) {
    GstCaps *both = gst_caps_intersect_full(filter, caps, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref(caps);
    caps = both;
  }
  return caps;
}

static gboolean gst_vdb_track_src_negotiate(GstBaseSrc *src) {
  VdbTrackSrcState *s = GST_VDB_TRACK_SRC(src)->s;
  std::string stored;
  {
    std::lock_guard<std::mutex> l(s->mu);
    stored = s->caps;
  }
  if (stored.empty()) return TRUE; /* set with the first buffer */
  GstCaps *caps = gst_caps_from_string(stored.c_str());
  if (!caps) return FALSE;
  gboolean ok = gst_base_src_set_caps(src, caps);
  gst_caps_unref(caps);
  return ok;
}

static gboolean gst_vdb_track_src_is_seekable(GstBaseSrc *) {
  return TRUE;
}

/* Remembers a seek as sent, in stream time, for do_seek. */
static void remember_seek(GstVdbTrackSrc *self, GstEvent *event) {
  if (GST_EVENT_TYPE(event) != GST_EVENT_SEEK) return;
  SeekRequest r;
  GstFormat format;
  gst_event_parse_seek(event, NULL, &format, &r.flags, &r.start_type, &r.start, &r.stop_type,
                       &r.stop);
  r.set = format == GST_FORMAT_TIME;
  std::lock_guard<std::mutex> l(self->s->mu);
  self->s->seek = r;
}

static gboolean gst_vdb_track_src_event(GstBaseSrc *src, GstEvent *event) {
  remember_seek(GST_VDB_TRACK_SRC(src), event);
  return GST_BASE_SRC_CLASS(parent_class)->event(src, event);
}

static gboolean gst_vdb_track_src_send_event(GstElement *element, GstEvent *event) {
  remember_seek(GST_VDB_TRACK_SRC(element), event);
  return GST_ELEMENT_CLASS(parent_class)->send_event(element, event);
}

static vdb::Snap snap_of(GstSeekFlags flags) {
  if ((flags & GST_SEEK_FLAG_SNAP_NEAREST) == GST_SEEK_FLAG_SNAP_NEAREST)
    return vdb::Snap::kNearest;
  if (flags & GST_SEEK_FLAG_SNAP_AFTER) return vdb::Snap::kAfter;
  return vdb::Snap::kBefore;
}

/* basesrc computed `segment` from the seek's stream times (or from the
 * previous segment): turn it into output PTS, position the cursor, and set
 * `time` so that stream time runs 0 ... duration. */
static gboolean gst_vdb_track_src_do_seek(GstBaseSrc *src, GstSegment *segment) {
  GstVdbTrackSrc *self = GST_VDB_TRACK_SRC(src);
  VdbTrackSrcState *s = self->s;
  std::lock_guard<std::mutex> l(s->mu);
  if (!s->reader) return FALSE;
  bool changed = false;
  (void)s->cursor->Refresh(&changed);
  if (changed || s->timeline.empty()) rebuild_timeline(s);
  const vdb::Timeline &t = s->timeline;
  SeekRequest req = s->seek;
  s->seek = SeekRequest();
  clear_queue(s);
  if (t.empty()) { /* nothing recorded yet: the segment comes with the first frames */
    vdb::PlayOptions o;
    o.skip_corrupt = s->skip_corrupt;
    (void)s->cursor->Seek(0, vdb::Snap::kBefore, o);
    s->segment_pending = true;
    return TRUE;
  }
  s->segment_pending = false;
  guint64 start = segment->start, stop = segment->stop;
  if (!req.set) { /* the initial segment: from stream time 0 */
    start = t.OutputAt(segment->start == GST_CLOCK_TIME_NONE ? 0 : segment->start);
  } else {
    if (req.start_type == GST_SEEK_TYPE_SET) start = t.OutputAt(guint64(MAX(req.start, 0)));
    if (req.stop_type == GST_SEEK_TYPE_SET)
      stop = req.stop < 0 ? GST_CLOCK_TIME_NONE : t.OutputAt(guint64(req.stop));
  }
  guint64 origin = t.ToOutput(t.origin());
  if (start == vdb::kNoTime || start < origin) start = origin;
  if (s->range_stop != vdb::kNoTime) {
    guint64 rs = t.ToOutput(s->range_stop);
    if (stop == GST_CLOCK_TIME_NONE || stop > rs) stop = rs;
  }
  vdb::PlayOptions o;
  o.keys_only = segment->flags & GST_SEGMENT_FLAG_TRICKMODE_KEY_UNITS;
  o.skip_corrupt = s->skip_corrupt;
  /* Audio beside video plays forward at every frame, or not at all. */
  s->silent = s->follows_lead && (segment->rate < 0 || o.keys_only);
  if (segment->rate >= 0) {
    o.stop = stop == GST_CLOCK_TIME_NONE ? vdb::kNoTime : t.ToRecorded(stop);
    vdb::Snap snap = (req.flags & GST_SEEK_FLAG_KEY_UNIT) ? snap_of(req.flags) : vdb::Snap::kBefore;
    guint64 target = t.ToRecorded(start);
    guint64 key_pts = vdb::kNoTime;
    if ((req.flags & GST_SEEK_FLAG_KEY_UNIT) && s->follows_lead && !s->lead_reader) {
      GST_OBJECT_LOCK(self);
      VdbTrackConfig c = s->config;
      GST_OBJECT_UNLOCK(self);
      auto lr = vdb::Reader::Open(c.fs(), c.store(), c.stream, 2, c.lead);
      if (lr.ok()) s->lead_reader = std::move(lr).value();
    }
    if ((req.flags & GST_SEEK_FLAG_KEY_UNIT) && s->lead_reader) {
      /* The video snaps to its keyframe: so does the audio beside it. */
      (void)s->lead_reader->Refresh(&changed);
      auto p = s->lead_reader->FindKeyframe(target, snap);
      auto seg = p.ok() ? s->lead_reader->Segment(p->segment)
                        : vdb::Result<vdb::SegmentReader *>(p.status());
      if (seg.ok()) target = key_pts = (*seg)->entry(p->frame).pts;
      snap = vdb::Snap::kBefore;
    }
    (void)s->cursor->Seek(target, snap, o);
    if (!s->follows_lead) key_pts = s->cursor->seek_key_pts();
    if ((req.flags & GST_SEEK_FLAG_KEY_UNIT) && key_pts != vdb::kNoTime) {
      guint64 key = t.ToOutput(key_pts);
      GST_DEBUG_OBJECT(self, "key unit seek %" GST_TIME_FORMAT " -> %" GST_TIME_FORMAT,
                       GST_TIME_ARGS(start), GST_TIME_ARGS(key));
      start = MAX(key, origin);
    }
    segment->position = start;
  } else {
    o.direction = vdb::PlayDirection::kReverse;
    o.start = t.ToRecorded(start);
    guint64 end = t.ToOutput(recorded_end(s));
    if (stop == GST_CLOCK_TIME_NONE || stop > end) stop = end;
    (void)s->cursor->Seek(t.ToRecorded(stop), vdb::Snap::kBefore, o);
    segment->position = stop;
  }
  segment->start = start;
  segment->stop = stop;
  segment->time = t.StreamTime(start);
  GST_DEBUG_OBJECT(self, "segment %" GST_SEGMENT_FORMAT, segment);
  return TRUE;
}

static GstFlowReturn gst_vdb_track_src_create(GstPushSrc *psrc, GstBuffer **outbuf) {
  GstVdbTrackSrc *self = GST_VDB_TRACK_SRC(psrc);
  VdbTrackSrcState *s = self->s;
  bool reverse = GST_BASE_SRC(psrc)->segment.rate < 0;
  bool empty;
  {
    std::lock_guard<std::mutex> l(s->mu);
    empty = s->queue.empty();
  }
  if (empty) {
    GstFlowReturn r = fill(self);
    if (r != GST_FLOW_OK) return r;
  }
  std::lock_guard<std::mutex> l(s->mu);
  if (s->queue.empty()) return GST_FLOW_FLUSHING;
  if (reverse) {
    /* One GOP per call, as a buffer list, so that basesrc marks only its
     * first buffer DISCONT and takes the keyframe time as the position. */
    GstBufferList *list = gst_buffer_list_new_sized(guint(s->queue.size()));
    for (GstBuffer *b : s->queue) gst_buffer_list_add(list, b);
    s->queue.clear();
    gst_base_src_submit_buffer_list(GST_BASE_SRC(psrc), list);
    *outbuf = NULL;
    return GST_FLOW_OK;
  }
  *outbuf = s->queue.front();
  s->queue.pop_front();
  return GST_FLOW_OK;
}

static gboolean gst_vdb_track_src_unlock(GstBaseSrc *src) {
  VdbTrackSrcState *s = GST_VDB_TRACK_SRC(src)->s;
  g_mutex_lock(&s->lock);
  s->flushing = true;
  g_cond_broadcast(&s->cond);
  g_mutex_unlock(&s->lock);
  return TRUE;
}

static gboolean gst_vdb_track_src_unlock_stop(GstBaseSrc *src) {
  VdbTrackSrcState *s = GST_VDB_TRACK_SRC(src)->s;
  g_mutex_lock(&s->lock);
  s->flushing = false;
  g_mutex_unlock(&s->lock);
  return TRUE;
}

static gboolean gst_vdb_track_src_query(GstBaseSrc *src, GstQuery *query) {
  GstVdbTrackSrc *self = GST_VDB_TRACK_SRC(src);
  VdbTrackSrcState *s = self->s;
  switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_DURATION: {
      GstFormat fmt;
      gst_query_parse_duration(query, &fmt, NULL);
      std::lock_guard<std::mutex> l(s->mu);
      if (fmt != GST_FORMAT_TIME || !s->reader) break;
      gst_query_set_duration(query, GST_FORMAT_TIME, gint64(duration(s)));
      return TRUE;
    }
    case GST_QUERY_SEEKING: {
      GstFormat fmt;
      gst_query_parse_seeking(query, &fmt, NULL, NULL, NULL);
      std::lock_guard<std::mutex> l(s->mu);
      if (fmt != GST_FORMAT_TIME || !s->reader) break;
      gst_query_set_seeking(query, GST_FORMAT_TIME, TRUE, 0, gint64(duration(s)));
      return TRUE;
    }
    case GST_QUERY_POSITION: {
      GstFormat fmt;
      gst_query_parse_position(query, &fmt, NULL);
      if (fmt != GST_FORMAT_TIME) break;
      GST_OBJECT_LOCK(src);
      guint64 pos =
          gst_segment_to_stream_time(&src->segment, GST_FORMAT_TIME, src->segment.position);
      GST_OBJECT_UNLOCK(src);
      gst_query_set_position(query, GST_FORMAT_TIME,
                             GST_CLOCK_TIME_IS_VALID(pos) ? gint64(pos) : -1);
      return TRUE;
    }
    default:
      break;
  }
  return GST_BASE_SRC_CLASS(parent_class)->query(src, query);
}

/* ---------------------------------------------------------- for vdbsrc */

void gst_vdb_track_src_configure(GstVdbTrackSrc *self, const VdbTrackConfig &config,
                                 std::unique_ptr<vdb::Reader> reader) {
  GST_OBJECT_LOCK(self);
  self->s->config = config;
  GST_OBJECT_UNLOCK(self);
  std::lock_guard<std::mutex> l(self->s->mu);
  self->s->adopted = std::move(reader);
}

GstStructure *gst_vdb_track_src_get_ranges(GstVdbTrackSrc *self) {
  VdbTrackSrcState *s = self->s;
  GstStructure *out = gst_structure_new_empty("vdbsrc-ranges");
  GValue list = G_VALUE_INIT;
  g_value_init(&list, GST_TYPE_LIST);
  {
    std::lock_guard<std::mutex> l(s->mu);
    if (s->reader) rebuild_timeline(s);
    vdb::Timeline t = s->reader ? s->timeline : vdb::Timeline();
    for (const vdb::Run &r : t.runs()) {
      GstStructure *range = gst_structure_new(
          "range", "start", G_TYPE_UINT64, t.StreamTime(t.ToOutput(r.first_pts)), "end",
          G_TYPE_UINT64, t.StreamTime(t.ToOutput(r.end_pts)), "utc-start", G_TYPE_UINT64,
          guint64(r.utc_start), "utc-end", G_TYPE_UINT64, guint64(r.utc_end), NULL);
      GValue v = G_VALUE_INIT;
      g_value_init(&v, GST_TYPE_STRUCTURE);
      gst_value_set_structure(&v, range);
      gst_value_list_append_and_take_value(&list, &v);
      gst_structure_free(range);
    }
  }
  gst_structure_take_value(out, "ranges", &list);
  return out;
}

guint64 gst_vdb_track_src_utc_to_stream_time(GstVdbTrackSrc *self, guint64 utc) {
  std::lock_guard<std::mutex> l(self->s->mu);
  if (!self->s->reader) return GST_CLOCK_TIME_NONE;
  const vdb::Timeline &t = self->s->timeline;
  guint64 pts = t.UtcToPts(utc);
  return pts == vdb::kNoTime ? GST_CLOCK_TIME_NONE : t.StreamTime(t.ToOutput(pts));
}

guint64 gst_vdb_track_src_stream_time_to_utc(GstVdbTrackSrc *self, guint64 time) {
  std::lock_guard<std::mutex> l(self->s->mu);
  if (!self->s->reader || self->s->timeline.empty()) return 0;
  const vdb::Timeline &t = self->s->timeline;
  return t.PtsToUtc(t.ToRecorded(t.OutputAt(time)));
}

/* ---------------------------------------------------------- GObject */

static void gst_vdb_track_src_finalize(GObject *object) {
  GstVdbTrackSrc *self = GST_VDB_TRACK_SRC(object);
  clear_queue(self->s);
  g_mutex_clear(&self->s->lock);
  g_cond_clear(&self->s->cond);
  delete self->s;
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_vdb_track_src_init(GstVdbTrackSrc *self) {
  self->s = new VdbTrackSrcState();
  g_mutex_init(&self->s->lock);
  g_cond_init(&self->s->cond);
  gst_base_src_set_format(GST_BASE_SRC(self), GST_FORMAT_TIME);
}

static void gst_vdb_track_src_class_init(GstVdbTrackSrcClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstBaseSrcClass *base_class = GST_BASE_SRC_CLASS(klass);
  GstPushSrcClass *push_class = GST_PUSH_SRC_CLASS(klass);

  gobject_class->finalize = gst_vdb_track_src_finalize;

  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(element_class, "vdb track source", "Source/Video/Audio",
                                        "Plays one track of a vdb store stream (inside vdbsrc)",
                                        "vdb developers");

  base_class->start = GST_DEBUG_FUNCPTR(gst_vdb_track_src_start);
  base_class->stop = GST_DEBUG_FUNCPTR(gst_vdb_track_src_stop);
  base_class->is_seekable = GST_DEBUG_FUNCPTR(gst_vdb_track_src_is_seekable);
  base_class->event = GST_DEBUG_FUNCPTR(gst_vdb_track_src_event);
  element_class->send_event = GST_DEBUG_FUNCPTR(gst_vdb_track_src_send_event);
  base_class->do_seek = GST_DEBUG_FUNCPTR(gst_vdb_track_src_do_seek);
  base_class->unlock = GST_DEBUG_FUNCPTR(gst_vdb_track_src_unlock);
  base_class->unlock_stop = GST_DEBUG_FUNCPTR(gst_vdb_track_src_unlock_stop);
  base_class->query = GST_DEBUG_FUNCPTR(gst_vdb_track_src_query);
  base_class->get_caps = GST_DEBUG_FUNCPTR(gst_vdb_track_src_get_caps);
  base_class->negotiate = GST_DEBUG_FUNCPTR(gst_vdb_track_src_negotiate);
  push_class->create = GST_DEBUG_FUNCPTR(gst_vdb_track_src_create);

  GST_DEBUG_CATEGORY_INIT(gst_vdb_track_src_debug, "vdbtracksrc", 0, "vdb track source");
}
