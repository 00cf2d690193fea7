// seek_demo: plays a vdb stream, seeks, and reports what it decoded.
//
//   seek_demo STORE STREAM SECONDS
//
// Builds `vdbsrc ! parsebin ! decodebin ! fakesink`, waits for PAUSED, prints
// the recorded duration and ranges, seeks SECONDS into the recording
// (flushing, key-unit), then plays to the end and prints the first frame
// time after the seek and how many frames were decoded.
#include <gst/gst.h>

#include <cstdio>
#include <cstdlib>

namespace {

struct Counter {
  guint frames = 0;
  GstClockTime first = GST_CLOCK_TIME_NONE;
};

GstPadProbeReturn OnBuffer(GstPad *, GstPadProbeInfo *info, gpointer data) {
  auto *c = static_cast<Counter *>(data);
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
  if (c->frames++ == 0) c->first = GST_BUFFER_PTS(buf);
  return GST_PAD_PROBE_OK;
}

bool WaitFor(GstElement *pipeline, GstMessageType types, GstMessage **out) {
  GstBus *bus = gst_element_get_bus(pipeline);
  GstMessage *msg =
      gst_bus_timed_pop_filtered(bus, 30 * GST_SECOND, GstMessageType(types | GST_MESSAGE_ERROR));
  gst_object_unref(bus);
  if (!msg) {
    std::fprintf(stderr, "timed out\n");
    return false;
  }
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError *err = nullptr;
    gchar *dbg = nullptr;
    gst_message_parse_error(msg, &err, &dbg);
    std::fprintf(stderr, "error: %s\n%s\n", err->message, dbg ? dbg : "");
    g_error_free(err);
    g_free(dbg);
    gst_message_unref(msg);
    return false;
  }
  if (out)
    *out = msg;
  else
    gst_message_unref(msg);
  return true;
}

}  // namespace

int main(int argc, char **argv) {
  gst_init(&argc, &argv);
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s STORE STREAM SECONDS\n", argv[0]);
    return 2;
  }
  gchar *desc = g_strdup_printf(
      "vdbsrc name=src location=\"%s\" stream=\"%s\" ! decodebin ! fakesink name=sink sync=false",
      argv[1], argv[2]);
  GError *err = nullptr;
  GstElement *pipeline = gst_parse_launch(desc, &err);
  g_free(desc);
  if (!pipeline) {
    std::fprintf(stderr, "pipeline: %s\n", err->message);
    return 1;
  }
  GstElement *src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  Counter counter;
  GstPad *pad = gst_element_get_static_pad(sink, "sink");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, OnBuffer, &counter, nullptr);
  gst_object_unref(pad);

  int rc = 1;
  gst_element_set_state(pipeline, GST_STATE_PAUSED);
  if (WaitFor(pipeline, GST_MESSAGE_ASYNC_DONE, nullptr)) {
    gint64 duration = -1;
    gst_element_query_duration(pipeline, GST_FORMAT_TIME, &duration);
    GstStructure *ranges = nullptr;
    g_signal_emit_by_name(src, "get-ranges", &ranges);
    gchar *rs = gst_structure_to_string(ranges);
    std::printf("recorded up to %" GST_TIME_FORMAT "; ranges: %s\n", GST_TIME_ARGS(duration), rs);
    g_free(rs);
    const GValue *list = gst_structure_get_value(ranges, "ranges");
    guint64 start = 0;
    if (list && gst_value_list_get_size(list) > 0)
      gst_structure_get_uint64(gst_value_get_structure(gst_value_list_get_value(list, 0)), "start",
                               &start);
    gst_structure_free(ranges);
    GstClockTime target = start + GstClockTime(std::atof(argv[3]) * GST_SECOND);
    counter = Counter();
    if (!gst_element_seek_simple(pipeline, GST_FORMAT_TIME,
                                 GstSeekFlags(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT),
                                 gint64(target))) {
      std::fprintf(stderr, "seek failed\n");
    } else if (WaitFor(pipeline, GST_MESSAGE_ASYNC_DONE, nullptr)) {
      gst_element_set_state(pipeline, GST_STATE_PLAYING);
      if (WaitFor(pipeline, GST_MESSAGE_EOS, nullptr)) {
        std::printf("seeked to %" GST_TIME_FORMAT ": first decoded frame at %" GST_TIME_FORMAT
                    ", %u frames decoded to the end\n",
                    GST_TIME_ARGS(target), GST_TIME_ARGS(counter.first), counter.frames);
        rc = counter.frames > 0 ? 0 : 1;
      }
    }
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(src);
  gst_object_unref(sink);
  gst_object_unref(pipeline);
  return rc;
}
