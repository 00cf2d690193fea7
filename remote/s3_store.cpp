#include "s3_store.h"

#include <curl/curl.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <random>
#include <thread>

#include "s3_protocol.h"

namespace vdb::remote {

namespace {

constexpr size_t kMaxErrorBody = 64 << 10;
const char kUnsignedPayload[] = "x-amz-content-sha256: UNSIGNED-PAYLOAD";

std::once_flag g_curl_init;

std::string Lower(std::string s) {
  for (char &c : s)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return s;
}

std::string Trim(const std::string &s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' || s[b] == '\n')) b++;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n'))
    e--;
  return s.substr(b, e - b);
}

}  // namespace

// One HTTP request, as the operations describe it to Perform().
struct S3Store::Request {
  const char *op = "";  // "PutFile": for messages
  const char *method = "GET";
  std::string key;    // empty: the bucket itself
  std::string query;  // canonical (s3::CanonicalQuery), without '?'
  const char *content_type = nullptr;
  bool if_absent = false;  // If-None-Match: * (a conditional write)
  // Request body (PUT, POST): `length` bytes from `mem`, or from `file` at
  // file_offset.
  bool has_body = false;
  const char *mem = nullptr;
  File *file = nullptr;
  uint64_t file_offset = 0;
  uint64_t length = 0;
  // Where a 2xx answer's body goes.
  enum class Sink { kNone, kXml, kBuffer, kString } sink = Sink::kNone;
  // kBuffer: a ranged read of buf_size bytes at range_offset.
  char *buf = nullptr;
  size_t buf_size = 0;
  uint64_t range_offset = 0;
  // kString: at most max_string bytes into *out_string.
  std::string *out_string = nullptr;
  uint64_t max_string = 0;
};

struct S3Store::Reply {
  long http = 0;
  std::map<std::string, std::string> headers;  // of the final answer, names lower-case
  std::string body;                            // kXml body, or an error body (bounded)
  size_t received = 0;                         // kBuffer: bytes written into buf
  int attempts = 0;
};

