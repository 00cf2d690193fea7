// Helpers for element tests: temp stores, encoded test streams, pipelines
// run to completion, and reading back what a store holds.
#pragma once

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "reader.h"
#include "retention.h"

namespace vdbtest {

// A fresh directory, removed by the destructor.
struct TempDir {
  std::string path;
  TempDir() {
    gchar *p = g_dir_make_tmp("vdbgst-XXXXXX", NULL);
    path = p;
    g_free(p);
  }
  ~TempDir() { (void)std::system(("rm -rf '" + path + "'").c_str()); }
};

// A harness feeding vdbsink's request pad `pad` ("video", "audio_0", ...).
inline GstHarness *VdbSinkHarness(const std::string &props, const char *pad = "video") {
  GError *err = NULL;
  GstElement *e = gst_parse_launch(("vdbsink " + props).c_str(), &err);
  fail_unless(e != NULL, "vdbsink %s: %s", props.c_str(), err ? err->message : "?");
  g_clear_error(&err);
  gst_object_ref_sink(e);
  GstHarness *h = gst_harness_new_with_element(e, pad, NULL);
  gst_object_unref(e);
  return h;
}

// A harness on vdbsrc's pad `pad`, which exists from READY on (`desc`:
// "vdbsrc location=... stream=...").
inline GstHarness *VdbSrcHarness(const std::string &desc, const char *pad = "video") {
  GError *err = NULL;
  GstElement *e = gst_parse_launch(desc.c_str(), &err);
  fail_unless(e != NULL, "%s: %s", desc.c_str(), err ? err->message : "?");
  g_clear_error(&err);
  gst_object_ref_sink(e);
  fail_unless(gst_element_set_state(e, GST_STATE_READY) == GST_STATE_CHANGE_SUCCESS);
  GstHarness *h = gst_harness_new_with_element(e, NULL, pad);
  gst_object_unref(e);
  return h;
}

// Encoded frames as an encoder produced them.
struct Encoded {
  GstCaps *caps = nullptr;
  std::vector<GstBuffer *> buffers;
  ~Encoded() {
    if (caps) gst_caps_unref(caps);
    for (auto *b : buffers) gst_buffer_unref(b);
  }
};

// Runs "videotestsrc ! raw caps ! <encoder> ! appsink" for n frames at 30 fps.
inline void Encode(const std::string &encoder, int n, Encoded *out, int width = 160,
                   int height = 120) {
  gchar *desc = g_strdup_printf(
      "videotestsrc num-buffers=%d pattern=ball ! video/x-raw,format=I420,width=%d,height=%d,"
      "framerate=30/1 ! %s ! appsink name=out sync=false",
      n, width, height, encoder.c_str());
  GError *err = NULL;
  GstElement *p = gst_parse_launch(desc, &err);
  g_free(desc);
  fail_unless(p != NULL, "pipeline: %s", err ? err->message : "?");
  g_clear_error(&err);
  GstElement *sink = gst_bin_get_by_name(GST_BIN(p), "out");
  gst_element_set_state(p, GST_STATE_PLAYING);
  while (true) {
    GstSample *s = NULL;
    g_signal_emit_by_name(sink, "pull-sample", &s);
    if (!s) break;
    if (!out->caps) out->caps = gst_caps_ref(gst_sample_get_caps(s));
    out->buffers.push_back(gst_buffer_ref(gst_sample_get_buffer(s)));
    gst_sample_unref(s);
  }
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(sink);
  gst_object_unref(p);
  fail_unless_equals_int(int(out->buffers.size()), n);
}

struct StoredFrame {
  std::string data;
  uint64_t pts, dts, duration;
  uint32_t flags;
  uint64_t segment;
};

inline std::vector<StoredFrame> ReadStore(const std::string &store, const std::string &stream,
                                          std::vector<vdb::SegmentInfo> *segs = nullptr,
                                          std::vector<std::string> *caps = nullptr) {
  std::vector<StoredFrame> out;
  auto r = vdb::Reader::Open(vdb::DefaultFs(), store, stream);
  fail_unless(r.ok(), "open store: %s", r.status().ToString().c_str());
  if (segs) *segs = (*r)->segments();
  std::vector<uint8_t> buf;
  std::vector<vdb::FrameView> views;
  for (size_t i = 0; i < (*r)->segments().size(); i++) {
    auto seg = (*r)->Segment(i);
    fail_unless(seg.ok(), "segment: %s", seg.status().ToString().c_str());
    if (caps) caps->push_back((*seg)->caps());
    vdb::Status st = (*seg)->Read(0, (*seg)->size(), &buf, &views);
    fail_unless(st.ok(), "read: %s", st.ToString().c_str());
    for (auto &v : views)
      out.push_back(
          {std::string(reinterpret_cast<char *>(buf.data()) + v.data_offset, v.header.payload_size),
           v.header.pts, v.header.dts, v.header.duration, v.header.flags, (*r)->segments()[i].id});
  }
  return out;
}

inline std::string BufferBytes(GstBuffer *b) {
  GstMapInfo m;
  gst_buffer_map(b, &m, GST_MAP_READ);
  std::string s(reinterpret_cast<char *>(m.data), m.size);
  gst_buffer_unmap(b, &m);
  return s;
}

struct RunResult {
  bool eos = false;
  std::vector<std::string> errors, warnings;
  std::vector<GstStructure *> elements;  // element messages
  ~RunResult() {
    for (auto *s : elements) gst_structure_free(s);
  }
  bool HasElement(const char *name) const {
    for (auto *s : elements)
      if (gst_structure_has_name(s, name)) return true;
    return false;
  }
};

// Runs a pipeline to EOS or error (or `timeout`), collecting messages.
inline void Run(const std::string &desc, RunResult *r, GstClockTime timeout = 60 * GST_SECOND) {
  GError *err = NULL;
  GstElement *p = gst_parse_launch(desc.c_str(), &err);
  fail_unless(p != NULL, "pipeline '%s': %s", desc.c_str(), err ? err->message : "?");
  g_clear_error(&err);  // set for recoverable problems even when p is returned
  GstBus *bus = gst_element_get_bus(p);
  gst_element_set_state(p, GST_STATE_PLAYING);
  while (true) {
    GstMessage *m = gst_bus_timed_pop(bus, timeout);
    if (!m) break;
    bool done = false;
    switch (GST_MESSAGE_TYPE(m)) {
      case GST_MESSAGE_EOS:
        r->eos = done = true;
        break;
      case GST_MESSAGE_ERROR:
      case GST_MESSAGE_WARNING: {
        GError *e = NULL;
        gchar *dbg = NULL;
        if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
          gst_message_parse_error(m, &e, &dbg);
          r->errors.push_back(std::string(e->message) + " | " + (dbg ? dbg : ""));
          done = true;
        } else {
          gst_message_parse_warning(m, &e, &dbg);
          r->warnings.push_back(std::string(e->message) + " | " + (dbg ? dbg : ""));
        }
        g_error_free(e);
        g_free(dbg);
        break;
      }
      case GST_MESSAGE_ELEMENT:
        if (gst_message_get_structure(m))
          r->elements.push_back(gst_structure_copy(gst_message_get_structure(m)));
        break;
      default:
        break;
    }
    gst_message_unref(m);
    if (done) break;
  }
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(p);
}

}  // namespace vdbtest

