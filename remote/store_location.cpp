// Where a store is: contract in store_location.h.
#include "store_location.h"

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>

#include "remote_fs.h"
#include "s3_store.h"
#include "store.h"
#include "tiered_fs.h"

namespace vdb::remote {

namespace {
constexpr uint64_t kMaxRemoteConfigBytes = 64 << 10;
const char kRemoteConfig[] = "remote.json";

std::string NewStoreId() {
  std::random_device rd;
  char id[33];
  std::snprintf(id, sizeof id, "%08x%08x%08x%08x", rd(), rd(), rd(), rd());
  return id;
}
}  // namespace

bool IsS3Url(const std::string &s) {
  return s.rfind("s3://", 0) == 0;
}

Result<S3Url> ParseS3Url(const std::string &s) {
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

Result<RemoteConfig> ReadRemoteConfig(Fs *fs, const std::string &store) {
  std::string path = JoinPath(store, kRemoteConfig);
  VDB_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(fs, path, kMaxRemoteConfigBytes));
  auto j = nlohmann::json::parse(text, nullptr, false);
  auto str = [&](const char *k) {
    return j.is_object() && j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : "";
  };
  RemoteConfig c{str("location"), str("endpoint"), str("region"), str("store_id")};
  if (!ParseS3Url(c.location).ok())
    return Status(Code::kCorrupt, path + " names no bucket (\"location\": \"s3://BUCKET/PREFIX\")");
  return c;
}

Status WriteRemoteConfig(Fs *fs, const std::string &store, const RemoteConfig &c) {
  nlohmann::json j = {{"location", c.location}};
  if (!c.endpoint.empty()) j["endpoint"] = c.endpoint;
  if (!c.region.empty()) j["region"] = c.region;
  if (!c.store_id.empty()) j["store_id"] = c.store_id;
  return WriteFileAtomic(fs, JoinPath(store, kRemoteConfig),
                         j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

Status BindRemoteConfig(Fs *fs, const std::string &store, const RemoteConfig &config) {
  // Recorders of one store starting together agree on one store_id.
  VDB_ASSIGN_OR_RETURN(auto lock, LockStore(fs, store, std::chrono::seconds(5)));
  auto have = ReadRemoteConfig(fs, store);
  if (have.ok() && have->location == config.location) {
    if (!have->store_id.empty()) return Status::Ok();
    RemoteConfig c = have.value();  // written before stores had an id
    c.store_id = NewStoreId();
    return WriteRemoteConfig(fs, store, c);
  }
  if (have.ok())
    return Status(Code::kInvalidArgument, "store " + store + " uploads to " + have->location +
                                              " (its remote.json), not " + config.location +
                                              ": a store has one bucket");
  if (have.status().code() != Code::kNotFound) return have.status();
  RemoteConfig c = config;
  if (c.store_id.empty()) c.store_id = NewStoreId();
  return WriteRemoteConfig(fs, store, c);
}

Result<std::unique_ptr<ObjectStore>> OpenBucket(const S3Url &url, const RemoteArgs &args,
                                                bool check) {
  S3Options o;
  o.bucket = url.bucket;
  o.endpoint = args.endpoint;
  if (o.endpoint.empty())
    if (const char *e = std::getenv("AWS_ENDPOINT_URL"); e && *e) o.endpoint = e;
  o.region = args.region;
  if (o.endpoint.empty()) {
    // AWS S3 itself: the region's endpoint (path-style URLs).
    auto creds = LoadCredentials();
    std::string region = !o.region.empty()                      ? o.region
                         : creds.ok() && !creds->region.empty() ? creds->region
                                                                : "us-east-1";
    o.endpoint = "https://s3." + region + ".amazonaws.com";
  }
  VDB_ASSIGN_OR_RETURN(auto s3, S3Store::Open(o));
  if (check) VDB_RETURN_IF_ERROR(s3->CheckBucket());
  return std::unique_ptr<ObjectStore>(std::move(s3));
}

StoreLocation::~StoreLocation() = default;

Result<std::unique_ptr<StoreLocation>> StoreLocation::Open(const std::string &name,
                                                           const RemoteArgs &args) {
  std::unique_ptr<StoreLocation> loc(new StoreLocation());
  if (IsS3Url(name)) {
    VDB_ASSIGN_OR_RETURN(S3Url url, ParseS3Url(name));
    VDB_ASSIGN_OR_RETURN(loc->object_store_, OpenBucket(url, args));
    loc->remote_fs_ = std::make_unique<RemoteFs>(loc->object_store_.get());
    loc->fs_ = loc->remote_fs_.get();
    loc->path_ = url.prefix;
    loc->remote_ = true;
    return loc;
  }
  loc->fs_ = DefaultFs();
  loc->path_ = name;
  auto config = ReadRemoteConfig(DefaultFs(), name);
  if (!config.ok()) {
    if (config.status().code() != Code::kNotFound) loc->problem_ = config.status().ToString();
    return loc;
  }
  RemoteArgs a = args;
  if (a.endpoint.empty()) a.endpoint = config->endpoint;
  if (a.region.empty()) a.region = config->region;
  S3Url url = ParseS3Url(config->location).value();
  auto bucket = OpenBucket(url, a, /*check=*/false);
  if (!bucket.ok()) {
    loc->problem_ = "its bucket " + config->location + " cannot be read (" +
                    bucket.status().ToString() + "): segments uploaded and removed here are gaps";
    return loc;
  }
  loc->object_store_ = std::move(bucket).value();
  loc->remote_fs_ = std::make_unique<RemoteFs>(loc->object_store_.get());
  loc->tiered_fs_ =
      std::make_unique<TieredFs>(DefaultFs(), loc->remote_fs_.get(), name, url.prefix);
  loc->fs_ = loc->tiered_fs_.get();
  return loc;
}

}  // namespace vdb::remote
