#include "export.h"

#include <gst/gst.h>

#include <cstdio>
#include <cstring>

#include "reader.h"

namespace vdbtool {

int Export(const std::string &store, const std::string &stream, const std::string &from,
           const std::string &to, const std::string &out, bool quiet) {
  gst_init(nullptr, nullptr);
  // A parser gives mp4mux what it needs: h264parse the avc form, vp9parse
  // the chroma format and bit depth in the caps.
  auto reader = vdb::Reader::Open(vdb::DefaultFs(), store, stream);
  if (!reader.ok()) {
    std::fprintf(stderr, "vdb export: %s\n", reader.status().ToString().c_str());
    return 2;
  }
  auto seg0 = (*reader)->segments().empty() ? vdb::Result<vdb::SegmentReader *>(vdb::Status(
                                                  vdb::Code::kNotFound, "the stream is empty"))
                                            : (*reader)->Segment(0);
  if (!seg0.ok()) {
    std::fprintf(stderr, "vdb export: %s\n", seg0.status().ToString().c_str());
    return 2;
  }
  const std::string parser =
      (*seg0)->caps().rfind("video/x-h264", 0) == 0 ? " ! h264parse" : " ! vp9parse";
  reader->reset();
  auto ends_with = [&out](const char *ext) {
    size_t n = std::strlen(ext);
    return out.size() >= n && out.compare(out.size() - n, n, ext) == 0;
  };
  const bool vp9 = parser == " ! vp9parse";
  std::string mux = "mp4mux faststart=true";
  if (ends_with(".mkv"))
    mux = "matroskamux";
  else if (ends_with(".webm"))
    mux = "webmmux";
  else if (vp9) {
    // mp4mux of GStreamer 1.22 crashes on VP9 caps from vp9parse.
    std::fprintf(stderr, "vdb export: export VP9 to .webm or .mkv\n");
    return 2;
  }
  std::string desc = "vdbsrc name=src location=\"" + store + "\" stream=\"" + stream + "\"" +
                     (from.empty() ? "" : " start-time=\"" + from + "\"") +
                     (to.empty() ? "" : " stop-time=\"" + to + "\"") + parser + " ! " + mux +
                     " ! filesink location=\"" + out + "\"";
  GError *err = nullptr;
  GstElement *p = gst_parse_launch(desc.c_str(), &err);
  if (!p) {
    std::fprintf(stderr, "vdb export: %s\n", err ? err->message : "cannot build the pipeline");
    return 2;
  }
  g_clear_error(&err);
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus(p);
  int rc = 1;
  gint64 first = -1;
  while (true) {
    GstMessage *m = gst_bus_timed_pop_filtered(bus, 500 * GST_MSECOND,
                                               GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    if (!m) {  // progress, twice a second
      gint64 pos = -1, dur = -1;
      if (!quiet && gst_element_query_position(p, GST_FORMAT_TIME, &pos) &&
          gst_element_query_duration(p, GST_FORMAT_TIME, &dur) && dur > 0) {
        if (first < 0) first = pos;
        std::fprintf(stderr, "\rexporting: %" GST_TIME_FORMAT " written",
                     GST_TIME_ARGS(pos - first));
      }
      continue;
    }
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
      gst_message_parse_error(m, &err, nullptr);
      std::fprintf(stderr, "\nvdb export: %s\n", err->message);
      g_clear_error(&err);
    } else {
      if (!quiet) std::fprintf(stderr, "\rexported to %s\n", out.c_str());
      rc = 0;
    }
    gst_message_unref(m);
    break;
  }
  gst_object_unref(bus);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
  return rc;
}

}  // namespace vdbtool
