/**
 * SECTION:element-vdbsrc
 * @title: vdbsrc
 *
 * Plays one stream of a vdb store as one seekable stream in TIME, with the
 * timestamps and caps it was recorded with, one pad per track: `video`, and
 * `audio_%u` for each audio track recorded beside it (vdbsink's pads of the
 * same names). The pads appear when the element goes to READY (the tracks
 * of the stream's first and last segments; a stream continued with other
 * tracks plays each where it has it); a pad left unlinked is skipped. Opening
 * reads only the store's catalog and two segments' metadata; segments are
 * loaded as playback reaches them.
 *
 * Buffers carry the PTS/DTS they were recorded with (x264enc starts at
 * 1000 h, a live source at its running time). The SEGMENT event maps them to
 * stream time: `start` is the PTS of the first frame played and `time` its
 * stream time, so running time starts at 0 and clock-synced sinks play at
 * once in real time. Position, duration and seeks are in stream time, 0 at
 * the oldest footage (or at `start-time`). With `gaps=collapse`, holes
 * between recordings are removed from timestamps, seeks, position and
 * duration alike.
 *
 * Seeks may be flushing or not, KEY_UNIT (with SNAP_BEFORE / SNAP_AFTER /
 * SNAP_NEAREST), ACCURATE (decoding starts at the previous keyframe, the
 * segment starts at the target), SEGMENT, TRICKMODE_KEY_UNITS (keyframes
 * only) and reverse. Caps are the store's (with codec_data), answered to caps
 * queries before the first buffer and renegotiated at every caps change.
 * Keyframes get their in-band codec headers after every jump (SPS/PPS of
 * H.264 and VPS/SPS/PPS of H.265 byte-streams, the AV1 sequence header), so
 * a decoder can start anywhere. Audio stays in sync through every seek: a
 * KEY_UNIT seek starts the audio at the video keyframe's time, an ACCURATE
 * one at the target (both with the audio frame that covers it, clipped by
 * the segment). In reverse and key-unit trick modes the audio pads send
 * only EOS (no audio is played backwards or in fast forward).
 *
 * With `live-edge=true` playback starts at the newest keyframe (with
 * `follow=true`: a live view; URI `vdb:///store?stream=cam1&live=1`).
 * With `follow=true`, playback waits at the end of the recording for frames
 * a live writer appends, and never ends by itself (stop the pipeline, or set
 * `stop-time`). Retention may delete footage while it plays: the segment
 * being read plays to its end, then playback continues at the oldest footage
 * that remains, with DISCONT and a warning.
 *
 * A damaged store still plays (`skip-corrupt=true`, the default): a damaged
 * record costs the rest of its GOP (playback goes on at the next keyframe,
 * with DISCONT), a segment that cannot be read is a gap, and a damaged or
 * lost catalog is replaced by what the segment files hold; each is posted as
 * a warning. Damaged bytes never go downstream. `vdb verify` finds the
 * damage, `vdb repair` fixes it.
 *
 * A store uploaded to S3-compatible object storage (`vdb upload`) plays
 * from any machine: `location=s3://BUCKET/PREFIX`, with `endpoint` (else
 * AWS_ENDPOINT_URL, else AWS S3) and `region`; the credentials come from
 * AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or ~/.aws/credentials, never from
 * a property. Frames are read with ranged GETs (a seek costs the segment's
 * index and about one GOP) and checked as on disk.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 vdbsrc location=/var/lib/vdb stream=cam1 ! decodebin ! autovideosink
 * gst-launch-1.0 vdbsrc location=/var/lib/vdb stream=cam1 name=s \
 *     s.video ! decodebin ! autovideosink s.audio_0 ! decodebin ! autoaudiosink
 * gst-launch-1.0 vdbsrc location=store start-time=2026-11-23T10:00:00Z \
 *     stop-time=2026-11-23T10:05:00Z ! h264parse ! mp4mux ! filesink location=clip.mp4
 * gst-play-1.0 vdb:///var/lib/vdb?stream=cam1
 * gst-play-1.0 "vdbs3://footage/site1?stream=cam1&endpoint=http://rgw:7480"
 * gst-launch-1.0 vdbsrc location=s3://footage/site1 endpoint=http://rgw:7480 stream=cam1 \
 *     ! decodebin ! autovideosink
 * ]|
 *
 * Action signals: `get-ranges` returns a #GstStructure with the recorded
 * ranges in stream time and UTC; `utc-to-stream-time` and
 * `stream-time-to-utc` convert times.
 */
