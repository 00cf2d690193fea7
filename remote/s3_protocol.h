// The S3 REST API without HTTP: names, URLs, canonical query strings, the
// XML answers S3Store reads and writes, and how S3's errors map to Status.
// Split from s3_store.cpp so that all of it is tested without a server
// (tests/remote/s3_protocol_test.cpp).
//
// The rules of libcurl 7.88's SigV4 (CURLOPT_AWS_SIGV4) that shape this
// (measured: ../shared/reference/s3-test-server.md, section 3): libcurl signs
// the URL's path and query exactly as written, so the query string must be
// canonical already: parameters sorted by name, names and values
// percent-encoded RFC 3986 style with UPPERCASE hex ('/' too: prefix=a%2Fb),
// and a sub-resource without a value written "uploads=". CanonicalQuery
// writes exactly that; upload ids and continuation tokens (which hold
// '~', '/', '+', '=') go through it like every other value.
//
// Contract: pure functions, thread-safe, nothing throws; parsers take
// untrusted input and are bounded (xml_extract.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "object_store.h"
#include "status.h"

namespace vdb::remote::s3 {

// RFC 3986 percent-encoding, uppercase hex; unreserved characters
// (A-Z a-z 0-9 - _ . ~) kept, and '/' kept if keep_slash (for key paths).
std::string UriEncode(std::string_view s, bool keep_slash);

// name=value pairs (raw, unencoded) as a canonical query string, without
// the leading '?': encoded, sorted by encoded name (then value), joined by
// '&'; an empty value is written "name=".
std::string CanonicalQuery(std::vector<std::pair<std::string, std::string>> params);

// Bucket names: 3..63 characters of a-z 0-9 . -, starting and ending with a
// letter or digit (the rules S3 and RGW enforce; anything else is
// kInvalidArgument here, before any request).
Status ValidateBucket(const std::string &bucket);
// "http(s)://host[:port][/path]": kInvalidArgument for another scheme, a
// user:password@ part (credentials never come from a URI), a query or a
// fragment. Returns it without a trailing '/'.
Result<std::string> NormalizeEndpoint(const std::string &endpoint);
// A region for "aws:amz:REGION:s3": a-z 0-9 '-' only.
Status ValidateRegion(const std::string &region);

// "<endpoint>/<bucket>[/<encoded key>][?<query>]".
std::string ObjectUrl(const std::string &endpoint, const std::string &bucket,
                      const std::string &key, const std::string &query);

// An ETag header or element without its quotes (and without a W/ prefix).
std::string StripQuotes(std::string_view etag);
// A decimal uint64 with nothing else around it; kCorrupt otherwise.
Result<uint64_t> ParseUint(std::string_view s, const char *what);

// ListObjectsV2. Keys outside `prefix` are kCorrupt (a server bug or a
// wrong answer); at most kMaxListKeys objects and prefixes.
Result<ListPage> ParseListObjectsV2(std::string_view xml, const std::string &prefix);
// InitiateMultipartUpload: the UploadId.
Result<std::string> ParseInitiateUpload(std::string_view xml);
// ListParts: the parts of one page, and where the next page starts.
struct PartsPage {
  std::vector<PartInfo> parts;
  bool truncated = false;
  int next_marker = 0;
};
Result<PartsPage> ParseListParts(std::string_view xml);
// ListMultipartUploads: one page.
struct UploadsPage {
  std::vector<UploadEntry> uploads;
  bool truncated = false;
  std::string next_key_marker, next_upload_id_marker;
};
Result<UploadsPage> ParseListUploads(std::string_view xml);
// The CompleteMultipartUpload request body.
std::string CompleteUploadXml(const std::vector<PartInfo> &parts);
// CompleteMultipartUpload's answer: its ETag (may be empty: RGW 16 sends
// <ETag></ETag>), or the error S3 may send with status 200.
struct CompleteResult {
  std::string etag;
  std::string error_code, error_message;  // non-empty: it failed
};
Result<CompleteResult> ParseCompleteUpload(std::string_view xml);

// An S3 <Error> document's Code and Message (empty when absent or
// unparsable: an error answer is read on a best-effort basis).
struct ErrorInfo {
  std::string code, message;
};
ErrorInfo ParseError(std::string_view xml);

// What a failed answer means (object_store.h lists the codes):
//   what     "S3 PutFile s3://bucket/key at http://host:port", the start of the message
//   http     the status; error: the parsed <Error> (empty for HEAD)
//   creds    where the credentials came from (Credentials::source)
// 403 -> kInvalidArgument/EACCES naming the cause (wrong secret, unknown
// access key, no permission, clock skew) and the credentials' source;
// 404 NoSuchKey/NoSuchUpload -> kNotFound/ENOENT; NoSuchBucket ->
// kInvalidArgument; other 4xx -> kInvalidArgument; 5xx -> kIo;
// XAmzContentSHA256Mismatch/BadDigest -> kCorrupt.
Status ErrorStatus(const std::string &what, long http, const ErrorInfo &error,
                   const std::string &bucket, const std::string &creds);

// True for answers worth another try: 5xx, 429 (and 503 SlowDown), and
// 400 RequestTimeout (the server gave up waiting for the body).
bool IsRetryableHttp(long http, const ErrorInfo &error);

}  // namespace vdb::remote::s3
