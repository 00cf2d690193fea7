/**
 * SECTION:element-vdbsink
 * @title: vdbsink
 *
 * Records video — H.264 (byte-stream, avc or avc3), H.265 (byte-stream,
 * hvc1 or hev1) — one access unit per buffer — AV1 (obu-stream, one
 * temporal unit per buffer) or VP9 — and the audio recorded with it — AAC
 * (raw with codec_data, or ADTS), Opus, G.711 A-law or µ-law — into a vdb
 * store: segments of a frame file and an index, each starting at a video
 * keyframe with the codec headers it needs (SPS/PPS, VPS/SPS/PPS or the AV1
 * sequence header, inserted if the keyframe lacks them), written as frames
 * arrive, audio interleaved as it comes. The store survives a crash: the
 * next writer recovers it, losing at most the last
 * #GstVdbSink:sync-interval of footage.
 *
 * Pads are requested as with splitmuxsink: `video` (linking an encoder to
 * `vdbsink` requests it) and `audio_%u` (track N + 1 of the stream for
 * `audio_N`). Without a video pad, the first audio pad leads: segments are
 * cut by time. A stream may be continued with other tracks; a track keeps
 * its codec for the stream's life (another codec is an error: record it into
 * another stream). EOS is posted when every pad has received EOS.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -e videotestsrc is-live=true ! x264enc tune=zerolatency ! h264parse ! \
 *     vdbsink location=/var/lib/vdb stream=cam1 max-segment-time=60000000000
 * gst-launch-1.0 -e v4l2src ! videoconvert ! vp9enc deadline=1 ! vdbsink location=store
 * gst-launch-1.0 -e rtspsrc location=rtsp://camera/main name=r \
 *     r. ! rtph265depay ! h265parse ! vdbsink name=rec location=/var/lib/vdb stream=cam2 \
 *     r. ! rtppcmadepay ! rec.audio_0
 * gst-launch-1.0 -e videotestsrc is-live=true ! x264enc tune=zerolatency ! rec.video \
 *     audiotestsrc is-live=true ! opusenc ! rec.audio_0 vdbsink name=rec location=store
 * AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... gst-launch-1.0 -e v4l2src ! videoconvert ! \
 *     x264enc tune=zerolatency ! h264parse ! vdbsink location=/var/lib/vdb stream=cam1 \
 *     upload-location=s3://footage/site1 upload-endpoint=http://rgw:7480
 * max-total-bytes=10000000000
 * ]|
 *
 * With `upload-location=s3://BUCKET/PREFIX`, sealed segments are uploaded
 * to S3-compatible object storage (Ceph RGW, AWS S3, MinIO...) by a thread
 * of their own, never in the streaming path; a segment is marked uploaded
 * in the store's catalog only once all of it is confirmed in the bucket,
 * and retention (max-total-bytes, max-age, min-free-space) then frees only
 * the local copies of uploaded segments, oldest first: footage not yet
 * uploaded stays on disk, even past the limits. An outage is a warning;
 * uploads resume by themselves. EOS waits for the upload of the last
 * segment (at most upload-eos-timeout): when `gst-launch-1.0 -e` ends, the
 * whole recording is in the bucket, or a warning says what is not. The
 * bucket has its own retention (upload-max-total-bytes, upload-max-age):
 * oldest first, and only segments whose local copy is gone, which then
 * leave this store's catalog too. Uploaded segments still play from this
 * store (vdbsrc reads them from the bucket), and from any machine
 * (`vdbsrc location=s3://BUCKET/PREFIX`). Credentials come from the
 * environment or ~/.aws/credentials, never from a property. A stream in a
 * bucket has one recorder: another store uploading a stream of the same
 * name under the same prefix is refused (a warning names the store that
 * has it; its footage stays on disk).
 *
 * Element messages posted on the bus: `vdbsink-segment-opened`,
 * `vdbsink-segment-closed`, `vdbsink-segment-deleted` (id, frames-path,
 * index-path, meta-path, first-pts, end-pts, utc-start, frames, bytes),
 * `vdbsink-recovered` (report, segments), `vdbsink-disk-low` (free-bytes,
 * min-free-space), `vdbsink-uploaded` (segments, bytes, remote-segments),
 * `vdbsink-upload-failing` (error), `vdbsink-upload-resumed`.
 */
#include "gstvdbsink.h"

#include <gst/video/video.h>

#include <string>

#include "sink_state.h"
#include "sink_upload.h"

GST_DEBUG_CATEGORY(gst_vdb_sink_debug); /* shared with sink_frames.cpp, sink_upload.cpp */
#define GST_CAT_DEFAULT gst_vdb_sink_debug

#define DEFAULT_LOCATION NULL
#define DEFAULT_UPLOAD_LOCATION NULL
#define DEFAULT_UPLOAD_ENDPOINT NULL
#define DEFAULT_UPLOAD_REGION NULL
#define DEFAULT_UPLOAD_MAX_TOTAL_BYTES 0
#define DEFAULT_UPLOAD_MAX_AGE 0
#define DEFAULT_UPLOAD_EOS_TIMEOUT (30 * GST_SECOND)
#define DEFAULT_STREAM "default"
#define DEFAULT_MAX_SEGMENT_TIME (60 * GST_SECOND)
#define DEFAULT_MAX_SEGMENT_BYTES (256 * 1024 * 1024)
#define DEFAULT_SYNC_MODE GST_VDB_SYNC_INTERVAL
#define DEFAULT_SYNC_INTERVAL GST_SECOND
#define DEFAULT_MAX_TOTAL_BYTES 0
#define DEFAULT_MAX_AGE 0
#define DEFAULT_MIN_FREE_SPACE 0
#define DEFAULT_RECORD TRUE
#define DEFAULT_WALLCLOCK GST_VDB_WALLCLOCK_SYSTEM
#define DEFAULT_SEND_KEYFRAME_REQUESTS TRUE
#define RETENTION_PERIOD_MS 10000
/* Buffered frames reach the OS (followers, and safety from a kill -9) at
 * most this long after they arrived, in wall-clock time: a live source's
 * frames are written almost one by one, a fast one's in 64 KiB batches. */
