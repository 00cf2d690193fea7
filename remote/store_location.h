// Where a store is: a directory on this machine, a store in an S3-compatible
// bucket ("s3://BUCKET/PREFIX", read-only: the layout `vdb upload` and
// vdbsink's uploader write, FORMAT.md "Object storage"), or a directory
// whose older segments live only in its bucket (its remote.json names the
// bucket; the Fs then reads a file locally, else from the bucket: TieredFs).
//
// For a bucket, the endpoint comes from RemoteArgs (--endpoint, a property),
// else remote.json, else AWS_ENDPOINT_URL as for the AWS CLI, else AWS S3 in
// the region; the credentials from the environment or an AWS credentials
// file (credentials.h) — never from a command line, property or remote.json,
// where `ps`, shell histories and logs would show them.
//
// Used by the vdb tool (STORE arguments) and vdbsrc (its location).
// Thread rules: a StoreLocation is a value used by one thread at a time; the
// Fs it gives is thread-safe and lives as long as it does.
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
Result<S3Url> ParseS3Url(const std::string &s);

struct RemoteArgs {
  std::string endpoint;  // empty: remote.json's, else AWS_ENDPOINT_URL, else AWS
  std::string region;    // empty: remote.json's, else the credentials' lookup
};

// STORE/remote.json: the bucket of a local store (FORMAT.md).
struct RemoteConfig {
  std::string location;  // s3://BUCKET/PREFIX
  std::string endpoint, region;
  // This store as an uploader (random, 32 hex digits): a stream in a bucket
  // is uploaded by one store (uploader.h). Empty in remote.json files
  // written before it existed, until BindRemoteConfig adds it.
  std::string store_id;
};
// kNotFound when the store has none; kCorrupt when it is not one (named).
Result<RemoteConfig> ReadRemoteConfig(Fs *fs, const std::string &store);
Status WriteRemoteConfig(Fs *fs, const std::string &store, const RemoteConfig &config);
// A store uploads to one bucket: writes `config` as the store's remote.json
// if it has none (with a new store_id unless `config` has one); OK if it
// names the same location (adding a store_id if it has none);
// kInvalidArgument naming both if it names another.
Status BindRemoteConfig(Fs *fs, const std::string &store, const RemoteConfig &config);

// Opens the bucket of `url`; with `check`, asks the server that it exists
// and takes the credentials (one request; without, nothing is sent yet).
Result<std::unique_ptr<ObjectStore>> OpenBucket(const S3Url &url, const RemoteArgs &args,
                                                bool check = true);

class StoreLocation {
 public:
  // A directory (with its bucket if remote.json names one) or s3://...
  // A directory's bucket is not asked anything until a segment only there
  // is read (a local store opens at once, the server up or not); one that
  // cannot be opened (no credentials) leaves the directory alone: problem()
  // says why (its uploaded-only segments then play as gaps).
  static Result<std::unique_ptr<StoreLocation>> Open(const std::string &name,
                                                     const RemoteArgs &args);
  ~StoreLocation();
  Fs *fs() const { return fs_; }
  // The store's path on fs(): the directory, or the bucket's PREFIX.
  const std::string &path() const { return path_; }
  // The bucket (null for a directory without one).
  ObjectStore *object_store() const { return object_store_.get(); }
  // True for s3://BUCKET/PREFIX (nothing local).
  bool remote() const { return remote_; }
  const std::string &problem() const { return problem_; }

 private:
  StoreLocation() = default;
  Fs *fs_ = nullptr;
  std::string path_, problem_;
  bool remote_ = false;
  std::unique_ptr<ObjectStore> object_store_;
  std::unique_ptr<Fs> remote_fs_, tiered_fs_;
};

}  // namespace vdb::remote