namespace {

// Aborts a transfer once S3Store::Cancel() was called.
int OnProgress(void *cancelled, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<std::atomic<bool> *>(cancelled)->load() ? 1 : 0;
}

// What one attempt's callbacks share.
struct Transfer {
  const S3Store::Request *req = nullptr;
  S3Store::Reply *reply = nullptr;
  size_t xml_cap = 0;
  uint64_t pos = 0;      // upload position in the body
  Status read_error;     // the body could not be read (File error, file too short)
  Status sink_error;     // the answer's body was refused (too big, wrong range)
  bool started = false;  // the first body byte arrived
  bool to_sink = false;  // 2xx: the body goes to the request's sink
};

size_t OnHeader(char *data, size_t size, size_t n, void *ud) {
  auto *t = static_cast<Transfer *>(ud);
  size_t len = size * n;
  std::string line(data, len);
  if (line.compare(0, 5, "HTTP/") == 0) {  // a new answer (after a 100 Continue, say)
    t->reply->headers.clear();
    size_t sp = line.find(' ');
    t->reply->http = sp == std::string::npos ? 0 : std::strtol(line.c_str() + sp + 1, nullptr, 10);
    return len;
  }
  size_t colon = line.find(':');
  if (colon != std::string::npos && t->reply->headers.size() < 200)
    t->reply->headers[Lower(Trim(line.substr(0, colon)))] = Trim(line.substr(colon + 1));
  return len;
}

// The first body byte: decide where the body goes and check it fits.
Status StartBody(Transfer *t) {
  const auto &req = *t->req;
  auto &rep = *t->reply;
  t->to_sink = rep.http >= 200 && rep.http < 300;
  if (!t->to_sink) return Status::Ok();
  auto header = [&](const char *name) -> const std::string * {
    auto it = rep.headers.find(name);
    return it == rep.headers.end() ? nullptr : &it->second;
  };
  const std::string *cl = header("content-length");
  if (req.sink == S3Store::Request::Sink::kBuffer) {
    if (rep.http == 206) {
      const std::string *cr = header("content-range");
      unsigned long long a = 0, b = 0;
      if (!cr || std::sscanf(cr->c_str(), "bytes %llu-%llu/", &a, &b) != 2 || b < a)
        return Status(Code::kCorrupt, "206 answer without a valid Content-Range");
      if (a != req.range_offset || b - a + 1 > req.buf_size)
        return Status(Code::kCorrupt, "the server sent bytes " + std::to_string(a) + "-" +
                                          std::to_string(b) + " for a request of " +
                                          std::to_string(req.buf_size) + " bytes at " +
                                          std::to_string(req.range_offset));
    } else if (req.range_offset != 0 ||
               (cl && std::strtoull(cl->c_str(), nullptr, 10) > req.buf_size)) {
      return Status(Code::kUnsupported,
                    "the server ignored the Range header (HTTP " + std::to_string(rep.http) + ")");
    }
  } else if (req.sink == S3Store::Request::Sink::kString && cl) {
    uint64_t size = std::strtoull(cl->c_str(), nullptr, 10);
    if (size > req.max_string)
      return Status(Code::kCorrupt, "the object is " + std::to_string(size) +
                                        " bytes, more than the " + std::to_string(req.max_string) +
                                        " allowed");
    req.out_string->reserve(size_t(size));
  }
  return Status::Ok();
}

size_t OnBody(char *data, size_t size, size_t n, void *ud) {
  auto *t = static_cast<Transfer *>(ud);
  size_t len = size * n;
  if (!t->started) {
    t->started = true;
    t->sink_error = StartBody(t);
  }
  if (!t->sink_error.ok()) return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  const auto &req = *t->req;
  auto &rep = *t->reply;
  if (!t->to_sink) {  // an error answer: keep the start, drop the rest
    size_t keep = std::min(len, kMaxErrorBody - std::min(kMaxErrorBody, rep.body.size()));
    rep.body.append(data, keep);
    return len;
  }
  switch (req.sink) {
    case S3Store::Request::Sink::kNone:
      return len;
    case S3Store::Request::Sink::kXml:
      if (rep.body.size() + len > t->xml_cap) {
        t->sink_error = Status(
            Code::kCorrupt, "the answer is larger than " + std::to_string(t->xml_cap) + " bytes");
        return 0;
      }
      rep.body.append(data, len);
      return len;
    case S3Store::Request::Sink::kBuffer:
      if (len > req.buf_size - rep.received) {
        t->sink_error = Status(Code::kCorrupt, "the server sent more than the " +
                                                   std::to_string(req.buf_size) + " bytes asked");
        return 0;
      }
      std::memcpy(req.buf + rep.received, data, len);
      rep.received += len;
      return len;
    case S3Store::Request::Sink::kString:
      if (req.out_string->size() + len > req.max_string) {
        t->sink_error =
            Status(Code::kCorrupt, "the object is more than the " + std::to_string(req.max_string) +
                                       " bytes allowed");
        return 0;
      }
      req.out_string->append(data, len);
      return len;
  }
  return 0;
}

size_t OnRead(char *buf, size_t size, size_t n, void *ud) {
  auto *t = static_cast<Transfer *>(ud);
  const auto &req = *t->req;
  size_t want = size_t(std::min<uint64_t>(size * n, req.length - t->pos));
  if (want == 0) return 0;
  if (req.file == nullptr) {
    std::memcpy(buf, req.mem + t->pos, want);
    t->pos += want;
    return want;
  }
  auto got = req.file->ReadAt(req.file_offset + t->pos, buf, want);
  if (!got.ok()) {
    t->read_error = got.status();
    return CURL_READFUNC_ABORT;
  }
  if (*got == 0) {
    t->read_error = Status(
        Code::kCorrupt, req.file->path() + " ends at " + std::to_string(req.file_offset + t->pos) +
                            ", before the " + std::to_string(req.length) +
                            " bytes to upload from " + std::to_string(req.file_offset));
    return CURL_READFUNC_ABORT;
  }
  t->pos += *got;
  return *got;
}

int OnSeek(void *ud, curl_off_t offset, int origin) {
  auto *t = static_cast<Transfer *>(ud);
  if (origin != SEEK_SET || offset < 0 || uint64_t(offset) > t->req->length)
    return CURL_SEEKFUNC_CANTSEEK;
  t->pos = uint64_t(offset);
  return CURL_SEEKFUNC_OK;
}

}  // namespace

