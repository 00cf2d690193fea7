// Playing as a user's player does, for element tests: clock-synced sinks
// that note what they render in running and stream time, and a pipeline
// played to EOS or prerolled. Assertions are made on these times, never on
// sleeps.
#pragma once

#include <gst/gst.h>

#include <string>
#include <vector>

namespace vdbtest {

// What a clock-synced sink rendered, in running time.
struct Seen {
  int buffers = 0;
  GstClockTime first_running = GST_CLOCK_TIME_NONE, last_end = GST_CLOCK_TIME_NONE;
  GstClockTime first_stream = GST_CLOCK_TIME_NONE;
  GstClockTime first_pts = GST_CLOCK_TIME_NONE;  // as recorded
};

inline GstPadProbeReturn Watch(GstPad *pad, GstPadProbeInfo *info, gpointer data) {
  auto *seen = static_cast<Seen *>(data);
  GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER(info);
  GstEvent *ev = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0);
  if (!ev) return GST_PAD_PROBE_OK;
  const GstSegment *seg;
  gst_event_parse_segment(ev, &seg);
  guint64 start = GST_BUFFER_PTS(b), end = start + GST_BUFFER_DURATION(b);
  guint64 cstart, cend;
  if (gst_segment_clip(seg, GST_FORMAT_TIME, start, end, &cstart, &cend)) {  // what plays
    if (seen->buffers++ == 0) {
      seen->first_pts = cstart;
      seen->first_running = gst_segment_to_running_time(seg, GST_FORMAT_TIME, cstart);
      seen->first_stream = gst_segment_to_stream_time(seg, GST_FORMAT_TIME, cstart);
    }
    seen->last_end = gst_segment_to_running_time(seg, GST_FORMAT_TIME, cend);
  }
  gst_event_unref(ev);
  return GST_PAD_PROBE_OK;
}

inline GstElement *SyncedSink(Seen *seen) {
  GstElement *sink = gst_element_factory_make("fakesink", NULL);
  g_object_set(sink, "sync", TRUE, NULL);
  GstPad *pad = gst_element_get_static_pad(sink, "sink");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, Watch, seen, NULL);
  gst_object_unref(pad);
  return sink;
}

// Plays `p` until EOS or an error (60 s at most); "" on EOS, else the error.
// Warnings posted meanwhile are added to *warnings if given.
inline std::string PlayToEos(GstElement *p, std::vector<std::string> *warnings = nullptr) {
  GstBus *bus = gst_element_get_bus(p);
  gst_element_set_state(p, GST_STATE_PLAYING);
  std::string error = "no EOS within 60 s";
  GstClockTime deadline = gst_util_get_timestamp() + 60 * GST_SECOND;
  while (GstClockTime now = gst_util_get_timestamp()) {
    if (now >= deadline) break;
    GstMessage *m = gst_bus_timed_pop_filtered(
        bus, deadline - now,
        GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_WARNING));
    if (!m) break;
    GstMessageType type = GST_MESSAGE_TYPE(m);
    if (type == GST_MESSAGE_ERROR || type == GST_MESSAGE_WARNING) {
      GError *e = NULL;
      if (type == GST_MESSAGE_ERROR)
        gst_message_parse_error(m, &e, NULL);
      else
        gst_message_parse_warning(m, &e, NULL);
      if (type == GST_MESSAGE_ERROR) error = e->message;
      if (type == GST_MESSAGE_WARNING && warnings) warnings->push_back(e->message);
      g_error_free(e);
    } else {
      error = "";
    }
    gst_message_unref(m);
    if (type != GST_MESSAGE_WARNING) break;
  }
  gst_object_unref(bus);
  return error;
}

inline bool Preroll(GstElement *p) {
  gst_element_set_state(p, GST_STATE_PAUSED);
  return gst_element_get_state(p, NULL, NULL, 30 * GST_SECOND) == GST_STATE_CHANGE_SUCCESS;
}

}  // namespace vdbtest
