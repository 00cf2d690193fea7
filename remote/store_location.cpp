// Where STORE points: contract in store_location.h.
#include "store_location.h"

#include <cstdlib>

#include "remote_fs.h"
#include "s3_store.h"

namespace vdb::remote {

using vdb::Code;
using vdb::Status;

bool IsS3Url(const std::string &s) {
  return s.rfind("s3://", 0) == 0;
}

vdb::Result<S3Url> ParseS3Url(const std::string &s) {
  auto bad = [&](const char *why) {
    return Status(Code::kInvalidArgument,
                  "'" + s + "': " + why + " (a bucket store is s3://BUCKET/PREFIX)");
  };
  if (!IsS3Url(s)) return bad("not an s3:// URL");
  std::string rest = s.substr(5);
  size_t slash = rest.find('/');
  S3Url u;
  u.bucket = rest.substr(0, slash);
  if (u.bucket.empty()) return bad("no bucket");
  if (slash == std::string::npos || slash + 1 == rest.size()) return bad("no prefix");
  u.prefix = rest.substr(slash + 1);
  while (!u.prefix.empty() && u.prefix.back() == '/') u.prefix.pop_back();
  VDB_RETURN_IF_ERROR(ValidateKey(u.prefix));
  return u;
}

vdb::Result<std::unique_ptr<StoreLocation>> StoreLocation::Open(const std::string &name,
                                                                const RemoteArgs &args) {
  std::unique_ptr<StoreLocation> loc(new StoreLocation());
  if (!IsS3Url(name)) {
    loc->fs_ = vdb::DefaultFs();
    loc->path_ = name;
    return loc;
  }
  VDB_ASSIGN_OR_RETURN(S3Url url, ParseS3Url(name));
  S3Options o;
  o.bucket = url.bucket;
  o.endpoint = args.endpoint;
  if (o.endpoint.empty())
    if (const char *e = std::getenv("AWS_ENDPOINT_URL"); e && *e) o.endpoint = e;
  o.region = args.region;
  if (o.endpoint.empty()) {
    // AWS S3 itself: the region's endpoint (path-style URLs).
    auto creds = LoadCredentials();
    std::string region = !o.region.empty() ? o.region : creds.ok() ? creds->region : "us-east-1";
    o.endpoint =
        "https://s3." + (region.empty() ? std::string("us-east-1") : region) + ".amazonaws.com";
  }
  VDB_ASSIGN_OR_RETURN(auto s3, S3Store::Open(o));
  VDB_RETURN_IF_ERROR(s3->CheckBucket());
  loc->object_store_ = std::move(s3);
  loc->remote_fs_ = std::make_unique<RemoteFs>(loc->object_store_.get());
  loc->fs_ = loc->remote_fs_.get();
  loc->path_ = url.prefix;
  return loc;
}

}  // namespace vdb::remote