Result<std::unique_ptr<S3Store>> S3Store::Open(const S3Options &options) {
  VDB_ASSIGN_OR_RETURN(Credentials c, LoadCredentials());
  return Open(options, std::move(c));
}

Result<std::unique_ptr<S3Store>> S3Store::Open(const S3Options &options, Credentials credentials) {
  S3Options o = options;
  VDB_ASSIGN_OR_RETURN(o.endpoint, s3::NormalizeEndpoint(o.endpoint));
  VDB_RETURN_IF_ERROR(s3::ValidateBucket(o.bucket));
  if (o.region.empty()) o.region = credentials.region.empty() ? "us-east-1" : credentials.region;
  VDB_RETURN_IF_ERROR(s3::ValidateRegion(o.region));
  if (credentials.access_key.empty() || credentials.secret_key.empty())
    return Status(Code::kInvalidArgument,
                  "S3: no access key or secret key (from " + credentials.source + ")");
  if (o.max_attempts < 1) o.max_attempts = 1;
  if (o.connect_timeout_ms < 1 || o.stall_timeout_s < 1)
    return Status(Code::kInvalidArgument, "S3: timeouts must be positive");
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  return std::unique_ptr<S3Store>(new S3Store(std::move(o), std::move(credentials)));
}

S3Store::S3Store(S3Options options, Credentials credentials)
    : options_(std::move(options)),
      credentials_(std::move(credentials)),
      sigv4_("aws:amz:" + options_.region + ":s3") {}

S3Store::~S3Store() {
  for (void *h : idle_) curl_easy_cleanup(static_cast<CURL *>(h));
}