#define FLUSH_PERIOD_MS 10
#define MAX_AUDIO_PADS 254 /* tracks 1..255 */

enum {
  PROP_0,
  PROP_LOCATION,
  PROP_STREAM,
  PROP_MAX_SEGMENT_TIME,
  PROP_MAX_SEGMENT_BYTES,
  PROP_SYNC_MODE,
  PROP_SYNC_INTERVAL,
  PROP_MAX_TOTAL_BYTES,
  PROP_MAX_AGE,
  PROP_MIN_FREE_SPACE,
  PROP_RECORD,
  PROP_WALLCLOCK,
  PROP_SEND_KEYFRAME_REQUESTS,
  PROP_UPLOAD_LOCATION,
  PROP_UPLOAD_ENDPOINT,
  PROP_UPLOAD_REGION,
  PROP_UPLOAD_MAX_TOTAL_BYTES,
  PROP_UPLOAD_MAX_AGE,
  PROP_UPLOAD_EOS_TIMEOUT,
};

enum { SIGNAL_SPLIT_NOW, SIGNAL_SYNC, LAST_SIGNAL };
static guint gst_vdb_sink_signals[LAST_SIGNAL];

static GstStaticPadTemplate video_template = GST_STATIC_PAD_TEMPLATE(
    "video", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS("video/x-h264, stream-format = (string) { byte-stream, avc, avc3 }, "
                    "alignment = (string) au; "
                    "video/x-h265, stream-format = (string) { byte-stream, hvc1, hev1 }, "
                    "alignment = (string) au; "
                    "video/x-av1, stream-format = (string) obu-stream, alignment = (string) tu; "
                    "video/x-vp9"));

static GstStaticPadTemplate audio_template = GST_STATIC_PAD_TEMPLATE(
    "audio_%u", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS("audio/mpeg, mpegversion = (int) 4, stream-format = (string) { raw, adts }; "
                    "audio/x-opus; audio/x-alaw; audio/x-mulaw"));

#define gst_vdb_sink_parent_class parent_class
G_DEFINE_TYPE(GstVdbSink, gst_vdb_sink, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE(vdbsink, "vdbsink", GST_RANK_NONE, GST_TYPE_VDB_SINK);

GType gst_vdb_sync_mode_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_VDB_SYNC_NONE, "Sync only when a segment is sealed", "none"},
      {GST_VDB_SYNC_INTERVAL, "Sync every sync-interval of stream time", "interval"},
      {GST_VDB_SYNC_EVERY_FRAME, "Sync after every frame (slow, loses nothing)", "every-frame"},
      {0, NULL, NULL}};
  if (g_once_init_enter(&type))
    g_once_init_leave(&type, g_enum_register_static("GstVdbSyncMode", values));
  return type;
}

GType gst_vdb_wallclock_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_VDB_WALLCLOCK_SYSTEM, "System clock when recording starts", "system"},
      {GST_VDB_WALLCLOCK_REFERENCE_META,
       "GstReferenceTimestampMeta (timestamp/x-ntp or x-unix) when present, else system",
       "reference-meta"},
      {0, NULL, NULL}};
  if (g_once_init_enter(&type))
    g_once_init_leave(&type, g_enum_register_static("GstVdbWallclock", values));
  return type;
}

/* ---------------------------------------------------------------- helpers */

static vdb::WriterOptions writer_options(GstVdbSink *self) {
  vdb::WriterOptions o;
  GST_OBJECT_LOCK(self);
  o.max_segment_duration = self->max_segment_time;
  o.max_segment_bytes = self->max_segment_bytes;
  o.sync_mode = self->sync_mode == GST_VDB_SYNC_NONE       ? vdb::SyncMode::kNone
                : self->sync_mode == GST_VDB_SYNC_INTERVAL ? vdb::SyncMode::kInterval
                                                           : vdb::SyncMode::kEveryFrame;
  o.sync_interval = self->sync_interval;
  GST_OBJECT_UNLOCK(self);
  return o;
}

vdb::RetentionPolicy vdbsink_retention_policy(GstVdbSink *self) {
  vdb::RetentionPolicy p;
  GST_OBJECT_LOCK(self);
  p.max_total_bytes = self->max_total_bytes;
  p.max_age_ns = self->max_age;
  p.min_free_bytes = self->min_free_space;
  p.bucket_first = self->upload_location && *self->upload_location;
  GST_OBJECT_UNLOCK(self);
  return p;
}

static void post_segment_message(GstVdbSink *self, const char *name, const vdb::SegmentMeta &m,
                                 const std::string &dir) {
  const vdb::SegmentInfo &i = m.info;
  GstStructure *st = gst_structure_new(
      name, "id", G_TYPE_UINT64, i.id, "stream", G_TYPE_STRING, m.stream.c_str(), "frames-path",
      G_TYPE_STRING, vdb::FramesPath(dir, i.id).c_str(), "index-path", G_TYPE_STRING,
      vdb::IndexPath(dir, i.id).c_str(), "meta-path", G_TYPE_STRING,
      vdb::MetaPath(dir, i.id).c_str(), "first-pts", G_TYPE_UINT64, i.first_pts, "end-pts",
      G_TYPE_UINT64, i.end_pts, "utc-start", G_TYPE_UINT64, i.utc_start, "frames", G_TYPE_UINT64,
      i.frames, "bytes", G_TYPE_UINT64, i.bytes, NULL);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), st));
}