#include "gstvdbsrc.h"

#include <string>
#include <vector>

#include "reader.h"
#include "vdb_track_src.h"

GST_DEBUG_CATEGORY_STATIC(gst_vdb_src_debug);
#define GST_CAT_DEFAULT gst_vdb_src_debug

#define DEFAULT_LOCATION NULL
#define DEFAULT_ENDPOINT NULL
#define DEFAULT_REGION NULL
#define DEFAULT_STREAM "default"
#define DEFAULT_START_TIME NULL
#define DEFAULT_STOP_TIME NULL
#define DEFAULT_FOLLOW FALSE
#define DEFAULT_GAPS GST_VDB_GAPS_PRESERVE
#define DEFAULT_SKIP_CORRUPT TRUE
#define DEFAULT_LIVE_EDGE FALSE

enum {
  PROP_0,
  PROP_LOCATION,
  PROP_ENDPOINT,
  PROP_REGION,
  PROP_STREAM,
  PROP_START_TIME,
  PROP_STOP_TIME,
  PROP_FOLLOW,
  PROP_GAPS,
  PROP_SKIP_CORRUPT,
  PROP_LIVE_EDGE,
};

enum { SIGNAL_GET_RANGES, SIGNAL_UTC_TO_STREAM_TIME, SIGNAL_STREAM_TIME_TO_UTC, LAST_SIGNAL };
static guint gst_vdb_src_signals[LAST_SIGNAL];

struct _GstVdbSrc {
  GstBin parent;
  gchar *location;
  gchar *endpoint;
  gchar *region;
  gchar *stream;
  gchar *start_time;
  gchar *stop_time;
  gboolean follow;
  GstVdbGaps gaps;
  gboolean skip_corrupt;
  gboolean live_edge;
  /* From READY on: one vdbtracksrc per track (children of the bin), the
   * lead's (video's) first; the streams' group id. */
  std::vector<GstElement *> *tracks;
  guint group_id;
  /* The last seek dispatched to the tracks (one seek reaches us through
   * each branch a pipeline sends it to): its seqnum and result. */
  guint32 seek_seqnum;
  gboolean seek_result;
};

static GstStaticPadTemplate video_template = GST_STATIC_PAD_TEMPLATE(
    "video", GST_PAD_SRC, GST_PAD_SOMETIMES,
    GST_STATIC_CAPS("video/x-h264; video/x-h265; video/x-av1; video/x-vp9"));
static GstStaticPadTemplate audio_template = GST_STATIC_PAD_TEMPLATE(
    "audio_%u", GST_PAD_SRC, GST_PAD_SOMETIMES,
    GST_STATIC_CAPS("audio/mpeg; audio/x-opus; audio/x-alaw; audio/x-mulaw"));

static void gst_vdb_src_uri_handler_init(gpointer g_iface, gpointer iface_data);
static gboolean ghost_event(GstPad *pad, GstObject *parent, GstEvent *event);

#define gst_vdb_src_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE(GstVdbSrc, gst_vdb_src, GST_TYPE_BIN,
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

/* ---------------------------------------------------------- tracks */

static GstVdbTrackSrc *lead_of(GstVdbSrc *self) {
  GST_OBJECT_LOCK(self);
  GstElement *e = self->tracks->empty() ? NULL : GST_ELEMENT(gst_object_ref(self->tracks->front()));
  GST_OBJECT_UNLOCK(self);
  return e ? GST_VDB_TRACK_SRC(e) : NULL;
}

/* A pad nobody linked (the audio of `vdbsrc ! decodebin ! autovideosink`)
 * drops what comes while another pad is linked, instead of stopping the
 * whole element with not-linked: a flow combiner's rule. */
