#include "render.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

#include <algorithm>
#include <memory>

#include "file.h"
#include "segment_reader.h"

namespace vdbserve {

namespace {

// Runs `p` to EOS or error; unrefs it. Returns "" or the error.
std::string RunToEos(GstElement *p) {
  std::string error;
  if (gst_element_set_state(p, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    error = "cannot start the pipeline";
  GstBus *bus = gst_element_get_bus(p);
  while (error.empty()) {
    GstMessage *m = gst_bus_timed_pop_filtered(bus, GST_CLOCK_TIME_NONE,
                                               GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    bool eos = GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS;
    if (!eos) {
      GError *err = nullptr;
      gst_message_parse_error(m, &err, nullptr);
      error = err->message;
      g_clear_error(&err);
    }
    gst_message_unref(m);
    if (eos) break;
  }
  gst_bus_set_flushing(bus, TRUE);
  gst_object_unref(bus);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
  return error;
}

GstElement *Muxer(GstElement *p) {
  return gst_bin_get_by_name(GST_BIN(p), "mux");
}

}  // namespace

std::string RenderToFile(const vdbtool::RemuxRequest &req, const std::string &path) {
  GstElement *sink = gst_element_factory_make("filesink", NULL);
  if (!sink) return "missing GStreamer element: filesink";
  g_object_set(sink, "location", path.c_str(), NULL);
  std::string error;
  GstElement *p = vdbtool::BuildRemux(req, sink, &error);
  if (!p) return error;
  GstElement *mux = Muxer(p);
  if (req.muxer == "mp4mux") g_object_set(mux, "faststart", TRUE, NULL);
  gst_object_unref(mux);
  return RunToEos(p);
}

std::string RenderSegmentTs(vdb::Fs *fs, const std::string &dir, const vdb::SegmentInfo &segment,
                            const std::vector<vdb::TrackMeta> &tracks, const std::string &path) {
  struct Track {
    std::unique_ptr<vdb::SegmentReader> reader;
    std::vector<uint8_t> bytes;
    std::vector<vdb::FrameView> frames;
    GstElement *src = nullptr;
  };
  std::vector<Track> ts;
  for (const vdb::TrackMeta &t : tracks) {
    auto r = vdb::SegmentReader::Open(fs, dir, segment, t.track);
    if (!r.ok()) return r.status().ToString();
    Track tr;
    tr.reader = std::move(r.value());
    if (tr.reader->size() == 0) continue;  // the track has no frame in this segment
    vdb::Status st = tr.reader->Read(0, tr.reader->size(), &tr.bytes, &tr.frames);
    if (!st.ok()) return st.ToString();
    ts.push_back(std::move(tr));
  }
  if (ts.empty()) return "no frames in segment " + std::to_string(segment.id);
  GstElement *p = gst_pipeline_new("segment");
  GstElement *mux = gst_element_factory_make("mpegtsmux", NULL);
  GstElement *sink = gst_element_factory_make("filesink", NULL);
  if (!mux || !sink) {
    if (mux) gst_object_unref(mux);
    if (sink) gst_object_unref(sink);
    gst_object_unref(p);
    return "missing GStreamer element: mpegtsmux (gstreamer1.0-plugins-bad) or filesink";
  }
  g_object_set(sink, "location", path.c_str(), NULL);
  gst_bin_add_many(GST_BIN(p), mux, sink, NULL);
  gst_element_link(mux, sink);
  for (Track &t : ts) {
    t.src = gst_element_factory_make("appsrc", NULL);
    GstCaps *caps = gst_caps_from_string(t.reader->caps().c_str());
    g_object_set(t.src, "format", GST_FORMAT_TIME, "caps", caps, NULL);
    if (caps) gst_caps_unref(caps);
    gst_bin_add(GST_BIN(p), t.src);
    const char *parser = vdbtool::ParserFor(vdb::CodecOfCaps(t.reader->caps()));
    GstElement *parse = *parser ? gst_element_factory_make(parser, NULL) : nullptr;
    bool linked = parse ? (gst_bin_add(GST_BIN(p), parse),
                           gst_element_link(t.src, parse) && gst_element_link(parse, mux))
                        : gst_element_link(t.src, mux);
    if (!linked) {
      gst_object_unref(p);
      return "cannot put " + t.reader->caps().substr(0, t.reader->caps().find(',')) + " in MPEG-TS";
    }
  }
  if (gst_element_set_state(p, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    gst_object_unref(p);
    return "cannot start the segment pipeline";
  }
  // Every track's frames in stored order (interleaved as they were recorded).
  std::vector<std::pair<size_t, size_t>> order;  // (track, frame) by file offset
  for (size_t i = 0; i < ts.size(); i++)
    for (size_t f = 0; f < ts[i].frames.size(); f++) order.push_back({i, f});
  std::sort(order.begin(), order.end(), [&ts](const auto &a, const auto &b) {
    return ts[a.first].reader->entry(a.second).offset < ts[b.first].reader->entry(b.second).offset;
  });
  for (auto [i, f] : order) {
    const vdb::FrameView &v = ts[i].frames[f];
    GstBuffer *b = gst_buffer_new_memdup(ts[i].bytes.data() + v.data_offset, v.header.payload_size);
    GST_BUFFER_PTS(b) = v.header.pts;
    GST_BUFFER_DTS(b) = v.header.dts;
    GST_BUFFER_DURATION(b) = v.header.duration;
    if (!(v.header.flags & vdb::kFlagKey)) GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DELTA_UNIT);
    if (gst_app_src_push_buffer(GST_APP_SRC(ts[i].src), b) != GST_FLOW_OK) break;
  }
  for (Track &t : ts) gst_app_src_end_of_stream(GST_APP_SRC(t.src));
  return RunToEos(p);
}

std::string StreamFragmented(const vdbtool::RemuxRequest &req,
                             const std::function<bool(GBytes *)> &chunk,
                             const std::atomic<bool> *cancel) {
  GstElement *sink = gst_element_factory_make("appsink", NULL);
  if (!sink) return "missing GStreamer element: appsink";
  // The client's pace sets the pipeline's: a few buffers queued at most.
  g_object_set(sink, "sync", FALSE, "max-buffers", 8, "drop", FALSE, NULL);
  std::string error;
  GstElement *p = vdbtool::BuildRemux(req, sink, &error);
  if (!p) return error;
  GstElement *mux = Muxer(p);
  g_object_set(mux, "fragment-duration", 1000, "streamable", TRUE, NULL);
  gst_object_unref(mux);
  if (gst_element_set_state(p, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    error = "cannot start the pipeline";
  GstBus *bus = gst_element_get_bus(p);
  while (error.empty() && !cancel->load()) {
    GstSample *s = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 200 * GST_MSECOND);
    if (s) {
      GstBuffer *b = gst_sample_get_buffer(s);
      GstMapInfo map;
      bool go = true;
      if (gst_buffer_map(b, &map, GST_MAP_READ)) {
        GBytes *bytes = g_bytes_new(map.data, map.size);
        gst_buffer_unmap(b, &map);
        go = chunk(bytes);
        g_bytes_unref(bytes);
      }
      gst_sample_unref(s);
      if (!go) break;
      continue;
    }
    if (gst_app_sink_is_eos(GST_APP_SINK(sink))) break;
    GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    if (m) {
      GError *err = nullptr;
      gst_message_parse_error(m, &err, nullptr);
      error = err->message;
      g_clear_error(&err);
      gst_message_unref(m);
    }
  }
  gst_bus_set_flushing(bus, TRUE);
  gst_object_unref(bus);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
  return error;
}

GBytes *RenderThumbnail(const std::string &store, const std::string &stream, uint64_t utc,
                        int width, std::string *error) {
  GstElement *p = gst_pipeline_new("thumbnail");
  GstElement *src = gst_element_factory_make("vdbsrc", NULL);
  GstElement *dec = gst_element_factory_make("decodebin", NULL);
  GstElement *conv = gst_element_factory_make("videoconvert", NULL);
  GstElement *scale = gst_element_factory_make("videoscale", NULL);
  GstElement *filter = gst_element_factory_make("capsfilter", NULL);
  GstElement *enc = gst_element_factory_make("jpegenc", NULL);
  GstElement *sink = gst_element_factory_make("appsink", NULL);
  for (GstElement *e : {src, dec, conv, scale, filter, enc, sink}) {
    if (!e) {
      *error = "missing GStreamer element (vdbsrc, decodebin, videoconvert, videoscale, jpegenc)";
      for (GstElement *o : {src, dec, conv, scale, filter, enc, sink})
        if (o) gst_object_unref(o);
      gst_object_unref(p);
      return nullptr;
    }
  }
  gst_bin_add_many(GST_BIN(p), src, dec, conv, scale, filter, enc, sink, NULL);
  // Just the keyframe: playback starts at the keyframe at or before `utc`
  // and stops right after it.
  g_object_set(src, "location", store.c_str(), "stream", stream.c_str(), "start-time",
               std::to_string(utc).c_str(), "stop-time", std::to_string(utc + 1000000).c_str(),
               NULL);
  GstCaps *caps = gst_caps_new_simple("video/x-raw", "width", G_TYPE_INT, width,
                                      "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
  g_object_set(filter, "caps", caps, NULL);
  gst_caps_unref(caps);
  g_object_set(sink, "sync", FALSE, "max-buffers", 1, "drop", FALSE, NULL);
  g_signal_connect(dec, "pad-added", G_CALLBACK(+[](GstElement *, GstPad *pad, GstElement *conv) {
                     GstPad *sinkpad = gst_element_get_static_pad(conv, "sink");
                     if (!gst_pad_is_linked(sinkpad)) gst_pad_link(pad, sinkpad);
                     gst_object_unref(sinkpad);
                   }),
                   conv);
  bool ok = gst_element_set_state(src, GST_STATE_READY) != GST_STATE_CHANGE_FAILURE &&
            gst_element_link_pads(src, "video", dec, NULL) &&
            gst_element_link_many(conv, scale, filter, enc, sink, NULL);
  GBytes *out = nullptr;
  if (!ok) *error = "cannot open the video of stream '" + stream + "'";
  if (ok && gst_element_set_state(p, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    *error = "cannot start the thumbnail pipeline";
    ok = false;
  }
  if (ok) {
    GstSample *s = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 10 * GST_SECOND);
    if (s) {
      GstMapInfo map;
      GstBuffer *b = gst_sample_get_buffer(s);
      if (gst_buffer_map(b, &map, GST_MAP_READ)) {
        out = g_bytes_new(map.data, map.size);
        gst_buffer_unmap(b, &map);
      }
      gst_sample_unref(s);
    }
    if (!out) {
      GstBus *bus = gst_element_get_bus(p);
      GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
      *error = "no frame decoded";
      if (m) {
        GError *err = nullptr;
        gst_message_parse_error(m, &err, nullptr);
        *error += std::string(": ") + err->message;
        g_clear_error(&err);
        gst_message_unref(m);
      }
      gst_bus_set_flushing(bus, TRUE);
      gst_object_unref(bus);
    }
  }
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
  return out;
}

}  // namespace vdbserve