static VdbSinkTrack *track_of(GstPad *pad) {
  return static_cast<VdbSinkTrack *>(gst_pad_get_element_private(pad));
}

static std::shared_ptr<vdb::Writer> writer_ref(VdbSinkState *s) {
  std::lock_guard<std::mutex> l(s->wmu);
  return s->writer;
}

/* ---------------------------------------------------------- start / stop */

static void post_open_error(GstVdbSink *self, const vdb::Status &st, const std::string &location,
                            const std::string &stream) {
  switch (st.code()) {
    case vdb::Code::kLocked:
      GST_ELEMENT_ERROR(self, RESOURCE, BUSY,
                        ("Stream '%s' in '%s' is already being recorded by another writer",
                         stream.c_str(), location.c_str()),
                        ("%s", st.ToString().c_str()));
      break;
    case vdb::Code::kInvalidArgument:
      GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("%s", st.message().c_str()), (NULL));
      break;
    case vdb::Code::kUnsupported:
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE, ("%s", st.message().c_str()), (NULL));
      break;
    default:
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE,
                        ("Could not open store '%s' for writing", location.c_str()),
                        ("%s", st.ToString().c_str()));
  }
}

static void post_recovery(GstVdbSink *self, const vdb::RecoveryReport &report) {
  std::string text = report.ToString();
  GST_WARNING_OBJECT(self, "recovered store: %s", text.c_str());
  gst_element_post_message(
      GST_ELEMENT(self),
      gst_message_new_element(
          GST_OBJECT(self),
          gst_structure_new("vdbsink-recovered", "report", G_TYPE_STRING, text.c_str(), "segments",
                            G_TYPE_UINT, guint(report.segments.size()), NULL)));
  for (const auto &item : report.segments)
    if (item.damage_offset != vdb::kNoTime)
      GST_ELEMENT_WARNING(
          self, STREAM, DECODE, ("Recovered a damaged segment"),
          ("segment %" G_GUINT64_FORMAT ": %s", item.segment_id, item.message.c_str()));
}

static gboolean gst_vdb_sink_start(GstVdbSink *self) {
  VdbSinkState *s = self->s;
  GST_OBJECT_LOCK(self);
  std::string location = self->location ? self->location : "";
  std::string stream = self->stream ? self->stream : "";
  GST_OBJECT_UNLOCK(self);
  if (location.empty()) {
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("No store location set"),
                      ("set the 'location' property to a directory"));
    return FALSE;
  }
  SinkUploadConfig up;
  GST_OBJECT_LOCK(self);
  up.location = self->upload_location ? self->upload_location : "";
  up.endpoint = self->upload_endpoint ? self->upload_endpoint : "";
  up.region = self->upload_region ? self->upload_region : "";
  up.bucket_retention.max_total_bytes = self->upload_max_total_bytes;
  up.bucket_retention.max_age_ns = self->upload_max_age;
  GST_OBJECT_UNLOCK(self);
  if (!up.location.empty() && !sink_upload_prepare(GST_ELEMENT(self), location, up)) return FALSE;
  vdb::RecoveryReport report;
  vdb::WriterOptions options = writer_options(self);
  options.retention = vdbsink_retention_policy(self); /* a crash on a full disk: room first */
  auto w = vdb::Writer::Open(vdb::DefaultFs(), location, stream, options, &report);
  if (!w.ok()) {
    post_open_error(self, w.status(), location, stream);
    return FALSE;
  }
  std::shared_ptr<vdb::Writer> writer = std::move(w).value();
  {
    std::lock_guard<std::mutex> l(s->wmu);
    s->writer = writer;
  }
  std::string dir = writer->dir();
  writer->SetEventCallback([self, dir](vdb::SegmentEvent ev, const vdb::SegmentMeta &m) {
    const char *name = ev == vdb::SegmentEvent::kOpened   ? "vdbsink-segment-opened"
                       : ev == vdb::SegmentEvent::kClosed ? "vdbsink-segment-closed"
                                                          : "vdbsink-segment-deleted";
    GST_INFO_OBJECT(self, "%s: segment %" G_GUINT64_FORMAT, name, m.info.id);
    post_segment_message(self, name, m, dir);
    if (ev == vdb::SegmentEvent::kClosed) {
      self->s->housekeeper.Kick();
      self->s->uploader.Kick();
    }
  });
  if (!report.empty()) post_recovery(self, report);
  {
    std::lock_guard<std::mutex> l(s->smu);
    /* The video leads; without one, the first audio track. */
    s->lead = s->tracks.empty() ? 0 : 255;
    for (auto &t : s->tracks) {
      s->lead = std::min(s->lead, t->track);
      t->eos = false;
    }
    writer->SetLeadTrack(s->lead);
    s->clock.Reset();
    s->need_key = false;
    s->key_requested = false;
    s->untimed_dropped = 0;
    s->warned_headerless = false;
    s->held_dropped = 0;
  }
  SinkHousekeeper::Callbacks cb;
  cb.policy = [self] { return vdbsink_retention_policy(self); };
  cb.failed = [self](const vdb::Status &st) {
    GST_ELEMENT_WARNING(self, RESOURCE, WRITE, ("Retention could not delete old footage"),
                        ("%s", st.ToString().c_str()));
  };
  cb.disk_low = [self](uint64_t free_bytes, uint64_t min_free) {
    GST_WARNING_OBJECT(self, "free space %" G_GUINT64_FORMAT " below min-free-space", free_bytes);
    gst_element_post_message(
        GST_ELEMENT(self),
        gst_message_new_element(
            GST_OBJECT(self),
            gst_structure_new("vdbsink-disk-low", "free-bytes", G_TYPE_UINT64, free_bytes,
                              "min-free-space", G_TYPE_UINT64, min_free, NULL)));
  };
  s->housekeeper.Start(writer, std::move(cb), std::chrono::milliseconds(FLUSH_PERIOD_MS),
                       std::chrono::milliseconds(RETENTION_PERIOD_MS));
  if (!up.location.empty())
    sink_upload_start(GST_ELEMENT(self), &s->uploader, writer, location, stream, up,
                      [self] { self->s->housekeeper.Kick(); });
  return TRUE;
}