static GstFlowReturn unlinked_ok(GstPad *internal, GstFlowReturn ret) {
  if (ret != GST_FLOW_NOT_LINKED) return ret;
  GstPad *ghost = GST_PAD(gst_proxy_pad_get_internal(GST_PROXY_PAD(internal)));
  GstElement *bin = ghost ? gst_pad_get_parent_element(ghost) : NULL;
  bool other_linked = false;
  if (bin) {
    GST_OBJECT_LOCK(bin);
    for (GList *l = bin->srcpads; l; l = l->next)
      other_linked |= l->data != ghost && gst_pad_is_linked(GST_PAD(l->data));
    GST_OBJECT_UNLOCK(bin);
    gst_object_unref(bin);
  }
  if (ghost) gst_object_unref(ghost);
  return other_linked ? GST_FLOW_OK : ret;
}

static GstFlowReturn ghost_chain(GstPad *pad, GstObject *parent, GstBuffer *buf) {
  return unlinked_ok(pad, gst_proxy_pad_chain_default(pad, parent, buf));
}

static GstFlowReturn ghost_chain_list(GstPad *pad, GstObject *parent, GstBufferList *list) {
  return unlinked_ok(pad, gst_proxy_pad_chain_list_default(pad, parent, list));
}

/* Every pad's stream-start has the element's group id: one group of streams. */
static GstPadProbeReturn group_probe(GstPad *, GstPadProbeInfo *info, gpointer user) {
  GstEvent *ev = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(ev) == GST_EVENT_STREAM_START) {
    ev = gst_event_make_writable(ev);
    gst_event_set_group_id(ev, GST_VDB_SRC(user)->group_id);
    GST_PAD_PROBE_INFO_DATA(info) = ev;
    return GST_PAD_PROBE_REMOVE; /* once per start: no cost per buffer */
  }
  return GST_PAD_PROBE_OK;
}

/* The tracks to play: those of the stream's first and last segments. A
 * stream that cannot be opened (yet) gets a video track: its source
 * reports why when it starts. */
// *reader: the stream opened on track 0, for the video track to play.
static std::vector<vdb::TrackMeta> stream_tracks(const VdbTrackConfig &c,
                                                 std::unique_ptr<vdb::Reader> *reader) {
  std::vector<vdb::TrackMeta> tracks;
  if (c.where) {
    auto r = vdb::Reader::Open(c.fs(), c.store(), c.stream);
    if (r.ok()) {
      auto t = (*r)->Tracks();
      if (t.ok()) tracks = std::move(t).value();
      *reader = std::move(r).value();
    }
  }
  if (tracks.empty()) tracks.push_back(vdb::TrackMeta{});
  return tracks;
}

