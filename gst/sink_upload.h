/* vdbsink's uploads to its store's bucket: the glue between the element and
 * vdb::remote::UploadWorker (remote/upload_worker.h), which does the work on
 * its own thread. Messages are posted from that thread with no lock held:
 * a warning when uploads start failing (segments then stay on disk), the
 * element messages `vdbsink-upload-failing` (error), `vdbsink-upload-resumed`
 * and `vdbsink-uploaded` (segments, bytes, remote-segments). The bucket's
 * retention removes segments from the bucket oldest first once their local
 * copy is gone, and from the recorder's catalog with them.
 *
 * Thread rules: call from the element's state changes. */
#pragma once

#include <gst/gst.h>

#include <functional>
#include <memory>
#include <string>

#include "upload_worker.h"
#include "writer.h"

struct SinkUploadConfig {
  std::string location; /* s3://BUCKET/PREFIX; empty: no uploads */
  std::string endpoint, region;
  vdb::RetentionPolicy bucket_retention; /* the bucket's own quota and age */
};

/* Before the store is opened: checks the location and notes the bucket in
 * the store's remote.json (a store has one bucket: a different one is
 * refused). FALSE, with an element error posted, on a refusal. */
gboolean sink_upload_prepare(GstElement *sink, const std::string &store,
                             const SinkUploadConfig &config);
/* Starts the worker (after sink_upload_prepare); `uploaded` runs after each
 * pass that confirmed segments (vdbsink kicks its retention: their local
 * copies may now go). */
void sink_upload_start(GstElement *sink, vdb::remote::UploadWorker *worker,
                       std::shared_ptr<vdb::Writer> writer, const std::string &store,
                       const std::string &stream, const SinkUploadConfig &config,
                       std::function<void()> uploaded);