static void gst_vdb_sink_stop(GstVdbSink *self) {
  VdbSinkState *s = self->s;
  s->uploader.Stop(); /* cancels a request in flight: no wait for timeouts */
  s->housekeeper.Stop();
  {
    std::lock_guard<std::mutex> l(s->smu);
    vdbsink_drop_held(s);
  }
  std::shared_ptr<vdb::Writer> w;
  {
    std::lock_guard<std::mutex> l(s->wmu);
    w = std::move(s->writer);
  }
  if (w) {
    /* A signal handler may be using it: wait for it to let go (they are
     * brief), so that the stream's lock is released when stop() returns. */
    while (w.use_count() > 1) g_usleep(100);
    vdb::Status st = w->Close();
    if (!st.ok())
      GST_ELEMENT_ERROR(self, RESOURCE, CLOSE, ("Could not seal the last segment"),
                        ("%s", st.ToString().c_str()));
  }
}

/* ---------------------------------------------------------- caps */

static gboolean set_caps(GstVdbSink *self, VdbSinkTrack *t, GstCaps *caps) {
  VdbSinkState *s = self->s;
  gchar *str = gst_caps_to_string(caps);
  std::string text = str;
  g_free(str);
  std::string codec = vdb::CodecOfCaps(text);
  GST_INFO_OBJECT(t->pad, "caps: %s", text.c_str());
  vdb::Status status = s->writer->SetTrackCaps(t->track, codec, text);
  if (status.code() == vdb::Code::kInvalidArgument) {
    GST_ELEMENT_ERROR(
        self, STREAM, WRONG_TYPE, ("%s", status.message().c_str()),
        ("each track keeps one codec: record %s into another stream (stream=...)", codec.c_str()));
    return FALSE;
  }
  if (!status.ok()) {
    GST_ELEMENT_ERROR(self, RESOURCE, WRITE, ("Could not seal the segment on a caps change"),
                      ("%s", status.ToString().c_str()));
    return FALSE;
  }
  t->has_caps = true;
  if (t->track == s->lead) s->need_key = true; /* the next segment starts at a keyframe */
  return TRUE;
}

static GstFlowReturn gst_vdb_sink_chain(GstPad *pad, GstObject *parent, GstBuffer *buf) {
  GstVdbSink *self = GST_VDB_SINK(parent);
  std::unique_lock<std::mutex> lock(self->s->smu);
  VdbSinkTrack *t = track_of(pad);
  GstFlowReturn ret = GST_FLOW_NOT_NEGOTIATED;
  if (t->has_caps && self->s->writer)
    ret = vdbsink_render(self, t, buf, lock);
  else
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("No caps on pad %s before data", GST_PAD_NAME(pad)),
                      (NULL));
  gst_buffer_unref(buf);
  return ret;
}

/* At EOS, after the last segment was sealed: its upload, at most
 * upload-eos-timeout (a state change to READY ends the wait). */
static void wait_for_uploads(GstVdbSink *self) {
  GST_OBJECT_LOCK(self);
  guint64 timeout = self->upload_eos_timeout;
  std::string location = self->upload_location ? self->upload_location : "";
  GST_OBJECT_UNLOCK(self);
  if (!timeout || location.empty()) return;
  guint64 ms = timeout / GST_MSECOND + (timeout % GST_MSECOND ? 1 : 0); /* NONE: no limit */
  vdb::Status st = self->s->uploader.Flush(std::chrono::milliseconds(ms));
  if (st.ok()) {
    GST_INFO_OBJECT(self, "uploads done at EOS");
  } else if (st.code() != vdb::Code::kEnd) {
    GST_ELEMENT_WARNING(self, RESOURCE, WRITE,
                        ("Not everything was uploaded to %s at EOS", location.c_str()),
                        ("%s. What was not uploaded stays on disk.", st.ToString().c_str()));
  }
}