static gboolean add_tracks(GstVdbSrc *self) {
  VdbTrackConfig c;
  GST_OBJECT_LOCK(self);
  c.location = self->location ? self->location : "";
  c.stream = self->stream ? self->stream : "";
  c.start_time = self->start_time ? self->start_time : "";
  c.stop_time = self->stop_time ? self->stop_time : "";
  c.follow = self->follow;
  c.collapse = self->gaps == GST_VDB_GAPS_COLLAPSE;
  c.skip_corrupt = self->skip_corrupt;
  c.live_edge = self->live_edge;
  vdb::remote::RemoteArgs remote{self->endpoint ? self->endpoint : "",
                                 self->region ? self->region : ""};
  GST_OBJECT_UNLOCK(self);
  if (!c.location.empty()) { /* a bucket is opened (and checked) once, for every track */
    auto where = vdb::remote::StoreLocation::Open(c.location, remote);
    if (where.ok())
      c.where = std::move(where).value();
    else
      c.open_error = where.status().ToString();
    if (c.where && !c.where->problem().empty())
      GST_ELEMENT_WARNING(self, RESOURCE, OPEN_READ,
                          ("Store '%s' is read without its bucket", c.location.c_str()),
                          ("%s", c.where->problem().c_str()));
  }
  std::unique_ptr<vdb::Reader> reader;
  std::vector<vdb::TrackMeta> tracks = stream_tracks(c, &reader);
  c.lead = tracks.front().track; /* the video if there is one */
  if (c.live_edge) {             /* one newest keyframe for every track, chosen here */
    std::unique_ptr<vdb::Reader> own;
    vdb::Reader *keys = reader && reader->track() == c.lead ? reader.get() : nullptr;
    if (!keys) {
      auto r = vdb::Reader::Open(c.fs(), c.store(), c.stream, 2, c.lead);
      if (r.ok()) own = std::move(r).value();
      keys = own.get();
    }
    if (keys && !keys->segments().empty()) {
      auto last = keys->SegmentById(keys->segments().back().id);
      if (last.ok() && (*last)->keyframe_count())
        c.live_edge_pts = (*last)->entry((*last)->keyframe((*last)->keyframe_count() - 1)).pts;
    }
  }
  self->group_id = gst_util_group_id_next();
  self->seek_seqnum = GST_SEQNUM_INVALID;
  GstElementClass *klass = GST_ELEMENT_GET_CLASS(self);
  for (const vdb::TrackMeta &t : tracks) {
    std::string name = t.track == 0 ? "video" : "audio_" + std::to_string(t.track - 1);
    GstElement *src = GST_ELEMENT(g_object_new(GST_TYPE_VDB_TRACK_SRC, "name", name.c_str(), NULL));
    c.track = t.track;
    gst_vdb_track_src_configure(GST_VDB_TRACK_SRC(src), c,
                                t.track == 0 ? std::move(reader) : nullptr);
    gst_bin_add(GST_BIN(self), src);
    GST_OBJECT_LOCK(self);
    self->tracks->push_back(src);
    GST_OBJECT_UNLOCK(self);
    GstPad *target = gst_element_get_static_pad(src, "src");
    GstPad *ghost = gst_ghost_pad_new_from_template(
        name.c_str(), target,
        gst_element_class_get_pad_template(klass, t.track == 0 ? "video" : "audio_%u"));
    gst_object_unref(target);
    GstPad *internal = GST_PAD(gst_proxy_pad_get_internal(GST_PROXY_PAD(ghost)));
    gst_pad_set_chain_function(internal, ghost_chain);
    gst_pad_set_chain_list_function(internal, ghost_chain_list);
    gst_object_unref(internal);
    gst_pad_set_event_function(ghost, ghost_event);
    GST_INFO_OBJECT(self, "track %u (%s): pad %s", t.track, t.codec.c_str(), name.c_str());
    gst_element_add_pad(GST_ELEMENT(self), ghost);
  }
  gst_element_no_more_pads(GST_ELEMENT(self));
  return TRUE;
}

static void remove_tracks(GstVdbSrc *self) {
  std::vector<GstElement *> tracks;
  GST_OBJECT_LOCK(self);
  tracks.swap(*self->tracks);
  std::vector<GstPad *> pads;
  for (GList *l = GST_ELEMENT(self)->srcpads; l; l = l->next)
    pads.push_back(GST_PAD(gst_object_ref(l->data)));
  GST_OBJECT_UNLOCK(self);
  for (GstPad *p : pads) {
    gst_element_remove_pad(GST_ELEMENT(self), p);
    gst_object_unref(p);
  }
  for (GstElement *e : tracks) {
    gst_element_set_state(e, GST_STATE_NULL);
    gst_bin_remove(GST_BIN(self), e);
  }
}

static GstStateChangeReturn gst_vdb_src_change_state(GstElement *element,
                                                     GstStateChange transition) {
  GstVdbSrc *self = GST_VDB_SRC(element);
  if (transition == GST_STATE_CHANGE_NULL_TO_READY && !add_tracks(self))
    return GST_STATE_CHANGE_FAILURE;
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) { /* each start's stream-start */
    GST_OBJECT_LOCK(self);
    for (GstElement *e : *self->tracks) {
      GstPad *pad = gst_element_get_static_pad(e, "src");
      gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, group_probe, self, NULL);
      gst_object_unref(pad);
    }
    GST_OBJECT_UNLOCK(self);
  }
  GstStateChangeReturn ret = GST_ELEMENT_CLASS(parent_class)->change_state(element, transition);
  if (transition == GST_STATE_CHANGE_READY_TO_NULL ||
      (transition == GST_STATE_CHANGE_NULL_TO_READY && ret == GST_STATE_CHANGE_FAILURE))
    remove_tracks(self);
  return ret;
}

