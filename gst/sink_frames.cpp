/* vdbsink's frame path: contract in sink_state.h. */
#include <gst/video/video.h>

#include "sink_state.h"

GST_DEBUG_CATEGORY_EXTERN(gst_vdb_sink_debug);
#define GST_CAT_DEFAULT gst_vdb_sink_debug

/* Frames of the other tracks that come before the video's first keyframe
 * (a non-live audio source racing ahead of a slow encoder) wait for it, up
 * to this many frames and bytes (AAC: 87 s): the oldest go first, with a
 * warning. The sink never blocks a pad for another (a demuxer feeding both
 * from one thread would deadlock). */
#define MAX_HELD 4096
#define MAX_HELD_BYTES (32 << 20)

static guint64 now_utc(void) {
  return guint64(g_get_real_time()) * 1000;
}

void vdbsink_request_keyframe(GstVdbSink *self, VdbSinkTrack *lead) {
  VdbSinkState *s = self->s;
  if (s->key_requested || !lead || !lead->video) return;
  GST_OBJECT_LOCK(self);
  gboolean send = self->send_keyframe_requests;
  GST_OBJECT_UNLOCK(self);
  if (!send) return;
  s->key_requested = true;
  GST_DEBUG_OBJECT(self, "asking upstream for a keyframe");
  gst_pad_push_event(lead->pad, gst_video_event_new_upstream_force_key_unit(
                                    GST_CLOCK_TIME_NONE, TRUE, ++s->key_request_count));
}

static VdbSinkTrack *lead_track(VdbSinkState *s) {
  for (auto &t : s->tracks)
    if (t->track == s->lead) return t.get();
  return nullptr;
}

void vdbsink_drop_held(VdbSinkState *s, VdbSinkTrack *only) {
  for (auto it = s->held.begin(); it != s->held.end();)
    if (!only || it->first == only) {
      s->held_bytes -= gst_buffer_get_size(it->second);
      gst_buffer_unref(it->second);
      it = s->held.erase(it);
    } else {
      ++it;
    }
}

static guint64 frame_utc(GstVdbSink *self, GstBuffer *buf, guint64 pts) {
  if (self->wallclock == GST_VDB_WALLCLOCK_REFERENCE_META) {
    static GstCaps *ntp = gst_caps_new_empty_simple("timestamp/x-ntp");
    static GstCaps *unx = gst_caps_new_empty_simple("timestamp/x-unix");
    GstReferenceTimestampMeta *m = gst_buffer_get_reference_timestamp_meta(buf, ntp);
    if (m && m->timestamp > 2208988800ull * GST_SECOND)
      return m->timestamp - 2208988800ull * GST_SECOND; /* NTP epoch is 1900 */
    m = gst_buffer_get_reference_timestamp_meta(buf, unx);
    if (m) return m->timestamp;
  }
  return self->s->clock.Utc(pts);
}

static GstFlowReturn write_error(GstVdbSink *self, const vdb::Status &st) {
  if (st.code() == vdb::Code::kNoSpace)
    GST_ELEMENT_ERROR(self, RESOURCE, NO_SPACE_LEFT,
                      ("Disk full while recording to '%s'", self->location),
                      ("%s. Everything recorded before this point is kept; set max-total-bytes "
                       "or min-free-space to make room automatically.",
                       st.ToString().c_str()));
  else
    GST_ELEMENT_ERROR(self, RESOURCE, WRITE, ("Could not write to store '%s'", self->location),
                      ("%s", st.ToString().c_str()));
  return GST_FLOW_ERROR;
}

static GstFlowReturn store_held(GstVdbSink *self, std::unique_lock<std::mutex> &lock);

/* A time of a pad's segment as the same running time in the lead's segment
 * (NONE if it falls before the lead's segment starts). */
static guint64 to_lead_time(const GstSegment *seg, const GstSegment *lead, guint64 t) {
  if (!GST_CLOCK_TIME_IS_VALID(t)) return GST_CLOCK_TIME_NONE;
  guint64 rt;
  if (gst_segment_to_running_time_full(seg, GST_FORMAT_TIME, t, &rt) <= 0)
    return GST_CLOCK_TIME_NONE;
  guint64 out;
  if (gst_segment_position_from_running_time_full(lead, GST_FORMAT_TIME, rt, &out) <= 0)
    return GST_CLOCK_TIME_NONE;
  return out;
}