void *S3Store::AcquireHandle() {
  {
    std::lock_guard<std::mutex> l(pool_mu_);
    if (!idle_.empty()) {
      void *h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void S3Store::ReleaseHandle(void *handle) {
  auto *h = static_cast<CURL *>(handle);
  curl_easy_reset(h);  // keeps the connection cache: the next request reuses it
  std::lock_guard<std::mutex> l(pool_mu_);
  if (idle_.size() < 16) {
    idle_.push_back(h);
    return;
  }
  curl_easy_cleanup(h);
}

S3Store::Stats S3Store::stats() const {
  return Stats{requests_.load(), retries_.load(), bytes_sent_.load(), bytes_received_.load()};
}

std::string S3Store::Describe(const std::string &key) const {
  return "s3://" + options_.bucket + "/" + key + " at " + options_.endpoint;
}

std::string S3Store::What(const char *op, const std::string &key) const {
  return std::string("S3 ") + op + " " + Describe(key);
}

Result<S3Store::Reply> S3Store::Perform(const Request &req) {
  Reply reply;
  auto *h = static_cast<CURL *>(AcquireHandle());
  if (!h) return Status(Code::kIo, What(req.op, req.key) + ": cannot create a curl handle");
  const std::string url = s3::ObjectUrl(options_.endpoint, options_.bucket, req.key, req.query);
  std::string range;
  if (req.sink == Request::Sink::kBuffer)
    range = std::to_string(req.range_offset) + "-" +
            std::to_string(req.range_offset + req.buf_size - 1);
  curl_slist *headers = curl_slist_append(nullptr, kUnsignedPayload);
  if (req.content_type)
    headers =
        curl_slist_append(headers, (std::string("Content-Type: ") + req.content_type).c_str());
  if (req.if_absent) headers = curl_slist_append(headers, "If-None-Match: *");
  Status failure;
  for (int attempt = 1;; attempt++) {
    if (cancelled_) {
      failure = Status(Code::kIo, What(req.op, req.key) + ": cancelled", ECANCELED);
      break;
    }
    reply = Reply();
    reply.attempts = attempt;
    if (req.sink == Request::Sink::kString) req.out_string->clear();
    Transfer t;
    t.req = &req;
    t.reply = &reply;
    t.xml_cap = options_.max_xml_bytes;
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4_.c_str());
    curl_easy_setopt(h, CURLOPT_USERNAME, credentials_.access_key.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, credentials_.secret_key.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "vdb-remote/0.1");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, long(options_.connect_timeout_ms));
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, long(std::max(1, options_.stall_min_bytes_per_s)));
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, long(options_.stall_timeout_s));
    if (options_.request_timeout_ms > 0)
      curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, long(options_.request_timeout_ms));
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 256L << 10);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);  // for Cancel()
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, OnProgress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &cancelled_);
    const std::string method = req.method;
    if (method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (method == "PUT") {
      curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 1L << 20);
      curl_easy_setopt(h, CURLOPT_READFUNCTION, OnRead);
      curl_easy_setopt(h, CURLOPT_READDATA, &t);
      curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, OnSeek);
      curl_easy_setopt(h, CURLOPT_SEEKDATA, &t);
      // Always the size: a chunked upload gets 411 Length Required.
      curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, curl_off_t(req.length));
    } else if (method == "POST") {
      curl_easy_setopt(h, CURLOPT_POST, 1L);
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.mem ? req.mem : "");
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(req.length));
    } else if (method == "DELETE") {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
    }
    if (!range.empty()) curl_easy_setopt(h, CURLOPT_RANGE, range.c_str());

    requests_++;
    CURLcode cc = curl_easy_perform(h);
    curl_off_t up = 0, down = 0;
    curl_easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &up);
    curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &down);
    bytes_sent_ += uint64_t(std::max<curl_off_t>(0, up));
    bytes_received_ += uint64_t(std::max<curl_off_t>(0, down));
    long http = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &http);
    if (http) reply.http = http;

    bool retry = false;
    const std::string what = What(req.op, req.key);
    const std::string detail = errbuf[0] ? std::string(" [curl: ") + errbuf + "]" : "";
    if (!t.read_error.ok()) {
      failure = Status(t.read_error.code(),
                       what + ": reading the data to send: " + t.read_error.message(),
                       t.read_error.err());
    } else if (!t.sink_error.ok()) {
      failure = Status(t.sink_error.code(), what + ": " + t.sink_error.message());
    } else if (cc == CURLE_OK) {
      s3::ErrorInfo info;
      if (reply.http >= 300) info = s3::ParseError(reply.body);
      if (s3::IsRetryableHttp(reply.http, info) && attempt < options_.max_attempts) {
        retry = true;
      } else {
        curl_slist_free_all(headers);
        ReleaseHandle(h);
        return reply;
      }
    } else {
      long os_err = 0;
      curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_err);
      curl_off_t connected_us = 0;
      curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connected_us);
      const std::string tries =
          attempt > 1 ? " (after " + std::to_string(attempt) + " attempts)" : "";
      switch (cc) {
        case CURLE_COULDNT_CONNECT:
          failure = Status(Code::kIo,
                           what + ": cannot connect to the server (" +
                               (os_err ? std::string(std::strerror(int(os_err))) : "refused") +
                               "): is it running?" + tries + detail,
                           os_err ? int(os_err) : ECONNREFUSED);
          break;
        case CURLE_OPERATION_TIMEDOUT:
          failure =
              Status(Code::kIo,
                     what + ": " +
                         (connected_us == 0
                              ? "could not connect within " +
                                    std::to_string(options_.connect_timeout_ms) + " ms"
                              : "the server stalled (less than " +
                                    std::to_string(options_.stall_min_bytes_per_s) +
                                    " bytes/s for " + std::to_string(options_.stall_timeout_s) +
                                    " s, or past the request timeout)") +
                         tries + detail,
                     ETIMEDOUT);
          retry = true;
          break;
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
          failure =
              Status(Code::kIo, what + ": the connection dropped mid-request" + tries + detail,
                     os_err ? int(os_err) : ECONNRESET);
          retry = true;
          break;
        case CURLE_ABORTED_BY_CALLBACK:
          failure = Status(Code::kIo, what + ": cancelled", ECANCELED);
          break;
        case CURLE_COULDNT_RESOLVE_HOST:
          failure = Status(Code::kIo, what + ": cannot resolve the server's host name" + detail,
                           EHOSTUNREACH);
          break;
        case CURLE_PEER_FAILED_VERIFICATION:
          failure = Status(Code::kInvalidArgument,
                           what + ": the server's TLS certificate was refused" + detail);
          break;
        default:
          failure = Status(Code::kIo, what + ": " + curl_easy_strerror(cc) + tries + detail, EIO);
          break;
      }
      if (attempt >= options_.max_attempts) retry = false;
    }
    if (!retry) break;
    retries_++;
    int64_t delay = int64_t(options_.backoff_initial_ms) << std::min(attempt - 1, 20);
    delay = std::min<int64_t>(delay, options_.backoff_max_ms);
    if (delay > 1) {  // full delay at most, half at least: retries of many clients spread out
      static thread_local std::mt19937 jitter(std::random_device{}());
      delay = delay / 2 + int64_t(jitter() % uint32_t(delay / 2 + 1));
    }
    // In slices: Cancel() ends the wait too.
    for (int64_t slept = 0; slept < delay && !cancelled_; slept += 20)
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(20, delay - slept)));
  }
  curl_slist_free_all(headers);
  ReleaseHandle(h);
  return failure;
}