/* A seek goes to every track, as a demuxer applies one seek to all its
 * pads: playbin sends it down one branch only (the video's), a pipeline to
 * every sink (each branch brings it: handled once, by seqnum). Each track
 * flushes and restarts its own pad. */
static gboolean seek_all(GstVdbSrc *self, GstEvent *event) {
  guint32 seqnum = gst_event_get_seqnum(event);
  std::vector<GstElement *> tracks;
  GST_OBJECT_LOCK(self);
  bool again = seqnum == self->seek_seqnum;
  gboolean result = self->seek_result;
  if (!again)
    for (GstElement *e : *self->tracks) tracks.push_back(GST_ELEMENT(gst_object_ref(e)));
  self->seek_seqnum = seqnum;
  GST_OBJECT_UNLOCK(self);
  if (again) {
    gst_event_unref(event);
    return result;
  }
  gboolean ok = !tracks.empty();
  for (GstElement *e : tracks) {
    ok &= gst_element_send_event(e, gst_event_ref(event));
    gst_object_unref(e);
  }
  gst_event_unref(event);
  GST_OBJECT_LOCK(self);
  self->seek_result = ok;
  GST_OBJECT_UNLOCK(self);
  return ok;
}

static gboolean ghost_event(GstPad *pad, GstObject *parent, GstEvent *event) {
  if (GST_EVENT_TYPE(event) == GST_EVENT_SEEK) {
    GstElement *self = gst_pad_get_parent_element(pad);
    gboolean ok = self ? seek_all(GST_VDB_SRC(self), event) : FALSE;
    if (self)
      gst_object_unref(self);
    else
      gst_event_unref(event);
    return ok;
  }
  return gst_pad_event_default(pad, parent, event); /* to the track, through the ghost */
}

static gboolean gst_vdb_src_send_event(GstElement *element, GstEvent *event) {
  if (GST_EVENT_TYPE(event) == GST_EVENT_SEEK) return seek_all(GST_VDB_SRC(element), event);
  return GST_ELEMENT_CLASS(parent_class)->send_event(element, event);
}

/* Position, duration and seeking are the lead track's. */
static gboolean gst_vdb_src_query(GstElement *element, GstQuery *query) {
  switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_POSITION:
    case GST_QUERY_DURATION:
    case GST_QUERY_SEEKING: {
      GstVdbTrackSrc *lead = lead_of(GST_VDB_SRC(element));
      if (!lead) return FALSE;
      gboolean ok = gst_element_query(GST_ELEMENT(lead), query);
      gst_object_unref(lead);
      return ok;
    }
    default:
      return GST_ELEMENT_CLASS(parent_class)->query(element, query);
  }
}

/* ---------------------------------------------------------- signals */

static GstStructure *gst_vdb_src_get_ranges(GstVdbSrc *self) {
  GstVdbTrackSrc *lead = lead_of(self);
  GstStructure *out = lead ? gst_vdb_track_src_get_ranges(lead) : NULL;
  if (lead) gst_object_unref(lead);
  return out;
}

static guint64 gst_vdb_src_utc_to_stream_time(GstVdbSrc *self, guint64 utc) {
  GstVdbTrackSrc *lead = lead_of(self);
  guint64 out = lead ? gst_vdb_track_src_utc_to_stream_time(lead, utc) : GST_CLOCK_TIME_NONE;
  if (lead) gst_object_unref(lead);
  return out;
}

static guint64 gst_vdb_src_stream_time_to_utc(GstVdbSrc *self, guint64 time) {
  GstVdbTrackSrc *lead = lead_of(self);
  guint64 out = lead ? gst_vdb_track_src_stream_time_to_utc(lead, time) : 0;
  if (lead) gst_object_unref(lead);
  return out;
}