GstFlowReturn vdbsink_render(GstVdbSink *self, VdbSinkTrack *t, GstBuffer *buf,
                             std::unique_lock<std::mutex> &lock) {
  VdbSinkState *s = self->s;
  bool lead = t->track == s->lead;
  VdbSinkTrack *lt = lead ? t : lead_track(s);

  GST_OBJECT_LOCK(self);
  gboolean record = self->record;
  GST_OBJECT_UNLOCK(self);
  if (!record) {
    if (s->writer->recording()) {
      GST_INFO_OBJECT(self, "recording paused");
      vdb::Status st = s->writer->Close();
      if (!st.ok()) return write_error(self, st);
      s->need_key = true;
      s->key_requested = false;
    }
    return GST_FLOW_OK;
  }

  guint64 pts = GST_BUFFER_PTS(buf), dts = GST_BUFFER_DTS(buf);
  /* An elementary stream read from a file (filesrc ! h264parse) has DTS
   * from its frame rate but no PTS: play it in decode order. */
  if (!GST_CLOCK_TIME_IS_VALID(pts) && GST_CLOCK_TIME_IS_VALID(dts)) pts = dts;
  guint64 in_time = GST_CLOCK_TIME_IS_VALID(pts) ? pts : dts;
  /* Every audio frame decodes on its own. */
  bool key = !t->video || !GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
  if (!GST_CLOCK_TIME_IS_VALID(in_time)) {
    GST_ELEMENT_WARNING(
        self, STREAM, FORMAT, ("Dropped a frame without timestamps"),
        ("vdbsink needs a PTS or DTS on every buffer (pad %s)", GST_PAD_NAME(t->pad)));
    s->untimed_dropped++;
    if (lead) {
      s->need_key = true;
      vdbsink_request_keyframe(self, lt);
    }
    return GST_FLOW_OK;
  }

  bool discont = GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DISCONT);
  if (lead) {
    auto d =
        s->clock.Lead(in_time, GST_CLOCK_TIME_IS_VALID(dts) ? dts : vdb::kNoTime, key, discont);
    if (d.step == vdb::RecordingClock::Step::kNewRun)
      s->clock.StartRun(in_time, s->writer->end_pts(), s->writer->end_utc(), now_utc());
    if (d.step == vdb::RecordingClock::Step::kNewRun ||
        d.step == vdb::RecordingClock::Step::kNewSegment) {
      GST_INFO_OBJECT(self, "%s: new %s, input %" GST_TIME_FORMAT " stored at %" GST_TIME_FORMAT,
                      d.why, d.step == vdb::RecordingClock::Step::kNewRun ? "run" : "segment",
                      GST_TIME_ARGS(in_time), GST_TIME_ARGS(s->clock.Stored(in_time)));
      s->writer->Split();
    } else if (d.step == vdb::RecordingClock::Step::kDropUntilKey) {
      GST_WARNING_OBJECT(self, "%s: dropping until a keyframe", d.why);
      s->need_key = true;
    }
  } else if (!s->clock.started()) {
    /* The first segment starts at the video's first keyframe: wait for it. */
    while (!s->held.empty() && (s->held.size() >= MAX_HELD ||
                                s->held_bytes + gst_buffer_get_size(buf) > MAX_HELD_BYTES)) {
      if (s->held_dropped++ == 0)
        GST_ELEMENT_WARNING(self, STREAM, TOO_LAZY,
                            ("Audio arrives long before the video's first keyframe: the oldest "
                             "is dropped"),
                            ("vdbsink holds at most %d frames (%d MiB) until the first segment "
                             "opens; start the video sooner, or put a queue on each branch",
                             MAX_HELD, MAX_HELD_BYTES >> 20));
      s->held_bytes -= gst_buffer_get_size(s->held.front().second);
      gst_buffer_unref(s->held.front().second);
      s->held.pop_front();
    }
    s->held_bytes += gst_buffer_get_size(buf);
    s->held.emplace_back(t, gst_buffer_ref(buf));
    return GST_FLOW_OK;
  } else if (!s->writer->recording() || !lt) {
    GST_LOG_OBJECT(t->pad, "no segment open (recording paused): frame dropped");
    return GST_FLOW_OK;
  } else {
    /* The lead keeps the timestamps it came with (x264enc's start at 1000
     * h); the other tracks are put on its timeline by running time. */
    pts = to_lead_time(&t->segment, &lt->segment, pts);
    dts = to_lead_time(&t->segment, &lt->segment, dts);
    if (!GST_CLOCK_TIME_IS_VALID(pts)) {
      GST_LOG_OBJECT(t->pad, "frame before the video's segment: dropped");
      return GST_FLOW_OK;
    }
  }

  vdb::Frame f;
  f.track = t->track;
  f.pts = s->clock.Stored(GST_CLOCK_TIME_IS_VALID(pts) ? pts : vdb::kNoTime);
  f.dts = s->clock.Stored(GST_CLOCK_TIME_IS_VALID(dts) ? dts : vdb::kNoTime);
  f.duration = GST_BUFFER_DURATION(buf);
  f.flags = (key ? vdb::kFlagKey : 0) | (discont ? vdb::kFlagDiscont : 0) |
            (GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_HEADER) ? vdb::kFlagHeader : 0) |
            (GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DROPPABLE) ? vdb::kFlagDroppable : 0);

  if (lead && (s->need_key || !s->writer->recording())) {
    if (!key) {
      GST_LOG_OBJECT(self, "dropping delta frame before the first keyframe");
      if (!s->need_key)
        GST_ELEMENT_WARNING(self, STREAM, WRONG_TYPE, ("Dropping frames until a keyframe"),
                            ("a segment must start with a keyframe"));
      s->need_key = true;
      vdbsink_request_keyframe(self, lt);
      return GST_FLOW_OK;
    }
    s->need_key = false;
  }
  if (key && lead) s->key_requested = false;

  GstMapInfo map;
  if (!gst_buffer_map(buf, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR(self, RESOURCE, READ, ("Could not map buffer"), (NULL));
    return GST_FLOW_ERROR;
  }
  f.data = map.data;
  f.size = map.size;
  f.utc = frame_utc(self, buf, f.pts != vdb::kNoTime ? f.pts : f.dts);

  /* (The writer gives a segment the in-band headers its codec needs.) */
  vdb::Status st = s->writer->Append(f);
  if (st.code() == vdb::Code::kNoSpace && vdbsink_retention_policy(self).active()) {
    GST_WARNING_OBJECT(self, "disk full: applying retention now");
    lock.unlock();
    s->housekeeper.RunNow();
    lock.lock();
    st = s->writer->Append(f);
  }
  gst_buffer_unmap(buf, &map);
  if (!st.ok()) {
    if (st.code() != vdb::Code::kInvalidArgument) return write_error(self, st);
    if (lead) {
      GST_ELEMENT_WARNING(self, STREAM, FORMAT, ("Dropped a frame that cannot be stored"),
                          ("%s", st.message().c_str()));
      s->need_key = true;
    } else {
      GST_DEBUG_OBJECT(t->pad, "frame dropped: %s", st.message().c_str());
    }
    return GST_FLOW_OK;
  }
  if (lead) s->clock.LeadStored(in_time, f.dts);
  if (lead && key && !s->warned_headerless && s->writer->headerless_segments()) {
    s->warned_headerless = true;
    GST_ELEMENT_WARNING(self, STREAM, FORMAT,
                        ("Keyframes carry no codec headers: segments may not play on their own"),
                        ("no in-band SPS/PPS (VPS/SPS/PPS, AV1 sequence header) was seen before "
                         "a segment started on pad %s; a parser that inserts them "
                         "(h264parse config-interval=-1) or a stream format with codec_data "
                         "(avc, hvc1) fixes it",
                         GST_PAD_NAME(t->pad)));
  }
  if (s->writer->RotationDue()) vdbsink_request_keyframe(self, lt);
  if (lead && !s->held.empty()) return store_held(self, lock);
  return GST_FLOW_OK;
}

/* The first segment is open: the frames that waited for it go in. */
static GstFlowReturn store_held(GstVdbSink *self, std::unique_lock<std::mutex> &lock) {
  VdbSinkState *s = self->s;
  GstFlowReturn ret = GST_FLOW_OK;
  while (!s->held.empty() && ret == GST_FLOW_OK) {
    auto [t, buf] = s->held.front();
    s->held.pop_front();
    s->held_bytes -= gst_buffer_get_size(buf);
    ret = vdbsink_render(self, t, buf, lock);
    gst_buffer_unref(buf);
  }
  return ret;
}