namespace vdbtest {

// Removes SPS (7) and PPS (8) NAL units from every keyframe but the first,
// as an encoder that sends its headers once does. Byte-stream only.
inline void StripRepeatedHeaders(Encoded *e) {
  for (size_t i = 1; i < e->buffers.size(); i++) {
    std::string in = BufferBytes(e->buffers[i]), out;
    size_t pos = in.find(std::string("\0\0\1", 3));
    while (pos != std::string::npos) {
      size_t next = in.find(std::string("\0\0\1", 3), pos + 3);
      size_t end = next == std::string::npos ? in.size() : next;
      if (next != std::string::npos && in[next - 1] == 0) end = next - 1;  // 4-byte start code
      size_t begin = pos > 0 && in[pos - 1] == 0 ? pos - 1 : pos;
      int type = in[pos + 3] & 0x1f;
      if (type != 7 && type != 8) out += in.substr(begin, end - begin);
      pos = next;
    }
    GstBuffer *b = gst_buffer_new_memdup(out.data(), out.size());
    gst_buffer_copy_into(b, e->buffers[i], GST_BUFFER_COPY_METADATA, 0, -1);
    GST_BUFFER_FLAG_UNSET(b, GST_BUFFER_FLAG_HEADER);
    gst_buffer_unref(e->buffers[i]);
    e->buffers[i] = b;
  }
}

inline bool HasSps(const std::string &au) {
  size_t pos = au.find(std::string("\0\0\1", 3));
  while (pos != std::string::npos && pos + 3 < au.size()) {
    if ((au[pos + 3] & 0x1f) == 7) return true;
    pos = au.find(std::string("\0\0\1", 3), pos + 3);
  }
  return false;
}

}  // namespace vdbtest
