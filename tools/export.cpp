#include "export.h"

#include <gst/gst.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "export_plan.h"
#include "reader.h"
#include "time_parse.h"

namespace vdbtool {

namespace {

int Refuse(const std::string &msg) {
  std::fprintf(stderr, "vdb export: %s\n", msg.c_str());
  return 2;
}

// vdbsrc ! parser ! muxer ! filesink, built from elements: nothing the user
// typed is ever parsed as a pipeline description.
GstElement *BuildPipeline(const std::string &store, const std::string &stream,
                          const vdb::ExportPlan &plan, const std::string &path,
                          std::string *error) {
  const char *parser = plan.codec == "h264"   ? "h264parse"
                       : plan.codec == "h265" ? "h265parse"
                       : plan.codec == "av1"  ? "av1parse"
                                              : "vp9parse";
  const char *muxer = plan.container == vdb::Container::kMp4        ? "mp4mux"
                      : plan.container == vdb::Container::kMatroska ? "matroskamux"
                                                                    : "webmmux";
  GstElement *p = gst_pipeline_new("export");
  GstElement *src = gst_element_factory_make("vdbsrc", "src");
  GstElement *parse = gst_element_factory_make(parser, NULL);
  GstElement *mux = gst_element_factory_make(muxer, NULL);
  GstElement *sink = gst_element_factory_make("filesink", NULL);
  if (!src || !parse || !mux || !sink) {
    *error = std::string("missing GStreamer element: ") + (!src     ? "vdbsrc"
                                                           : !parse ? parser
                                                           : !mux   ? muxer
                                                                    : "filesink");
    for (GstElement *e : {src, parse, mux, sink})
      if (e) gst_object_unref(e);
    gst_object_unref(p);
    return NULL;
  }
  std::string start = std::to_string(plan.start_utc);
  g_object_set(src, "location", store.c_str(), "stream", stream.c_str(), NULL);
  if (plan.start_utc) g_object_set(src, "start-time", start.c_str(), NULL);
  if (plan.stop_utc) g_object_set(src, "stop-time", std::to_string(plan.stop_utc).c_str(), NULL);
  if (plan.container == vdb::Container::kMp4) g_object_set(mux, "faststart", TRUE, NULL);
  g_object_set(sink, "location", path.c_str(), NULL);
  gst_bin_add_many(GST_BIN(p), src, parse, mux, sink, NULL);
  if (!gst_element_link_many(src, parse, mux, sink, NULL)) {
    *error = std::string("cannot link vdbsrc ! ") + parser + " ! " + muxer;
    gst_object_unref(p);
    return NULL;
  }
  return p;
}

// Runs to EOS; prints progress unless quiet. Returns an empty string or the error.
std::string Run(GstElement *p, bool quiet) {
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus(p);
  std::string error;
  while (true) {
    GstMessage *m = gst_bus_timed_pop_filtered(bus, 500 * GST_MSECOND,
                                               GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    if (!m) {  // progress, twice a second
      gint64 pos = -1;
      if (!quiet && gst_element_query_position(p, GST_FORMAT_TIME, &pos))
        std::fprintf(stderr, "\rexporting: %" GST_TIME_FORMAT " written", GST_TIME_ARGS(pos));
      continue;
    }
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
      GError *err = nullptr;
      gst_message_parse_error(m, &err, nullptr);
      error = err->message;
      g_clear_error(&err);
    }
    gst_message_unref(m);
    break;
  }
  gst_object_unref(bus);
  gst_element_set_state(p, GST_STATE_NULL);
  return error;
}

}  // namespace

int Export(const std::string &store, const std::string &stream, const std::string &from,
           const std::string &to, const std::string &out, bool quiet) {
  gst_init(nullptr, nullptr);
  guint64 from_utc = 0, to_utc = 0;
  if (!from.empty() && !vdb::ParseUtc(from, &from_utc))
    return Refuse("bad --from '" + from + "': use ISO 8601 UTC or ns since 1970");
  if (!to.empty() && !vdb::ParseUtc(to, &to_utc))
    return Refuse("bad --to '" + to + "': use ISO 8601 UTC or ns since 1970");
  auto reader = vdb::Reader::Open(vdb::DefaultFs(), store, stream);
  if (!reader.ok()) return Refuse(reader.status().ToString());
  auto plan = vdb::PlanExport(reader->get(), out, from_utc, to_utc);
  if (!plan.ok()) return Refuse(plan.status().message());
  reader->reset();
  // Written under a temporary name in the same directory, renamed when
  // complete: a killed or failed export leaves no file under the final name.
  std::string tmp = out + ".partial";
  std::string error;
  GstElement *p = BuildPipeline(store, stream, plan.value(), tmp, &error);
  if (!p) return Refuse(error);
  error = Run(p, quiet);
  gst_object_unref(p);
  if (error.empty() && std::rename(tmp.c_str(), out.c_str()) != 0)
    error = "cannot rename " + tmp + " to " + out;
  if (!error.empty()) {
    ::unlink(tmp.c_str());
    return Refuse((quiet ? "" : "\n") + error);
  }
  if (!quiet) std::fprintf(stderr, "\rexported to %s\n", out.c_str());
  return 0;
}

}  // namespace vdbtool
