#include "export.h"

#include <gst/gst.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "export_plan.h"
#include "reader.h"
#include "remux.h"
#include "time_parse.h"

namespace vdbtool {

namespace {

int Refuse(const std::string &msg) {
  std::fprintf(stderr, "vdb export: %s\n", msg.c_str());
  return 2;
}

// vdbsrc ! parser per track ! muxer ! filesink at `path`.
GstElement *BuildPipeline(const std::string &store, const vdb::remote::RemoteArgs &remote,
                          const std::string &stream, const vdb::ExportPlan &plan,
                          const std::string &path, std::string *error) {
  RemuxRequest req;
  req.store = store;
  req.endpoint = remote.endpoint;
  req.region = remote.region;
  req.stream = stream;
  req.tracks = plan.tracks;
  req.start_utc = plan.start_utc;
  req.stop_utc = plan.stop_utc;
  req.muxer = MuxerFor(plan.container);
  GstElement *sink = gst_element_factory_make("filesink", NULL);
  if (!sink) {
    *error = "missing GStreamer element: filesink";
    return nullptr;
  }
  g_object_set(sink, "location", path.c_str(), NULL);
  GstElement *p = BuildRemux(req, sink, error);
  if (p && plan.container == vdb::Container::kMp4) {
    GstElement *mux = gst_bin_get_by_name(GST_BIN(p), "mux");
    g_object_set(mux, "faststart", TRUE, NULL);
    gst_object_unref(mux);
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
           const std::string &to, const std::string &out, bool quiet,
           const vdb::remote::RemoteArgs &remote) {
  std::string init_error;
  if (!InitGstWithVdb(&init_error)) return Refuse(init_error);
  guint64 from_utc = 0, to_utc = 0;
  if (!from.empty() && !vdb::ParseUtc(from, &from_utc))
    return Refuse("bad --from '" + from + "': use ISO 8601 UTC or ns since 1970");
  if (!to.empty() && !vdb::ParseUtc(to, &to_utc))
    return Refuse("bad --to '" + to + "': use ISO 8601 UTC or ns since 1970");
  auto where = vdb::remote::StoreLocation::Open(store, remote);
  if (!where.ok()) return Refuse(where.status().ToString());
  vdb::Fs *fs = (*where)->fs();
  auto reader = vdb::Reader::Open(fs, (*where)->path(), stream);
  if (!reader.ok()) return Refuse(reader.status().ToString());
  auto tracks = (*reader)->Tracks();
  if (!tracks.ok()) return Refuse(tracks.status().ToString());
  if (tracks->empty()) return Refuse("the stream holds no recording");
  if (tracks->front().track != 0) {  // audio only: the reader follows the lead track
    reader = vdb::Reader::Open(fs, (*where)->path(), stream, 4, tracks->front().track);
    if (!reader.ok()) return Refuse(reader.status().ToString());
  }
  auto plan = vdb::PlanExport(reader->get(), tracks.value(), out, from_utc, to_utc);
  if (!plan.ok()) return Refuse(plan.status().message());
  reader->reset();
  // Written under a temporary name in the same directory, renamed when
  // complete: a killed or failed export leaves no file under the final name.
  std::string tmp = out + ".partial";
  std::string error;
  GstElement *p = BuildPipeline(store, remote, stream, plan.value(), tmp, &error);
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