Status S3Store::Failed(const Request &req, const Reply &reply) {
  s3::ErrorInfo info = s3::ParseError(reply.body);
  Status st = s3::ErrorStatus(What(req.op, req.key), reply.http, info, options_.bucket,
                              credentials_.source);
  if (reply.attempts > 1)
    return Status(st.code(),
                  st.message() + " after " + std::to_string(reply.attempts) + " attempts",
                  st.err());
  return st;
}

namespace {
bool Ok2xx(long http) {
  return http >= 200 && http < 300;
}
}  // namespace

Result<S3Store::Reply> S3Store::PerformOk(const Request &req) {
  VDB_ASSIGN_OR_RETURN(Reply r, Perform(req));
  if (!Ok2xx(r.http)) return Failed(req, r);
  return r;
}

Result<ObjectMeta> S3Store::Put(const std::string &key, const void *data, size_t size) {
  return PutMem(key, data, size, false);
}

Result<ObjectMeta> S3Store::PutIfAbsent(const std::string &key, const void *data, size_t size) {
  return PutMem(key, data, size, true);
}

Result<ObjectMeta> S3Store::PutMem(const std::string &key, const void *data, size_t size,
                                   bool if_absent) {
  VDB_RETURN_IF_ERROR(ValidateKey(key));
  if (size > kMaxPartSize)
    return Status(Code::kInvalidArgument, What("Put", key) + ": more than 5 GiB in one request");
  Request req;
  req.if_absent = if_absent;
  req.op = "Put";
  req.method = "PUT";
  req.key = key;
  req.content_type = "application/octet-stream";
  req.has_body = true;
  req.mem = static_cast<const char *>(data);
  req.length = size;
  VDB_ASSIGN_OR_RETURN(Reply r, PerformOk(req));
  return ObjectMeta{size, s3::StripQuotes(r.headers["etag"])};
}

Result<ObjectMeta> S3Store::PutFile(const std::string &key, File *file, uint64_t offset,
                                    uint64_t length) {
  VDB_RETURN_IF_ERROR(ValidateKey(key));
  if (length > kMaxPartSize)
    return Status(Code::kInvalidArgument,
                  What("PutFile", key) + ": more than 5 GiB in one request (use UploadFile)");
  Request req;
  req.op = "PutFile";
  req.method = "PUT";
  req.key = key;
  req.content_type = "application/octet-stream";
  req.has_body = true;
  req.file = file;
  req.file_offset = offset;
  req.length = length;
  VDB_ASSIGN_OR_RETURN(Reply r, PerformOk(req));
  return ObjectMeta{length, s3::StripQuotes(r.headers["etag"])};
}

Result<ObjectMeta> S3Store::Head(const std::string &key) {
  VDB_RETURN_IF_ERROR(ValidateKey(key));
  Request req;
  req.op = "Head";
  req.method = "HEAD";
  req.key = key;
  VDB_ASSIGN_OR_RETURN(Reply r, Perform(req));
  if (r.http == 404) {
    // A HEAD answer has no body to tell NoSuchKey from NoSuchBucket: ask.
    Status bucket = CheckBucketFor("Head", key);
    if (!bucket.ok()) return bucket;
    return Status(Code::kNotFound, What("Head", key) + ": no such object (HTTP 404)", ENOENT);
  }
  if (!Ok2xx(r.http)) return Failed(req, r);
  auto it = r.headers.find("content-length");
  if (it == r.headers.end())
    return Status(Code::kCorrupt, What("Head", key) + ": the answer has no Content-Length");
  ObjectMeta meta;
  VDB_ASSIGN_OR_RETURN(meta.size, s3::ParseUint(it->second, "Content-Length"));
  meta.etag = s3::StripQuotes(r.headers["etag"]);
  return meta;
}

