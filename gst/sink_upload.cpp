/* vdbsink's uploads: contract in sink_upload.h. */
#include "sink_upload.h"

#include "store.h"

GST_DEBUG_CATEGORY_EXTERN(gst_vdb_sink_debug);
#define GST_CAT_DEFAULT gst_vdb_sink_debug

gboolean sink_upload_prepare(GstElement *sink, const std::string &store,
                             const SinkUploadConfig &c) {
  auto url = vdb::remote::ParseS3Url(c.location);
  if (!url.ok()) {
    GST_ELEMENT_ERROR(sink, RESOURCE, SETTINGS,
                      ("Invalid upload-location '%s'", c.location.c_str()),
                      ("%s", url.status().message().c_str()));
    return FALSE;
  }
  vdb::Status st = vdb::PrepareStore(vdb::DefaultFs(), store, true);  // the store before its file
  if (st.ok())
    st = vdb::remote::BindRemoteConfig(vdb::DefaultFs(), store,
                                       {c.location, c.endpoint, c.region, ""});
  if (st.code() == vdb::Code::kInvalidArgument) {
    GST_ELEMENT_ERROR(sink, RESOURCE, SETTINGS, ("%s", st.message().c_str()),
                      ("record into another store, or set upload-location to its bucket"));
    return FALSE;
  }
  if (!st.ok()) {
    GST_ELEMENT_ERROR(sink, RESOURCE, OPEN_WRITE,
                      ("Could not note the bucket of '%s'", store.c_str()),
                      ("%s", st.ToString().c_str()));
    return FALSE;
  }
  return TRUE;
}

void sink_upload_start(GstElement *sink, vdb::remote::UploadWorker *worker,
                       std::shared_ptr<vdb::Writer> writer, const std::string &store,
                       const std::string &stream, const SinkUploadConfig &c,
                       std::function<void()> uploaded) {
  vdb::remote::UploadWorker::Options o;
  o.location = c.location;
  o.args = {c.endpoint, c.region};
  o.fs = vdb::DefaultFs();
  o.local_store = store;
  o.stream = stream;
  o.bucket_retention = c.bucket_retention;
  vdb::remote::UploadWorker::Callbacks cb;
  std::weak_ptr<vdb::Writer> weak = writer;
  cb.confirmed = [weak](uint64_t id) {
    auto w = weak.lock();
    return w ? w->MarkInBucket(id) : vdb::Status(vdb::Code::kEnd, "stopped");
  };
  cb.local_segments = [weak] {
    auto w = weak.lock();
    return w ? w->segments() : std::vector<vdb::SegmentInfo>();
  };
  cb.removed = [weak, sink](uint64_t id) {
    GST_INFO_OBJECT(sink, "segment %" G_GUINT64_FORMAT " left the bucket (its retention)", id);
    if (auto w = weak.lock()) (void)w->DeleteSegment(id);
  };
  std::string where = c.location;
  cb.failing = [sink, where](const vdb::Status &why) {
    GST_ELEMENT_WARNING(
        sink, RESOURCE, WRITE,
        ("Uploads to %s are failing: segments stay on disk until they are uploaded", where.c_str()),
        ("%s", why.ToString().c_str()));
    gst_element_post_message(
        sink,
        gst_message_new_element(GST_OBJECT(sink),
                                gst_structure_new("vdbsink-upload-failing", "error", G_TYPE_STRING,
                                                  why.ToString().c_str(), NULL)));
  };
  cb.recovered = [sink] {
    GST_INFO_OBJECT(sink, "uploads resumed");
    gst_element_post_message(
        sink, gst_message_new_element(GST_OBJECT(sink),
                                      gst_structure_new_empty("vdbsink-upload-resumed")));
  };
  cb.uploaded = [sink, uploaded](const vdb::remote::StreamUploadReport &r) {
    GST_DEBUG_OBJECT(sink, "%zu segment(s) confirmed in the bucket", r.confirmed_ids.size());
    gst_element_post_message(
        sink, gst_message_new_element(
                  GST_OBJECT(sink),
                  gst_structure_new("vdbsink-uploaded", "segments", G_TYPE_UINT,
                                    guint(r.confirmed_ids.size()), "bytes", G_TYPE_UINT64,
                                    guint64(r.bytes_sent), "remote-segments", G_TYPE_UINT64,
                                    guint64(r.remote_segments), NULL)));
    if (uploaded) uploaded();
  };
  worker->Start(std::move(o), std::move(cb));
}
