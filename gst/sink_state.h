/* vdbsink's state, shared by the element (gstvdbsink.cpp: properties,
 * pads, events, start and stop) and its frame path (sink_frames.cpp: what
 * a buffer becomes in the store). Private to the plugin.
 *
 * Thread rules: the streaming threads of the pads run one at a time under
 * VdbSinkState::smu; see each field. */
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "gstvdbsink.h"
#include "recording_clock.h"
#include "sink_housekeeper.h"
#include "upload_worker.h"
#include "writer.h"

/* One requested pad: a track of the stream. */
struct VdbSinkTrack {
  GstPad *pad = nullptr; /* owned by the element */
  guint32 track = 0;     /* 0: video; audio_N: N + 1 */
  bool video = false;
  bool has_caps = false;
  bool eos = false;
  GstSegment segment; /* the pad's, for its running time */
};

/* Everything C++ lives here; created in init, destroyed in finalize. */
struct VdbSinkState {
  /* Set in start() and cleared in stop() under wmu; action signals and
   * property changes from other threads take a reference through
   * writer_ref(), so stop() never pulls the writer from under them. The
   * streaming threads use it directly: they do not run across start() and
   * stop(). */
  std::shared_ptr<vdb::Writer> writer;
  std::mutex wmu;
  /* Serialises the pads' streaming threads, and guards what follows up to
   * the atomics (reset by start()). */
  std::mutex smu;
  std::vector<std::unique_ptr<VdbSinkTrack>> tracks;
  guint32 lead = 0;               /* the track whose keyframes start segments */
  vdb::RecordingClock clock;      /* input time -> stored time and UTC */
  bool need_key = false;          /* lead frames are dropped up to a keyframe */
  guint64 untimed_dropped = 0;    /* frames dropped for lack of any timestamp */
  bool warned_headerless = false; /* the "no codec headers" warning was posted */
  /* Frames of the other tracks waiting for the first segment (MAX_HELD). */
  std::deque<std::pair<VdbSinkTrack *, GstBuffer *>> held;
  gsize held_bytes = 0;
  guint64 held_dropped = 0;
  /* Any thread. */
  std::atomic<bool> key_requested{false}; /* also cleared by split-now */
  std::atomic<guint> key_request_count{0};
  /* Their own threads; started and stopped by start() and stop(). */
  SinkHousekeeper housekeeper;
  vdb::remote::UploadWorker uploader;
};

struct _GstVdbSink {
  GstElement parent;
  gchar *location;
  gchar *stream;
  guint64 max_segment_time;
  guint64 max_segment_bytes;
  GstVdbSyncMode sync_mode;
  guint64 sync_interval;
  guint64 max_total_bytes;
  guint64 max_age;
  guint64 min_free_space;
  gboolean record;
  GstVdbWallclock wallclock;
  gboolean send_keyframe_requests;
  gchar *upload_location, *upload_endpoint, *upload_region;
  guint64 upload_max_total_bytes, upload_max_age, upload_eos_timeout;
  VdbSinkState *s;
};

/* The retention the properties ask for (gstvdbsink.cpp). */
vdb::RetentionPolicy vdbsink_retention_policy(GstVdbSink *self);

/* sink_frames.cpp: the frame path. */

/* Stores one buffer of track t (not taking it). Called with smu held
 * (`lock`: the element's stream lock, errors are posted with it as from any
 * chain function); released while a retention pass makes room on a full
 * disk. */
GstFlowReturn vdbsink_render(GstVdbSink *self, VdbSinkTrack *t, GstBuffer *buf,
                             std::unique_lock<std::mutex> &lock);
/* Asks upstream of the video pad for a keyframe (none for an audio lead). */
void vdbsink_request_keyframe(GstVdbSink *self, VdbSinkTrack *lead);
/* Drops the frames held for the first segment: all, or one track's. With smu. */
void vdbsink_drop_held(VdbSinkState *s, VdbSinkTrack *only = nullptr);
