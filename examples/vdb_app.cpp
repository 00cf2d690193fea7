// vdb_app: a small application embedding GStreamer with vdb.
//
//   vdb_app record STORE STREAM SECONDS   record live test video; print segment messages
//   vdb_app ranges STORE STREAM           list the recorded wall-clock ranges
//   vdb_app seek STORE STREAM WHEN        seek to WHEN and decode from there to the end;
//                                         WHEN is a UTC time (2026-11-23T10:00:00Z) or
//                                         +SECONDS from the start of the recording
#include <gst/gst.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

std::string Iso(guint64 utc_ns) {
  if (!utc_ns) return "unknown";
  GDateTime *dt = g_date_time_new_from_unix_utc(gint64(utc_ns / GST_SECOND));
  gchar *s = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S");
  char ms[8];
  std::snprintf(ms, sizeof ms, ".%03u", unsigned(utc_ns % GST_SECOND / 1000000));
  std::string out = std::string(s) + ms + "Z";
  g_free(s);
  g_date_time_unref(dt);
  return out;
}

GstElement *Launch(const std::string &desc) {
  GError *err = nullptr;
  GstElement *p = gst_parse_launch(desc.c_str(), &err);
  if (!p || err) {  // err alone: e.g. the vdb plugin is not on GST_PLUGIN_PATH
    std::fprintf(stderr, "vdb_app: %s\n", err ? err->message : "bad pipeline");
    std::exit(1);
  }
  return p;
}

// Pops bus messages until one of `types`; exits on ERROR. Prints vdbsink's
// element messages as they come.
GstMessage *Wait(GstElement *p, GstMessageType types, GstClockTime timeout = 60 * GST_SECOND) {
  GstBus *bus = gst_element_get_bus(p);
  while (GstMessage *m = gst_bus_timed_pop(bus, timeout)) {
    GstMessageType t = GST_MESSAGE_TYPE(m);
    if (t == GST_MESSAGE_ERROR) {
      GError *err = nullptr;
      gchar *dbg = nullptr;
      gst_message_parse_error(m, &err, &dbg);
      std::fprintf(stderr, "vdb_app: error: %s\n  %s\n", err->message, dbg ? dbg : "");
      std::exit(1);
    }
    if (t == GST_MESSAGE_ELEMENT) {
      const GstStructure *s = gst_message_get_structure(m);
      if (s && g_str_has_prefix(gst_structure_get_name(s), "vdbsink-")) {
        guint64 id = 0, frames = 0, utc = 0;
        gst_structure_get_uint64(s, "id", &id);
        gst_structure_get_uint64(s, "frames", &frames);
        gst_structure_get_uint64(s, "utc-start", &utc);
        std::printf("  %s: segment %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
                    " frames, starts %s\n",
                    gst_structure_get_name(s), id, frames, Iso(utc).c_str());
      }
    }
    if (t & types) {
      gst_object_unref(bus);
      return m;
    }
    gst_message_unref(m);
  }
  std::fprintf(stderr, "vdb_app: timed out\n");
  std::exit(1);
}

int Record(const std::string &store, const std::string &stream, double seconds) {
  GstElement *p = Launch(
      "videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,width=640,height=360,"
      "framerate=30/1 ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! "
      "h264parse ! vdbsink name=rec location=\"" +
      store + "\" stream=" + stream + " max-segment-time=2000000000");
  std::printf("recording %.1f s into %s (stream %s)\n", seconds, store.c_str(), stream.c_str());
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus(p);
  // Stop with EOS after `seconds`, so the last segment is sealed.
  GstMessage *m =
      gst_bus_timed_pop_filtered(bus, GstClockTime(seconds * GST_SECOND), GST_MESSAGE_ERROR);
  if (m) Wait(p, GST_MESSAGE_ERROR);  // reports it and exits
  gst_object_unref(bus);
  gst_element_send_event(p, gst_event_new_eos());
  gst_message_unref(Wait(p, GST_MESSAGE_EOS));
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
  return 0;
}

// A paused playback pipeline: vdbsrc ! decodebin ! fakesink.
GstElement *Player(const std::string &store, const std::string &stream, GstElement **src) {
  GstElement *p = Launch("vdbsrc name=src location=\"" + store + "\" stream=" + stream +
                         " ! decodebin ! fakesink name=sink sync=false");
  *src = gst_bin_get_by_name(GST_BIN(p), "src");
  gst_element_set_state(p, GST_STATE_PAUSED);
  gst_message_unref(Wait(p, GST_MESSAGE_ASYNC_DONE));
  return p;
}

