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

// The parser that readies a stored track for a muxer ("" when none is needed).
const char *ParserFor(const std::string &codec) {
  return codec == "h264"   ? "h264parse"
         : codec == "h265" ? "h265parse"
         : codec == "av1"  ? "av1parse"
         : codec == "vp9"  ? "vp9parse"
         : codec == "aac"  ? "aacparse"
         : codec == "opus" ? "opusparse"
                           : "";
}

// vdbsrc's pad of each track ! parser ! muxer ! filesink, built from
// elements: nothing the user typed is ever parsed as a pipeline description.
GstElement *BuildPipeline(const std::string &store, const std::string &stream,
                          const vdb::ExportPlan &plan, const std::string &path,
                          std::string *error) {
  const char *muxer = plan.container == vdb::Container::kMp4        ? "mp4mux"
                      : plan.container == vdb::Container::kMatroska ? "matroskamux"
                                                                    : "webmmux";
  GstElement *p = gst_pipeline_new("export");
  GstElement *src = gst_element_factory_make("vdbsrc", "src");
  GstElement *mux = gst_element_factory_make(muxer, NULL);
  GstElement *sink = gst_element_factory_make("filesink", NULL);
  auto missing = [&](const std::string &what) {
    *error = "missing GStreamer element: " + what;
    gst_object_unref(p);
    return nullptr;
  };
  for (auto [e, name] : {std::pair{src, "vdbsrc"}, {mux, muxer}, {sink, "filesink"}})
    if (e)
      gst_bin_add(GST_BIN(p), e);
    else
      return missing(name);
  std::string start = std::to_string(plan.start_utc);
  g_object_set(src, "location", store.c_str(), "stream", stream.c_str(), NULL);
  if (plan.start_utc) g_object_set(src, "start-time", start.c_str(), NULL);
  if (plan.stop_utc) g_object_set(src, "stop-time", std::to_string(plan.stop_utc).c_str(), NULL);
  if (plan.container == vdb::Container::kMp4) g_object_set(mux, "faststart", TRUE, NULL);
  g_object_set(sink, "location", path.c_str(), NULL);
  // vdbsrc has a pad per track from READY on.
  if (gst_element_set_state(src, GST_STATE_READY) == GST_STATE_CHANGE_FAILURE) {
    *error = "cannot open stream '" + stream + "'";
    gst_object_unref(p);
    return nullptr;
  }
  bool linked = gst_element_link(mux, sink);
  for (const vdb::TrackMeta &t : plan.tracks) {
    std::string pad = vdb::TrackPadName(t.track);
    GstElement *from = src;
    const char *parser = ParserFor(t.codec);
    if (*parser) {
      GstElement *parse = gst_element_factory_make(parser, NULL);
      if (!parse) return missing(parser);
      gst_bin_add(GST_BIN(p), parse);
      linked = linked && gst_element_link_pads(src, pad.c_str(), parse, NULL);
      from = parse;
    }
    linked = linked && gst_element_link_pads(from, from == src ? pad.c_str() : NULL, mux, NULL);
    if (!linked) {
      *error = "cannot link vdbsrc's " + pad + " (" + t.codec + ") to " + muxer;
      gst_object_unref(p);
      return nullptr;
    }
  }
  return p;
}

// Runs to EOS; prints progress unless quiet (*progress: a line was
// printed). Returns an empty string or the error.
std::string Run(GstElement *p, bool quiet, bool *progress) {
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstBus *bus = gst_element_get_bus(p);
  std::string error;
  while (true) {
    GstMessage *m = gst_bus_timed_pop_filtered(bus, 500 * GST_MSECOND,
                                               GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    if (!m) {  // progress, twice a second
      gint64 pos = -1;
      if (!quiet && gst_element_query_position(p, GST_FORMAT_TIME, &pos)) {
        std::fprintf(stderr, "\rexporting: %" GST_TIME_FORMAT " written", GST_TIME_ARGS(pos));
        *progress = true;
      }
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
  auto tracks = (*reader)->Tracks();
  if (!tracks.ok()) return Refuse(tracks.status().ToString());
  if (tracks->empty()) return Refuse("the stream holds no recording");
  if (tracks->front().track != 0) {  // audio only: the reader follows the lead track
    reader = vdb::Reader::Open(vdb::DefaultFs(), store, stream, 4, tracks->front().track);
    if (!reader.ok()) return Refuse(reader.status().ToString());
  }
  auto plan = vdb::PlanExport(reader->get(), tracks.value(), out, from_utc, to_utc);
  if (!plan.ok()) return Refuse(plan.status().message());
  reader->reset();
  // Written under a temporary name in the same directory, renamed when
  // complete: a killed or failed export leaves no file under the final name.
  std::string tmp = out + ".partial";
  std::string error;
  GstElement *p = BuildPipeline(store, stream, plan.value(), tmp, &error);
  if (!p) return Refuse(error);
  bool progress = false;
  error = Run(p, quiet, &progress);
  gst_object_unref(p);
  if (error.empty() && std::rename(tmp.c_str(), out.c_str()) != 0)
    error = "cannot rename " + tmp + " to " + out;
  if (!error.empty()) {
    ::unlink(tmp.c_str());
    return Refuse((progress ? "\n" : "") + error);
  }
  if (!quiet) std::fprintf(stderr, "%sexported to %s\n", progress ? "\r" : "", out.c_str());
  return 0;
}

}  // namespace vdbtool
