#include "remux.h"

namespace vdbtool {

bool InitGstWithVdb(std::string *error) {
  gst_init(nullptr, nullptr);
  GstElementFactory *f = gst_element_factory_find("vdbsrc");
#ifdef VDB_BUILD_PLUGIN_DIR
  if (!f) {  // run from the build tree without GST_PLUGIN_PATH
    gst_registry_scan_path(gst_registry_get(), VDB_BUILD_PLUGIN_DIR);
    f = gst_element_factory_find("vdbsrc");
  }
#endif
  if (f) {
    gst_object_unref(f);
    return true;
  }
  *error =
      "GStreamer cannot find vdbsrc: install vdb (meson install -C build) or set "
      "GST_PLUGIN_PATH to the build tree's gst directory";
  return false;
}

const char *MuxerFor(vdb::Container c) {
  return c == vdb::Container::kMp4        ? "mp4mux"
         : c == vdb::Container::kMatroska ? "matroskamux"
                                          : "webmmux";
}

const char *ParserFor(const std::string &codec) {
  return codec == "h264"   ? "h264parse"
         : codec == "h265" ? "h265parse"
         : codec == "av1"  ? "av1parse"
         : codec == "vp9"  ? "vp9parse"
         : codec == "aac"  ? "aacparse"
         : codec == "opus" ? "opusparse"
                           : "";
}

GstElement *BuildRemux(const RemuxRequest &req, GstElement *sink, std::string *error) {
  GstElement *p = gst_pipeline_new("remux");
  GstElement *src = gst_element_factory_make("vdbsrc", "src");
  GstElement *mux = gst_element_factory_make(req.muxer.c_str(), "mux");
  auto fail = [&](const std::string &what) {
    *error = what;
    gst_object_unref(p);
    return nullptr;
  };
  if (sink) gst_bin_add(GST_BIN(p), sink);
  for (auto [e, name] : {std::pair{src, "vdbsrc"}, {mux, req.muxer.c_str()}})
    if (e)
      gst_bin_add(GST_BIN(p), e);
    else
      return fail(std::string("missing GStreamer element: ") + name);
  g_object_set(src, "location", req.store.c_str(), "stream", req.stream.c_str(), NULL);
  if (!req.endpoint.empty()) g_object_set(src, "endpoint", req.endpoint.c_str(), NULL);
  if (!req.region.empty()) g_object_set(src, "region", req.region.c_str(), NULL);
  if (req.live) g_object_set(src, "follow", TRUE, "live-edge", TRUE, NULL);
  if (req.start_utc) g_object_set(src, "start-time", std::to_string(req.start_utc).c_str(), NULL);
  if (req.stop_utc) g_object_set(src, "stop-time", std::to_string(req.stop_utc).c_str(), NULL);
  // vdbsrc has a pad per track from READY on.
  if (gst_element_set_state(src, GST_STATE_READY) == GST_STATE_CHANGE_FAILURE)
    return fail("cannot open stream '" + req.stream + "'");
  if (sink && !gst_element_link(mux, sink))
    return fail("cannot link " + req.muxer + " to its sink");
  for (const vdb::TrackMeta &t : req.tracks) {
    std::string pad = vdb::TrackPadName(t.track);
    GstElement *from = src;
    const char *parser = ParserFor(t.codec);
    bool linked = true;
    if (*parser) {
      GstElement *parse = gst_element_factory_make(parser, NULL);
      if (!parse) return fail(std::string("missing GStreamer element: ") + parser);
      gst_bin_add(GST_BIN(p), parse);
      linked = gst_element_link_pads(src, pad.c_str(), parse, NULL);
      from = parse;
    }
    GstPad *out = from == src ? gst_element_get_static_pad(src, pad.c_str())
                              : gst_element_get_static_pad(from, "src");
    if (out && req.offset) gst_pad_set_offset(out, req.offset);
    if (out) gst_object_unref(out);
    linked = linked && gst_element_link_pads(from, from == src ? pad.c_str() : NULL, mux, NULL);
    if (!linked) return fail("cannot link vdbsrc's " + pad + " (" + t.codec + ") to " + req.muxer);
  }
  return p;
}

}  // namespace vdbtool