Result<size_t> S3Store::ReadAt(const std::string &key, uint64_t offset, void *buf, size_t size) {
  VDB_RETURN_IF_ERROR(ValidateKey(key));
  if (size == 0) return size_t(0);
  if (offset > UINT64_MAX - size || offset + size - 1 > uint64_t(INT64_MAX))
    return Status(Code::kInvalidArgument, What("ReadAt", key) + ": offset out of range");
  Request req;
  req.op = "ReadAt";
  req.method = "GET";
  req.key = key;
  req.sink = Request::Sink::kBuffer;
  req.buf = static_cast<char *>(buf);
  req.buf_size = size;
  req.range_offset = offset;
  VDB_ASSIGN_OR_RETURN(Reply r, Perform(req));
  if (r.http == 416) return size_t(0);  // at or past the end
  if (!Ok2xx(r.http)) return Failed(req, r);
  if (r.http == 206) {
    unsigned long long a = 0, b = 0;
    std::sscanf(r.headers["content-range"].c_str(), "bytes %llu-%llu/", &a, &b);
    if (r.received != b - a + 1)
      return Status(Code::kCorrupt, What("ReadAt", key) + ": " + std::to_string(r.received) +
                                        " bytes received of the " + std::to_string(b - a + 1) +
                                        " announced");
  }
  return r.received;
}

Result<std::string> S3Store::GetAll(const std::string &key, uint64_t max_bytes) {
  VDB_RETURN_IF_ERROR(ValidateKey(key));
  std::string out;
  Request req;
  req.op = "GetAll";
  req.method = "GET";
  req.key = key;
  req.sink = Request::Sink::kString;
  req.out_string = &out;
  req.max_string = max_bytes;
  VDB_ASSIGN_OR_RETURN(Reply r, PerformOk(req));
  return out;
}

Result<ListPage> S3Store::List(const std::string &prefix, const std::string &token, int max_keys,
                               const std::string &delimiter) {
  if (max_keys < 1 || max_keys > kMaxListKeys)
    return Status(Code::kInvalidArgument, What("List", prefix) + ": max_keys must be 1..1000");
  std::vector<std::pair<std::string, std::string>> q = {{"list-type", "2"},
                                                        {"max-keys", std::to_string(max_keys)}};
  if (!prefix.empty()) q.push_back({"prefix", prefix});
  if (!token.empty()) q.push_back({"continuation-token", token});
  if (!delimiter.empty()) q.push_back({"delimiter", delimiter});
  Request req;
  req.op = "List";
  req.method = "GET";
  req.query = s3::CanonicalQuery(q);
  req.sink = Request::Sink::kXml;
  VDB_ASSIGN_OR_RETURN(Reply r, PerformOk(req));
  auto page = s3::ParseListObjectsV2(r.body, prefix);
  if (!page.ok())
    return Status(page.status().code(), What("List", prefix) + ": " + page.status().message());
  return page;
}

Status S3Store::Delete(const std::string &key) {
  VDB_RETURN_IF_ERROR(ValidateKey(key));
  Request req;
  req.op = "Delete";
  req.method = "DELETE";
  req.key = key;
  VDB_ASSIGN_OR_RETURN(Reply r, Perform(req));
  if (Ok2xx(r.http)) return Status::Ok();
  Status st = Failed(req, r);
  return st.code() == Code::kNotFound ? Status::Ok() : st;
}

Result<std::string> S3Store::CreateMultipartUpload(const std::string &key) {
  VDB_RETURN_IF_ERROR(ValidateKey(key));
  Request req;
  req.op = "CreateMultipartUpload";
  req.method = "POST";
  req.key = key;
  req.query = s3::CanonicalQuery({{"uploads", ""}});
  req.content_type = "application/octet-stream";  // becomes the object's type
  req.has_body = true;
  req.sink = Request::Sink::kXml;
  VDB_ASSIGN_OR_RETURN(Reply r, PerformOk(req));
  auto id = s3::ParseInitiateUpload(r.body);
  if (!id.ok()) return Status(id.status().code(), What(req.op, key) + ": " + id.status().message());
  return id;
}