/* ---------------------------------------------------------- URI handler */

static GstURIType gst_vdb_src_uri_get_type(GType) {
  return GST_URI_SRC;
}

static const gchar *const *gst_vdb_src_uri_get_protocols(GType) {
  /* vdb:///path/to/store?stream=S; vdbs3://BUCKET/PREFIX?stream=S (a store
   * in a bucket; &endpoint=URL&region=R, else AWS_ENDPOINT_URL, AWS_REGION) */
  static const gchar *protocols[] = {"vdb", "vdbs3", NULL};
  return protocols;
}

static gchar *gst_vdb_src_uri_get_uri(GstURIHandler *handler) {
  GstVdbSrc *self = GST_VDB_SRC(handler);
  GST_OBJECT_LOCK(self);
  gchar *uri = NULL;
  if (self->location) {
    GstUri *u = NULL;
    auto s3 = vdb::remote::ParseS3Url(self->location);
    if (s3.ok()) {
      u = gst_uri_new("vdbs3", NULL, s3->bucket.c_str(), GST_URI_NO_PORT,
                      ("/" + s3->prefix).c_str(), NULL, NULL);
      if (self->endpoint) gst_uri_set_query_value(u, "endpoint", self->endpoint);
      if (self->region) gst_uri_set_query_value(u, "region", self->region);
    } else {
      u = gst_uri_new("vdb", NULL, NULL, GST_URI_NO_PORT, self->location, NULL, NULL);
    }
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
  bool s3 = u && g_strcmp0(gst_uri_get_scheme(u), "vdbs3") == 0;
  if (s3 && gst_uri_get_host(u) && path && path[0] == '/' && path[1]) {
    /* vdbs3://BUCKET/PREFIX: the store in the bucket */
    gchar *location = g_strdup_printf("s3://%s%s", gst_uri_get_host(u), path);
    g_free(path);
    path = location;
    g_object_set(self, "endpoint", gst_uri_get_query_value(u, "endpoint"), "region",
                 gst_uri_get_query_value(u, "region"), NULL);
  } else if (!u || (!s3 && g_strcmp0(gst_uri_get_scheme(u), "vdb") != 0) || s3 || !path || !*path) {
    g_set_error(error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI,
                "Invalid vdb URI '%s' (expected vdb:///path/to/store?stream=NAME or "
                "vdbs3://BUCKET/PREFIX?stream=NAME)",
                uri);
    g_free(path);
    if (u) gst_uri_unref(u);
    return FALSE;
  }
  const gchar *stream = gst_uri_get_query_value(u, "stream");
  const gchar *start = gst_uri_get_query_value(u, "start");
  const gchar *stop = gst_uri_get_query_value(u, "stop");
  const gchar *follow = gst_uri_get_query_value(u, "follow");
  const gchar *live = gst_uri_get_query_value(u, "live");
  g_object_set(self, "location", path, "stream", stream ? stream : DEFAULT_STREAM, "start-time",
               start, "stop-time", stop, NULL);
  g_free(path);
  if (follow)
    g_object_set(self, "follow",
                 g_ascii_strcasecmp(follow, "true") == 0 || g_str_equal(follow, "1"), NULL);
  if (live) /* live=1: watch a recording in progress from its newest keyframe */
    g_object_set(self, "live-edge", g_ascii_strcasecmp(live, "true") == 0 || g_str_equal(live, "1"),
                 "follow", g_ascii_strcasecmp(live, "true") == 0 || g_str_equal(live, "1"), NULL);
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
    case PROP_ENDPOINT:
      g_free(self->endpoint);
      self->endpoint = g_value_dup_string(value);
      break;
    case PROP_REGION:
      g_free(self->region);
      self->region = g_value_dup_string(value);
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
    case PROP_LIVE_EDGE:
      self->live_edge = g_value_get_boolean(value);
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
    case PROP_ENDPOINT:
      g_value_set_string(value, self->endpoint);
      break;
    case PROP_REGION:
      g_value_set_string(value, self->region);
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
    case PROP_LIVE_EDGE:
      g_value_set_boolean(value, self->live_edge);
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
  g_free(self->endpoint);
  g_free(self->region);
  g_free(self->stream);
  g_free(self->start_time);
  g_free(self->stop_time);
  delete self->tracks;
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_vdb_src_init(GstVdbSrc *self) {
  self->location = g_strdup(DEFAULT_LOCATION);
  self->endpoint = g_strdup(DEFAULT_ENDPOINT);
  self->region = g_strdup(DEFAULT_REGION);
  self->stream = g_strdup(DEFAULT_STREAM);
  self->start_time = g_strdup(DEFAULT_START_TIME);
  self->stop_time = g_strdup(DEFAULT_STOP_TIME);
  self->follow = DEFAULT_FOLLOW;
  self->gaps = DEFAULT_GAPS;
  self->skip_corrupt = DEFAULT_SKIP_CORRUPT;
  self->live_edge = DEFAULT_LIVE_EDGE;
  self->tracks = new std::vector<GstElement *>();
  GST_OBJECT_FLAG_SET(self, GST_ELEMENT_FLAG_SOURCE);
}

static void gst_vdb_src_class_init(GstVdbSrcClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  const GParamFlags rw_ready =
      GParamFlags(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);

  gobject_class->set_property = gst_vdb_src_set_property;
  gobject_class->get_property = gst_vdb_src_get_property;
  gobject_class->finalize = gst_vdb_src_finalize;

  g_object_class_install_property(
      gobject_class, PROP_LOCATION,
      g_param_spec_string("location", "Location",
                          "Store directory, or s3://BUCKET/PREFIX for a store in a bucket",
                          DEFAULT_LOCATION, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_ENDPOINT,
      g_param_spec_string("endpoint", "Endpoint",
                          "S3 endpoint URL for an s3:// location, e.g. http://rgw:7480 "
                          "(NULL: AWS_ENDPOINT_URL, else AWS S3)",
                          DEFAULT_ENDPOINT, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_REGION,
      g_param_spec_string("region", "Region",
                          "S3 region for an s3:// location (NULL: AWS_REGION or the "
                          "credentials file, else us-east-1)",
                          DEFAULT_REGION, rw_ready));
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
                           "Skip damaged footage with a warning instead of stopping with an "
                           "error: a damaged record costs the rest of its GOP (playback goes on "
                           "at the next keyframe), an unreadable segment is a gap",
                           DEFAULT_SKIP_CORRUPT, rw_ready));
  g_object_class_install_property(
      gobject_class, PROP_LIVE_EDGE,
      g_param_spec_boolean("live-edge", "Live edge",
                           "Start at the newest keyframe instead of the oldest footage (stream "
                           "time 0 is there); with follow=true, watch a recording live",
                           DEFAULT_LIVE_EDGE, rw_ready));

  /**
   * GstVdbSrc::get-ranges:
   * Returns a #GstStructure "vdbsrc-ranges" whose "ranges" field lists the
   * recorded ranges (runs of continuous recording): start, end in stream time
   * (what seeks and position use); utc-start, utc-end in UTC ns.
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

  gst_element_class_add_static_pad_template(element_class, &video_template);
  gst_element_class_add_static_pad_template(element_class, &audio_template);
  gst_element_class_set_static_metadata(
      element_class, "vdb video database source", "Source/Video/Audio",
      "Plays a vdb store stream (video and its audio) with fast keyframe-aligned seeking",
      "vdb developers");

  element_class->change_state = GST_DEBUG_FUNCPTR(gst_vdb_src_change_state);
  element_class->send_event = GST_DEBUG_FUNCPTR(gst_vdb_src_send_event);
  element_class->query = GST_DEBUG_FUNCPTR(gst_vdb_src_query);

  GST_DEBUG_CATEGORY_INIT(gst_vdb_src_debug, "vdbsrc", 0, "vdb video database source");
  gst_type_mark_as_plugin_api(GST_TYPE_VDB_GAPS_TYPE, GstPluginAPIFlags(0));
}