/* EOS on pad t: when every linked pad has it, seals and posts EOS. */
static void handle_eos(GstVdbSink *self, VdbSinkTrack *t, guint32 seqnum) {
  VdbSinkState *s = self->s;
  {
    std::lock_guard<std::mutex> l(s->smu);
    t->eos = true;
    for (auto &o : s->tracks)
      if (!o->eos && gst_pad_is_linked(o->pad)) return;
    if (!s->writer) return;
    if (s->untimed_dropped && !s->clock.started())
      GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("No frame had a timestamp: nothing was recorded"),
                        ("vdb keeps the timestamps frames were recorded with. Give them some: "
                         "a parser gives an elementary stream timestamps from its frame rate "
                         "(filesrc ! h264parse ! vdbsink), or record from a container "
                         "(qtdemux, matroskademux) or a live source."));
    vdb::Status st = s->writer->Close();
    if (!st.ok())
      GST_ELEMENT_ERROR(self, RESOURCE, CLOSE, ("Could not seal the last segment at EOS"),
                        ("%s", st.ToString().c_str()));
  }
  wait_for_uploads(self);
  GstMessage *msg = gst_message_new_eos(GST_OBJECT(self));
  gst_message_set_seqnum(msg, seqnum);
  gst_element_post_message(GST_ELEMENT(self), msg);
}

static gboolean gst_vdb_sink_event(GstPad *pad, GstObject *parent, GstEvent *event) {
  GstVdbSink *self = GST_VDB_SINK(parent);
  VdbSinkState *s = self->s;
  VdbSinkTrack *t = track_of(pad);
  gboolean ok = TRUE;
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_CAPS: {
      GstCaps *caps;
      gst_event_parse_caps(event, &caps);
      std::lock_guard<std::mutex> l(s->smu);
      ok = s->writer && set_caps(self, t, caps);
      break;
    }
    case GST_EVENT_SEGMENT: {
      std::lock_guard<std::mutex> l(s->smu);
      gst_event_copy_segment(event, &t->segment);
      if (t->segment.format != GST_FORMAT_TIME) {
        GST_ELEMENT_ERROR(
            self, STREAM, FORMAT, ("vdbsink records TIME segments only"),
            ("pad %s got a %s segment", GST_PAD_NAME(pad), gst_format_get_name(t->segment.format)));
        ok = FALSE;
      }
      break;
    }
    case GST_EVENT_EOS:
      handle_eos(self, t, gst_event_get_seqnum(event));
      break;
    case GST_EVENT_FLUSH_START: /* not serialised: an EOS waiting for uploads stops */
      s->uploader.Interrupt();
      break;
    case GST_EVENT_FLUSH_STOP: {
      s->uploader.Resume();
      std::lock_guard<std::mutex> l(s->smu);
      vdbsink_drop_held(s, t);
      t->eos = false;
      if (t->track == s->lead) s->need_key = true;
      break;
    }
    default:
      break;
  }
  gst_event_unref(event);
  return ok;
}

/* ---------------------------------------------------------- pads, states */

static GstPad *gst_vdb_sink_request_new_pad(GstElement *element, GstPadTemplate *templ,
                                            const gchar *name, const GstCaps * /*caps*/) {
  GstVdbSink *self = GST_VDB_SINK(element);
  VdbSinkState *s = self->s;
  bool video = g_str_equal(GST_PAD_TEMPLATE_NAME_TEMPLATE(templ), "video");
  auto t = std::make_unique<VdbSinkTrack>();
  t->video = video;
  gst_segment_init(&t->segment, GST_FORMAT_TIME);
  std::string padname = "video";
  std::lock_guard<std::mutex> l(s->smu);
  auto taken = [s](guint32 track) {
    for (auto &o : s->tracks)
      if (o->track == track) return true;
    return false;
  };
  if (!video) {
    guint n = 0;
    if (name && sscanf(name, "audio_%u", &n) != 1) return NULL;
    if (!name)
      while (n < MAX_AUDIO_PADS && taken(n + 1)) n++;
    if (n >= MAX_AUDIO_PADS) {
      GST_WARNING_OBJECT(self, "at most %d audio pads", MAX_AUDIO_PADS);
      return NULL;
    }
    t->track = n + 1;
    padname = "audio_" + std::to_string(n);
  }
  if (taken(t->track)) {
    GST_WARNING_OBJECT(self, "pad %s is already in use", padname.c_str());
    return NULL;
  }
  t->pad = gst_pad_new_from_template(templ, padname.c_str());
  gst_pad_set_chain_function(t->pad, GST_DEBUG_FUNCPTR(gst_vdb_sink_chain));
  gst_pad_set_event_function(t->pad, GST_DEBUG_FUNCPTR(gst_vdb_sink_event));
  gst_pad_set_element_private(t->pad, t.get());
  GstPad *pad = t->pad;
  s->tracks.push_back(std::move(t));
  gst_element_add_pad(element, pad);
  return pad;
}

static void gst_vdb_sink_release_pad(GstElement *element, GstPad *pad) {
  GstVdbSink *self = GST_VDB_SINK(element);
  VdbSinkState *s = self->s;
  gst_object_ref(pad);
  s->uploader.Interrupt();              /* an EOS waiting for uploads holds the pad's stream lock */
  gst_element_remove_pad(element, pad); /* deactivates it: its chain is done */
  s->uploader.Resume();
  {
    std::lock_guard<std::mutex> l(s->smu);
    for (auto it = s->tracks.begin(); it != s->tracks.end(); ++it)
      if ((*it)->pad == pad) {
        vdbsink_drop_held(s, it->get());
        s->tracks.erase(it);
        break;
      }
  }
  gst_object_unref(pad);
}