Result<std::string> S3Store::UploadPart(const std::string &key, const std::string &upload_id,
                                        int number, File *file, uint64_t offset, uint64_t length) {
  VDB_RETURN_IF_ERROR(ValidateKey(key));
  if (number < 1 || number > kMaxParts || length > kMaxPartSize || upload_id.empty())
    return Status(Code::kInvalidArgument,
                  What("UploadPart", key) + ": part " + std::to_string(number) + " of " +
                      std::to_string(length) + " bytes (parts are 1..10000, at most 5 GiB)");
  Request req;
  req.op = "UploadPart";
  req.method = "PUT";
  req.key = key;
  req.query = s3::CanonicalQuery({{"partNumber", std::to_string(number)}, {"uploadId", upload_id}});
  req.has_body = true;
  req.file = file;
  req.file_offset = offset;
  req.length = length;
  VDB_ASSIGN_OR_RETURN(Reply r, PerformOk(req));
  std::string etag = s3::StripQuotes(r.headers["etag"]);
  if (etag.empty())
    return Status(Code::kCorrupt, What("UploadPart", key) + ": the answer has no ETag");
  return etag;
}

Result<std::vector<PartInfo>> S3Store::ListParts(const std::string &key,
                                                 const std::string &upload_id) {
  VDB_RETURN_IF_ERROR(ValidateKey(key));
  std::vector<PartInfo> all;
  int marker = 0;
  while (true) {
    std::vector<std::pair<std::string, std::string>> q = {{"uploadId", upload_id},
                                                          {"max-parts", "1000"}};
    if (marker > 0) q.push_back({"part-number-marker", std::to_string(marker)});
    Request req;
    req.op = "ListParts";
    req.method = "GET";
    req.key = key;
    req.query = s3::CanonicalQuery(q);
    req.sink = Request::Sink::kXml;
    VDB_ASSIGN_OR_RETURN(Reply r, PerformOk(req));
    auto page = s3::ParseListParts(r.body);
    if (!page.ok())
      return Status(page.status().code(), What(req.op, key) + ": " + page.status().message());
    for (auto &p : page->parts) all.push_back(std::move(p));
    if (!page->truncated) break;
    if (page->next_marker <= marker || all.size() > size_t(kMaxParts))
      return Status(Code::kCorrupt, What(req.op, key) + ": the part listing does not advance");
    marker = page->next_marker;
  }
  std::sort(all.begin(), all.end(),
            [](const PartInfo &a, const PartInfo &b) { return a.number < b.number; });
  return all;
}

Result<ObjectMeta> S3Store::CompleteMultipartUpload(const std::string &key,
                                                    const std::string &upload_id,
                                                    const std::vector<PartInfo> &parts) {
  VDB_RETURN_IF_ERROR(ValidateKey(key));
  if (parts.empty())
    return Status(Code::kInvalidArgument, What("CompleteMultipartUpload", key) + ": no parts");
  const std::string body = s3::CompleteUploadXml(parts);
  Request req;
  req.op = "CompleteMultipartUpload";
  req.method = "POST";
  req.key = key;
  req.query = s3::CanonicalQuery({{"uploadId", upload_id}});
  req.content_type = "application/xml";
  req.has_body = true;
  req.mem = body.data();
  req.length = body.size();
  req.sink = Request::Sink::kXml;
  VDB_ASSIGN_OR_RETURN(Reply r, Perform(req));
  uint64_t total = 0;
  for (auto &p : parts) total += p.size;
  if (!Ok2xx(r.http)) {
    Status st = Failed(req, r);
    // A retry of a Complete that went through but whose answer was lost.
    if (st.code() == Code::kNotFound && r.attempts > 1) {
      auto meta = Head(key);
      if (meta.ok() && meta->size == total) return meta;
    }
    return st;
  }
  auto done = s3::ParseCompleteUpload(r.body);
  if (!done.ok())
    return Status(done.status().code(), What(req.op, key) + ": " + done.status().message());
  if (!done->error_code.empty()) {
    const std::string &c = done->error_code;
    long as = c == "InternalError" || c == "SlowDown" || c == "ServiceUnavailable" ? 500 : 400;
    return s3::ErrorStatus(What(req.op, key) + " (an error inside a 200 answer)", as,
                           s3::ErrorInfo{c, done->error_message}, options_.bucket,
                           credentials_.source);
  }
  // The object as it now is (RGW 16 answers with an empty ETag). The 200
  // answer already confirms it: if the HEAD fails, say what Complete said.
  auto meta = Head(key);
  if (!meta.ok() && meta.status().code() == Code::kIo && !done->etag.empty())
    return ObjectMeta{total, done->etag};
  return meta;
}

