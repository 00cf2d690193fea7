// Where a command's STORE argument points: a directory on this machine, or
// a store in an S3-compatible bucket, "s3://BUCKET/PREFIX" (read-only; the
// layout `vdb upload` writes, FORMAT.md "Object storage").
//
// For s3://, the endpoint comes from --endpoint or, as for the AWS CLI,
// AWS_ENDPOINT_URL (else AWS S3 in the region's endpoint), the region from
// --region or the credentials' lookup, and the credentials from the
// environment or an AWS credentials file (remote/credentials.h) — never from
// the command line, where `ps` and shell histories would show them.
//
// Used by the vdb tool (STORE arguments) and vdbsrc (its location).
//
// Thread rules: a StoreLocation is used by one thread; it owns the
// connection pool and the Fs that `fs` points to.
#pragma once

#include <memory>
#include <string>

#include "file.h"
#include "object_store.h"
#include "status.h"

namespace vdb::remote {

struct S3Url {
  std::string bucket, prefix;
};
// "s3://BUCKET/PREFIX" (PREFIX: one or more path segments, no trailing '/').
bool IsS3Url(const std::string &s);
vdb::Result<S3Url> ParseS3Url(const std::string &s);

struct RemoteArgs {
  std::string endpoint;  // --endpoint (empty: AWS_ENDPOINT_URL, else AWS)
  std::string region;    // --region (empty: the credentials' lookup)
};

class StoreLocation {
 public:
  // A directory (DefaultFs) or s3://...: opens the bucket and checks that it
  // exists and takes the credentials.
  static vdb::Result<std::unique_ptr<StoreLocation>> Open(const std::string &name,
                                                          const RemoteArgs &args);
  vdb::Fs *fs() const { return fs_; }
  // The store's path on fs(): the directory, or the bucket's PREFIX.
  const std::string &path() const { return path_; }
  // The bucket (null for a directory).
  ObjectStore *object_store() const { return object_store_.get(); }
  bool remote() const { return object_store_ != nullptr; }

 private:
  StoreLocation() = default;
  vdb::Fs *fs_ = nullptr;
  std::string path_;
  std::unique_ptr<ObjectStore> object_store_;
  std::unique_ptr<vdb::Fs> remote_fs_;
};

}  // namespace vdb::remote