static GstStateChangeReturn gst_vdb_sink_change_state(GstElement *element,
                                                      GstStateChange transition) {
  GstVdbSink *self = GST_VDB_SINK(element);
  if (transition == GST_STATE_CHANGE_NULL_TO_READY && !gst_vdb_sink_start(self))
    return GST_STATE_CHANGE_FAILURE;
  /* An EOS waiting for uploads holds the stream lock that deactivating the
   * pads takes: it stops waiting (and one racing this never starts). */
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) self->s->uploader.Interrupt();
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) self->s->uploader.Resume();
  GstStateChangeReturn ret = GST_ELEMENT_CLASS(parent_class)->change_state(element, transition);
  /* A failure to seal is posted as an error; the element still stops. */
  if ((ret == GST_STATE_CHANGE_FAILURE && transition == GST_STATE_CHANGE_NULL_TO_READY) ||
      transition == GST_STATE_CHANGE_READY_TO_NULL)
    gst_vdb_sink_stop(self);
  return ret;
}

/* ---------------------------------------------------------- signals */

static void gst_vdb_sink_split_now(GstVdbSink *self) {
  std::shared_ptr<vdb::Writer> w = writer_ref(self->s);
  if (!w) return;
  w->Split();
  self->s->key_requested = false;
  /* No stream lock here (a bus handler may call this from a message the
   * streaming thread posts): the video pad by name. */
  if (GstPad *pad = gst_element_get_static_pad(GST_ELEMENT(self), "video")) {
    VdbSinkTrack t;
    t.pad = pad;
    t.video = true;
    vdbsink_request_keyframe(self, &t);
    gst_object_unref(pad);
  }
}

static gboolean gst_vdb_sink_sync(GstVdbSink *self) {
  std::shared_ptr<vdb::Writer> w = writer_ref(self->s);
  if (!w) return FALSE;
  vdb::Status st = w->Sync();
  if (!st.ok()) GST_WARNING_OBJECT(self, "sync failed: %s", st.ToString().c_str());
  return st.ok();
}

/* ---------------------------------------------------------- GObject */