int Ranges(const std::string &store, const std::string &stream) {
  GstElement *src;
  GstElement *p = Player(store, stream, &src);
  GstStructure *ranges = nullptr;
  g_signal_emit_by_name(src, "get-ranges", &ranges);
  const GValue *list = gst_structure_get_value(ranges, "ranges");
  for (guint i = 0; list && i < gst_value_list_get_size(list); i++) {
    const GstStructure *r = gst_value_get_structure(gst_value_list_get_value(list, i));
    guint64 a = 0, b = 0, ua = 0, ub = 0;
    gst_structure_get_uint64(r, "start", &a);
    gst_structure_get_uint64(r, "end", &b);
    gst_structure_get_uint64(r, "utc-start", &ua);
    gst_structure_get_uint64(r, "utc-end", &ub);
    std::printf("%s .. %s  (%.1f s, stream time %" GST_TIME_FORMAT ")\n", Iso(ua).c_str(),
                Iso(ub).c_str(), double(b - a) / GST_SECOND, GST_TIME_ARGS(a));
  }
  gst_structure_free(ranges);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(src);
  gst_object_unref(p);
  return 0;
}

int Seek(const std::string &store, const std::string &stream, const std::string &when) {
  GstElement *src;
  GstElement *p = Player(store, stream, &src);
  guint64 target = GST_CLOCK_TIME_NONE;
  if (when[0] == '+') {  // seconds from the start of the recording
    GstStructure *ranges = nullptr;
    g_signal_emit_by_name(src, "get-ranges", &ranges);
    const GValue *list = gst_structure_get_value(ranges, "ranges");
    guint64 start = 0;
    gst_structure_get_uint64(gst_value_get_structure(gst_value_list_get_value(list, 0)), "start",
                             &start);
    gst_structure_free(ranges);
    target = start + guint64(std::atof(when.c_str() + 1) * GST_SECOND);
  } else {  // wall clock
    GDateTime *dt = g_date_time_new_from_iso8601(when.c_str(), nullptr);
    if (!dt) {
      std::fprintf(stderr, "vdb_app: '%s' is neither +SECONDS nor an ISO 8601 time\n",
                   when.c_str());
      return 2;
    }
    guint64 utc = guint64(g_date_time_to_unix(dt)) * GST_SECOND +
                  guint64(g_date_time_get_microsecond(dt)) * 1000;
    g_date_time_unref(dt);
    g_signal_emit_by_name(src, "utc-to-stream-time", utc, &target);
  }
  guint frames = 0;
  GstClockTime first = GST_CLOCK_TIME_NONE;
  GstElement *sink = gst_bin_get_by_name(GST_BIN(p), "sink");
  GstPad *pad = gst_element_get_static_pad(sink, "sink");
  struct Count {
    guint *frames;
    GstClockTime *first;
  } count{&frames, &first};
  gst_pad_add_probe(
      pad, GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad *pad, GstPadProbeInfo *info, gpointer d) {
        auto *c = static_cast<Count *>(d);
        if ((*c->frames)++ == 0) {  // its stream time: what positions and seeks use
          GstEvent *ev = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0);
          const GstSegment *seg;
          gst_event_parse_segment(ev, &seg);
          *c->first = gst_segment_to_stream_time(seg, GST_FORMAT_TIME,
                                                 GST_BUFFER_PTS(GST_PAD_PROBE_INFO_BUFFER(info)));
          gst_event_unref(ev);
        }
        return GST_PAD_PROBE_OK;
      },
      &count, nullptr);
  gst_object_unref(pad);
  gst_object_unref(sink);
  if (!gst_element_seek_simple(p, GST_FORMAT_TIME,
                               GstSeekFlags(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE),
                               gint64(target))) {
    std::fprintf(stderr, "vdb_app: seek failed\n");
    return 1;
  }
  gst_message_unref(Wait(p, GST_MESSAGE_ASYNC_DONE));
  gst_element_set_state(p, GST_STATE_PLAYING);
  gst_message_unref(Wait(p, GST_MESSAGE_EOS));
  guint64 utc = 0;
  g_signal_emit_by_name(src, "stream-time-to-utc", guint64(first), &utc);
  std::printf("seeked to %" GST_TIME_FORMAT ": first decoded frame at %" GST_TIME_FORMAT
              " (%s), %u frames decoded to the end\n",
              GST_TIME_ARGS(target), GST_TIME_ARGS(first), Iso(utc).c_str(), frames);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(src);
  gst_object_unref(p);
  return frames > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "record" && argc == 5) return Record(argv[2], argv[3], std::atof(argv[4]));
  if (cmd == "ranges" && argc == 4) return Ranges(argv[2], argv[3]);
  if (cmd == "seek" && argc == 5) return Seek(argv[2], argv[3], argv[4]);
  std::fprintf(stderr,
               "usage: vdb_app record STORE STREAM SECONDS\n"
               "       vdb_app ranges STORE STREAM\n"
               "       vdb_app seek STORE STREAM (UTC-ISO-8601 | +SECONDS)\n");
  return 2;
}