Status S3Store::AbortMultipartUpload(const std::string &key, const std::string &upload_id) {
  VDB_RETURN_IF_ERROR(ValidateKey(key));
  Request req;
  req.op = "AbortMultipartUpload";
  req.method = "DELETE";
  req.key = key;
  req.query = s3::CanonicalQuery({{"uploadId", upload_id}});
  VDB_ASSIGN_OR_RETURN(Reply r, Perform(req));
  if (Ok2xx(r.http)) return Status::Ok();
  Status st = Failed(req, r);
  return st.code() == Code::kNotFound ? Status::Ok() : st;
}

Result<std::vector<UploadEntry>> S3Store::ListMultipartUploads(const std::string &prefix,
                                                               size_t max_uploads) {
  std::vector<UploadEntry> all;
  std::string key_marker, id_marker;
  while (true) {
    std::vector<std::pair<std::string, std::string>> q = {{"uploads", ""}};
    if (!prefix.empty()) q.push_back({"prefix", prefix});
    if (!key_marker.empty()) q.push_back({"key-marker", key_marker});
    if (!id_marker.empty()) q.push_back({"upload-id-marker", id_marker});
    Request req;
    req.op = "ListMultipartUploads";
    req.method = "GET";
    req.query = s3::CanonicalQuery(q);
    req.sink = Request::Sink::kXml;
    VDB_ASSIGN_OR_RETURN(Reply r, PerformOk(req));
    auto page = s3::ParseListUploads(r.body);
    if (!page.ok())
      return Status(page.status().code(), What(req.op, prefix) + ": " + page.status().message());
    for (auto &u : page->uploads) {
      if (u.key.compare(0, prefix.size(), prefix) != 0)
        return Status(Code::kCorrupt,
                      What(req.op, prefix) + ": the listing holds an upload outside the prefix");
      if (all.size() == max_uploads)
        return Status(Code::kCorrupt, What(req.op, prefix) + ": more than " +
                                          std::to_string(max_uploads) + " unfinished uploads");
      all.push_back(std::move(u));
    }
    if (!page->truncated) break;
    if (page->next_key_marker == key_marker && page->next_upload_id_marker == id_marker)
      return Status(Code::kCorrupt, What(req.op, prefix) + ": the upload listing does not advance");
    key_marker = page->next_key_marker;
    id_marker = page->next_upload_id_marker;
  }
  return all;
}

Status S3Store::CreateBucket() {
  Request req;
  req.op = "CreateBucket";
  req.method = "PUT";
  req.has_body = true;
  req.mem = "";
  req.length = 0;
  VDB_ASSIGN_OR_RETURN(Reply r, Perform(req));
  if (Ok2xx(r.http)) return Status::Ok();
  s3::ErrorInfo info = s3::ParseError(r.body);
  if (r.http == 409 && info.code == "BucketAlreadyOwnedByYou") return Status::Ok();
  if (r.http == 409)
    return Status(Code::kExists,
                  What(req.op, "") + ": the bucket name is taken (HTTP 409 " + info.code + ")");
  return Failed(req, r);
}

Status S3Store::CheckBucket() {
  return CheckBucketFor("CheckBucket", "");
}

Status S3Store::CheckBucketFor(const char *op, const std::string &key) {
  Request req;
  req.op = op;
  req.method = "HEAD";
  VDB_ASSIGN_OR_RETURN(Reply r, Perform(req));
  if (Ok2xx(r.http)) return Status::Ok();
  if (r.http == 404)
    return Status(Code::kInvalidArgument,
                  What(op, key) + ": bucket \"" + options_.bucket + "\" does not exist (HTTP 404)");
  req.key = key;  // for the message only: the request went to the bucket
  return Failed(req, r);
}

}  // namespace vdb::remote