static void gst_vdb_sink_set_property(GObject *object, guint prop_id, const GValue *value,
                                      GParamSpec *pspec) {
  GstVdbSink *self = GST_VDB_SINK(object);
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
    case PROP_MAX_SEGMENT_TIME:
      self->max_segment_time = g_value_get_uint64(value);
      break;
    case PROP_MAX_SEGMENT_BYTES:
      self->max_segment_bytes = g_value_get_uint64(value);
      break;
    case PROP_SYNC_MODE:
      self->sync_mode = GstVdbSyncMode(g_value_get_enum(value));
      break;
    case PROP_SYNC_INTERVAL:
      self->sync_interval = g_value_get_uint64(value);
      break;
    case PROP_MAX_TOTAL_BYTES:
      self->max_total_bytes = g_value_get_uint64(value);
      break;
    case PROP_MAX_AGE:
      self->max_age = g_value_get_uint64(value);
      break;
    case PROP_MIN_FREE_SPACE:
      self->min_free_space = g_value_get_uint64(value);
      break;
    case PROP_UPLOAD_LOCATION:
      g_free(self->upload_location);
      self->upload_location = g_value_dup_string(value);
      break;
    case PROP_UPLOAD_ENDPOINT:
      g_free(self->upload_endpoint);
      self->upload_endpoint = g_value_dup_string(value);
      break;
    case PROP_UPLOAD_REGION:
      g_free(self->upload_region);
      self->upload_region = g_value_dup_string(value);
      break;
    case PROP_UPLOAD_MAX_TOTAL_BYTES:
      self->upload_max_total_bytes = g_value_get_uint64(value);
      break;
    case PROP_UPLOAD_MAX_AGE:
      self->upload_max_age = g_value_get_uint64(value);
      break;
    case PROP_UPLOAD_EOS_TIMEOUT:
      self->upload_eos_timeout = g_value_get_uint64(value);
      break;
    case PROP_RECORD:
      self->record = g_value_get_boolean(value);
      break;
    case PROP_WALLCLOCK:
      self->wallclock = GstVdbWallclock(g_value_get_enum(value));
      break;
    case PROP_SEND_KEYFRAME_REQUESTS:
      self->send_keyframe_requests = g_value_get_boolean(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
  switch (prop_id) {
    case PROP_MAX_SEGMENT_TIME:
    case PROP_MAX_SEGMENT_BYTES:
    case PROP_SYNC_MODE:
    case PROP_SYNC_INTERVAL:
      if (auto w = writer_ref(self->s)) w->SetOptions(writer_options(self));
      break;
    case PROP_MAX_TOTAL_BYTES:
    case PROP_MAX_AGE:
    case PROP_MIN_FREE_SPACE:
      self->s->housekeeper.Kick(); /* a flag: harmless when not recording */
      break;
    default:
      break;
  }
}

static void gst_vdb_sink_get_property(GObject *object, guint prop_id, GValue *value,
                                      GParamSpec *pspec) {
  GstVdbSink *self = GST_VDB_SINK(object);
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_LOCATION:
      g_value_set_string(value, self->location);
      break;
    case PROP_STREAM:
      g_value_set_string(value, self->stream);
      break;
    case PROP_MAX_SEGMENT_TIME:
      g_value_set_uint64(value, self->max_segment_time);
      break;
    case PROP_MAX_SEGMENT_BYTES:
      g_value_set_uint64(value, self->max_segment_bytes);
      break;
    case PROP_SYNC_MODE:
      g_value_set_enum(value, self->sync_mode);
      break;
    case PROP_SYNC_INTERVAL:
      g_value_set_uint64(value, self->sync_interval);
      break;
    case PROP_MAX_TOTAL_BYTES:
      g_value_set_uint64(value, self->max_total_bytes);
      break;
    case PROP_MAX_AGE:
      g_value_set_uint64(value, self->max_age);
      break;
    case PROP_MIN_FREE_SPACE:
      g_value_set_uint64(value, self->min_free_space);
      break;
    case PROP_UPLOAD_LOCATION:
      g_value_set_string(value, self->upload_location);
      break;
    case PROP_UPLOAD_ENDPOINT:
      g_value_set_string(value, self->upload_endpoint);
      break;
    case PROP_UPLOAD_REGION:
      g_value_set_string(value, self->upload_region);
      break;
    case PROP_UPLOAD_MAX_TOTAL_BYTES:
      g_value_set_uint64(value, self->upload_max_total_bytes);
      break;
    case PROP_UPLOAD_MAX_AGE:
      g_value_set_uint64(value, self->upload_max_age);
      break;
    case PROP_UPLOAD_EOS_TIMEOUT:
      g_value_set_uint64(value, self->upload_eos_timeout);
      break;
    case PROP_RECORD:
      g_value_set_boolean(value, self->record);
      break;
    case PROP_WALLCLOCK:
      g_value_set_enum(value, self->wallclock);
      break;
    case PROP_SEND_KEYFRAME_REQUESTS:
      g_value_set_boolean(value, self->send_keyframe_requests);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_vdb_sink_finalize(GObject *object) {
  GstVdbSink *self = GST_VDB_SINK(object);
  g_free(self->location);
  g_free(self->stream);
  g_free(self->upload_location);
  g_free(self->upload_endpoint);
  g_free(self->upload_region);
  delete self->s;
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_vdb_sink_init(GstVdbSink *self) {
  self->location = g_strdup(DEFAULT_LOCATION);
  self->upload_location = g_strdup(DEFAULT_UPLOAD_LOCATION);
  self->upload_endpoint = g_strdup(DEFAULT_UPLOAD_ENDPOINT);
  self->upload_region = g_strdup(DEFAULT_UPLOAD_REGION);
  self->upload_max_total_bytes = DEFAULT_UPLOAD_MAX_TOTAL_BYTES;
  self->upload_max_age = DEFAULT_UPLOAD_MAX_AGE;
  self->upload_eos_timeout = DEFAULT_UPLOAD_EOS_TIMEOUT;
  self->stream = g_strdup(DEFAULT_STREAM);
  self->max_segment_time = DEFAULT_MAX_SEGMENT_TIME;
  self->max_segment_bytes = DEFAULT_MAX_SEGMENT_BYTES;
  self->sync_mode = DEFAULT_SYNC_MODE;
  self->sync_interval = DEFAULT_SYNC_INTERVAL;
  self->max_total_bytes = DEFAULT_MAX_TOTAL_BYTES;
  self->max_age = DEFAULT_MAX_AGE;
  self->min_free_space = DEFAULT_MIN_FREE_SPACE;
  self->record = DEFAULT_RECORD;
  self->wallclock = DEFAULT_WALLCLOCK;
  self->send_keyframe_requests = DEFAULT_SEND_KEYFRAME_REQUESTS;
  self->s = new VdbSinkState();
  /* A sink: the pipeline's EOS waits for ours. A recorder does not preroll
   * or wait for the clock: it writes frames as they come. */
  GST_OBJECT_FLAG_SET(self, GST_ELEMENT_FLAG_SINK);
}

static void gst_vdb_sink_class_init(GstVdbSinkClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  const GParamFlags rw_ready =
      GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  const GParamFlags rw_playing =
      GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);

  gobject_class->set_property = gst_vdb_sink_set_property;
  gobject_class->get_property = gst_vdb_sink_get_property;
  gobject_class->finalize = gst_vdb_sink_finalize;

  g_object_class_install_property(
      gobject_class, PROP_LOCATION,
      g_param_spec_string("location", "Location", "Store directory (created if missing)",
                          DEFAULT_LOCATION, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_STREAM,
      g_param_spec_string("stream", "Stream",
                          "Name of the stream in the store (1-64 of A-Z a-z 0-9 _ . -); one "
                          "writer per stream",
                          DEFAULT_STREAM, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_MAX_SEGMENT_TIME,
      g_param_spec_uint64("max-segment-time", "Max segment time",
                          "Start a new segment at the first keyframe after this much stream "
                          "time, in ns (0 = no limit)",
                          0, G_MAXUINT64, DEFAULT_MAX_SEGMENT_TIME, rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_MAX_SEGMENT_BYTES,
      g_param_spec_uint64("max-segment-bytes", "Max segment bytes",
                          "Start a new segment at the first keyframe after this many bytes "
                          "(0 = no limit)",
                          0, G_MAXUINT64, DEFAULT_MAX_SEGMENT_BYTES, rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_SYNC_MODE,
      g_param_spec_enum("sync-mode", "Sync mode",
                        "When recorded frames are made durable (fdatasync)",
                        GST_TYPE_VDB_SYNC_MODE_TYPE, DEFAULT_SYNC_MODE, rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_SYNC_INTERVAL,
      g_param_spec_uint64("sync-interval", "Sync interval",
                          "With sync-mode=interval: stream time between syncs, in ns. A crash "
                          "or power loss loses at most this much footage",
                          1, G_MAXUINT64, DEFAULT_SYNC_INTERVAL, rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_MAX_TOTAL_BYTES,
      g_param_spec_uint64("max-total-bytes", "Max total bytes",
                          "Delete the oldest segments of this stream (also from earlier runs) "
                          "to keep it under this size (0 = no quota)",
                          0, G_MAXUINT64, DEFAULT_MAX_TOTAL_BYTES, rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_MAX_AGE,
      g_param_spec_uint64("max-age", "Max age",
                          "Delete segments that ended longer ago than this (wall clock), in ns "
                          "(0 = keep forever)",
                          0, G_MAXUINT64, DEFAULT_MAX_AGE, rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_MIN_FREE_SPACE,
      g_param_spec_uint64("min-free-space", "Min free space",
                          "Delete the oldest segments while the file system has less free "
                          "space than this, in bytes (0 = off)",
                          0, G_MAXUINT64, DEFAULT_MIN_FREE_SPACE, rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_UPLOAD_LOCATION,
      g_param_spec_string("upload-location", "Upload location",
                          "Upload sealed segments to this S3-compatible bucket, "
                          "s3://BUCKET/PREFIX; retention then frees only the local copies of "
                          "uploaded segments (NULL: no uploads). Credentials come from "
                          "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or ~/.aws/credentials",
                          DEFAULT_UPLOAD_LOCATION, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_UPLOAD_ENDPOINT,
      g_param_spec_string("upload-endpoint", "Upload endpoint",
                          "S3 endpoint URL, e.g. http://rgw:7480 (NULL: AWS_ENDPOINT_URL, "
                          "else AWS S3)",
                          DEFAULT_UPLOAD_ENDPOINT, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_UPLOAD_REGION,
      g_param_spec_string("upload-region", "Upload region",
                          "S3 region (NULL: AWS_REGION or the credentials file, else us-east-1)",
                          DEFAULT_UPLOAD_REGION, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_UPLOAD_MAX_TOTAL_BYTES,
      g_param_spec_uint64("upload-max-total-bytes", "Upload max total bytes",
                          "Quota of the stream in the bucket: its oldest segments whose local copy "
                          "is gone leave the bucket first (0 = no quota)",
                          0, G_MAXUINT64, DEFAULT_UPLOAD_MAX_TOTAL_BYTES, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_UPLOAD_MAX_AGE,
      g_param_spec_uint64("upload-max-age", "Upload max age",
                          "Remove segments from the bucket that ended longer ago than this (ns), "
                          "once their local copy is gone (0 = keep forever)",
                          0, G_MAXUINT64, DEFAULT_UPLOAD_MAX_AGE, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_UPLOAD_EOS_TIMEOUT,
      g_param_spec_uint64(
          "upload-eos-timeout", "Upload EOS timeout",
          "At EOS, wait at most this long (ns) for the uploads of what was "
          "recorded, the last segment included, before posting EOS; what is not "
          "uploaded then goes at the next start or with 'vdb upload' "
          "(0 = do not wait, 18446744073709551615 = until done)",
          0, G_MAXUINT64, DEFAULT_UPLOAD_EOS_TIMEOUT,
          GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property(
      gobject_class, PROP_RECORD,
      g_param_spec_boolean("record", "Record",
                           "FALSE pauses recording (the open segment is sealed); TRUE resumes "
                           "at the next keyframe",
                           DEFAULT_RECORD, rw_playing));
  g_object_class_install_property(
      gobject_class, PROP_WALLCLOCK,
      g_param_spec_enum("wallclock", "Wall clock", "Source of the UTC time stored per segment",
                        GST_TYPE_VDB_WALLCLOCK_TYPE, DEFAULT_WALLCLOCK, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_SEND_KEYFRAME_REQUESTS,
      g_param_spec_boolean("send-keyframe-requests", "Send keyframe requests",
                           "Ask upstream for a keyframe (force-key-unit) when a segment is due "
                           "to rotate or a keyframe is needed",
                           DEFAULT_SEND_KEYFRAME_REQUESTS, rw_playing));

  /**
   * GstVdbSink::split-now:
   * Starts a new segment at the next keyframe (and asks upstream for one).
   */
  gst_vdb_sink_signals[SIGNAL_SPLIT_NOW] = g_signal_new_class_handler(
      "split-now", G_TYPE_FROM_CLASS(klass), GSignalFlags(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK(gst_vdb_sink_split_now), NULL, NULL, NULL, G_TYPE_NONE, 0);
  /**
   * GstVdbSink::sync:
   * Makes every frame recorded so far durable now. Returns TRUE on success.
   */
  gst_vdb_sink_signals[SIGNAL_SYNC] = g_signal_new_class_handler(
      "sync", G_TYPE_FROM_CLASS(klass), GSignalFlags(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK(gst_vdb_sink_sync), NULL, NULL, NULL, G_TYPE_BOOLEAN, 0);

  gst_element_class_add_static_pad_template(element_class, &video_template);
  gst_element_class_add_static_pad_template(element_class, &audio_template);
  gst_element_class_set_static_metadata(
      element_class, "vdb video database sink", "Sink/Video/Audio",
      "Records video (H.264, H.265, AV1, VP9) and its audio (AAC, Opus, G.711) into a "
      "crash-safe, seekable segment store",
      "vdb developers");

  element_class->change_state = GST_DEBUG_FUNCPTR(gst_vdb_sink_change_state);
  element_class->request_new_pad = GST_DEBUG_FUNCPTR(gst_vdb_sink_request_new_pad);
  element_class->release_pad = GST_DEBUG_FUNCPTR(gst_vdb_sink_release_pad);

  GST_DEBUG_CATEGORY_INIT(gst_vdb_sink_debug, "vdbsink", 0, "vdb video database sink");
  gst_type_mark_as_plugin_api(GST_TYPE_VDB_SYNC_MODE_TYPE, GstPluginAPIFlags(0));
  gst_type_mark_as_plugin_api(GST_TYPE_VDB_WALLCLOCK_TYPE, GstPluginAPIFlags(0));
}
