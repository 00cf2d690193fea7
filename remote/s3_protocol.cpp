#include "s3_protocol.h"

#include <algorithm>
#include <cctype>
#include <cerrno>

#include "xml_extract.h"

namespace vdb::remote::s3 {

namespace {

bool Unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

// Server text for a message: bounded, one line.
std::string Shown(std::string_view s) {
  std::string out(s.substr(0, 300));
  for (char &c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  if (s.size() > 300) out += "...";
  return out;
}

Result<std::string> Text(std::string_view doc, std::string_view name) {
  VDB_ASSIGN_OR_RETURN(auto t, xml::FirstText(doc, name));
  return t ? *t : std::string();
}

Result<bool> Truncated(std::string_view doc) {
  VDB_ASSIGN_OR_RETURN(std::string t, Text(doc, "IsTruncated"));
  if (t.empty() || t == "false") return false;
  if (t == "true") return true;
  return Status(Code::kCorrupt,
                "the server's answer has <IsTruncated>" + Shown(t) + "</IsTruncated>");
}

bool StartsWith(const std::string &s, const std::string &p) {
  return s.compare(0, p.size(), p) == 0;
}

}  // namespace

std::string UriEncode(std::string_view s, bool keep_slash) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if (Unreserved(c) || (keep_slash && c == '/')) {
      out += char(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string CanonicalQuery(std::vector<std::pair<std::string, std::string>> params) {
  for (auto &p : params) {
    p.first = UriEncode(p.first, false);
    p.second = UriEncode(p.second, false);
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (auto &p : params) {
    if (!out.empty()) out += '&';
    out += p.first;
    out += '=';
    out += p.second;
  }
  return out;
}

Status ValidateBucket(const std::string &b) {
  auto bad = [&](const char *why) {
    return Status(Code::kInvalidArgument, "bucket name \"" + Shown(b) + "\" refused: " + why);
  };
  if (b.size() < 3 || b.size() > 63) return bad("S3 bucket names are 3 to 63 characters long");
  for (char c : b)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
      return bad("only a-z, 0-9, '.' and '-' may appear in it");
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(b.front()) || !alnum(b.back()))
    return bad("it must start and end with a letter or digit");
  if (b.find("..") != std::string::npos) return bad("it holds \"..\"");
  return Status::Ok();
}

Result<std::string> NormalizeEndpoint(const std::string &endpoint) {
  std::string e = endpoint;
  auto bad = [&](const std::string &why) {
    // Never echo what might be a user:password@ part.
    return Status(Code::kInvalidArgument, "S3 endpoint refused: " + why);
  };
  size_t scheme_end = e.find("://");
  if (scheme_end == std::string::npos) return bad("it must start with http:// or https://");
  std::string scheme = e.substr(0, scheme_end);
  for (char &c : scheme) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "http" && scheme != "https") return bad("it must start with http:// or https://");
  std::string rest = e.substr(scheme_end + 3);
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (authority.find('@') != std::string::npos)
    return bad(
        "it holds a user name or password (credentials come from the environment or "
        "~/.aws/credentials, never from a URI)");
  if (authority.empty()) return bad("it has no host");
  if (rest.find_first_of("?#") != std::string::npos) return bad("it holds a query or a fragment");
  for (char c : rest)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return bad("it holds a space or a control character");
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  return scheme + "://" + rest;
}

Status ValidateRegion(const std::string &region) {
  if (region.empty() || region.size() > 64)
    return Status(Code::kInvalidArgument, "S3 region must be 1 to 64 characters");
  for (char c : region)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return Status(Code::kInvalidArgument,
                    "S3 region \"" + Shown(region) + "\" refused: only a-z, 0-9, '-' and '_'");
  return Status::Ok();
}

std::string ObjectUrl(const std::string &endpoint, const std::string &bucket,
                      const std::string &key, const std::string &query) {
  std::string url = endpoint + "/" + bucket;
  if (!key.empty()) url += "/" + UriEncode(key, true);
  if (!query.empty()) url += "?" + query;
  return url;
}

std::string StripQuotes(std::string_view etag) {
  if (etag.size() >= 2 && etag[0] == 'W' && etag[1] == '/') etag.remove_prefix(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')
    etag = etag.substr(1, etag.size() - 2);
  return std::string(etag);
}

Result<uint64_t> ParseUint(std::string_view s, const char *what) {
  if (s.empty() || s.size() > 20)
    return Status(Code::kCorrupt,
                  std::string("the server sent a bad ") + what + ": \"" + Shown(s) + "\"");
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || v > (UINT64_MAX - uint64_t(c - '0')) / 10)
      return Status(Code::kCorrupt,
                    std::string("the server sent a bad ") + what + ": \"" + Shown(s) + "\"");
    v = v * 10 + uint64_t(c - '0');
  }
  return v;
}

Result<ListPage> ParseListObjectsV2(std::string_view doc, const std::string &prefix) {
  if (doc.find("<ListBucketResult") == std::string_view::npos)
    return Status(Code::kCorrupt, "the server's answer to ListObjectsV2 is not a ListBucketResult");
  ListPage page;
  VDB_ASSIGN_OR_RETURN(auto contents, xml::Elements(doc, "Contents", kMaxListKeys));
  for (auto c : contents) {
    ObjectEntry e;
    VDB_ASSIGN_OR_RETURN(auto key, xml::FirstText(c, "Key"));
    if (!key || key->empty()) return Status(Code::kCorrupt, "a listed object has no <Key>");
    e.key = std::move(*key);
    if (!StartsWith(e.key, prefix))
      return Status(Code::kCorrupt, "the listing of prefix \"" + Shown(prefix) +
                                        "\" holds the key \"" + Shown(e.key) + "\" outside it");
    VDB_ASSIGN_OR_RETURN(std::string size, Text(c, "Size"));
    VDB_ASSIGN_OR_RETURN(e.size, ParseUint(size, "object size"));
    VDB_ASSIGN_OR_RETURN(std::string etag, Text(c, "ETag"));
    e.etag = StripQuotes(etag);
    page.objects.push_back(std::move(e));
  }
  VDB_ASSIGN_OR_RETURN(auto commons, xml::Elements(doc, "CommonPrefixes", kMaxListKeys));
  for (auto c : commons) {
    VDB_ASSIGN_OR_RETURN(std::string p, Text(c, "Prefix"));
    if (!StartsWith(p, prefix) || p.size() <= prefix.size())
      return Status(Code::kCorrupt, "the listing of prefix \"" + Shown(prefix) +
                                        "\" holds the common prefix \"" + Shown(p) + "\"");
    page.common_prefixes.push_back(std::move(p));
  }
  VDB_ASSIGN_OR_RETURN(bool truncated, Truncated(doc));
  if (truncated) {
    VDB_ASSIGN_OR_RETURN(page.next_token, Text(doc, "NextContinuationToken"));
    if (page.next_token.empty())
      return Status(Code::kCorrupt, "a truncated listing without a NextContinuationToken");
  }
  return page;
}

Result<std::string> ParseInitiateUpload(std::string_view doc) {
  VDB_ASSIGN_OR_RETURN(std::string id, Text(doc, "UploadId"));
  if (id.empty())
    return Status(Code::kCorrupt, "the server's answer to CreateMultipartUpload has no UploadId");
  return id;
}

Result<PartsPage> ParseListParts(std::string_view doc) {
  if (doc.find("<ListPartsResult") == std::string_view::npos)
    return Status(Code::kCorrupt, "the server's answer to ListParts is not a ListPartsResult");
  PartsPage page;
  VDB_ASSIGN_OR_RETURN(auto parts, xml::Elements(doc, "Part", kMaxParts));
  for (auto p : parts) {
    PartInfo info;
    VDB_ASSIGN_OR_RETURN(std::string n, Text(p, "PartNumber"));
    VDB_ASSIGN_OR_RETURN(uint64_t number, ParseUint(n, "part number"));
    if (number < 1 || number > uint64_t(kMaxParts))
      return Status(Code::kCorrupt, "the server listed part number " + std::to_string(number));
    info.number = int(number);
    VDB_ASSIGN_OR_RETURN(std::string size, Text(p, "Size"));
    VDB_ASSIGN_OR_RETURN(info.size, ParseUint(size, "part size"));
    VDB_ASSIGN_OR_RETURN(std::string etag, Text(p, "ETag"));
    info.etag = StripQuotes(etag);
    page.parts.push_back(std::move(info));
  }
  VDB_ASSIGN_OR_RETURN(page.truncated, Truncated(doc));
  if (page.truncated) {
    VDB_ASSIGN_OR_RETURN(std::string m, Text(doc, "NextPartNumberMarker"));
    VDB_ASSIGN_OR_RETURN(uint64_t marker, ParseUint(m, "NextPartNumberMarker"));
    if (marker < 1 || marker > uint64_t(kMaxParts))
      return Status(Code::kCorrupt,
                    "the server sent NextPartNumberMarker " + std::to_string(marker));
    page.next_marker = int(marker);
  }
  return page;
}

Result<UploadsPage> ParseListUploads(std::string_view doc) {
  if (doc.find("<ListMultipartUploadsResult") == std::string_view::npos)
    return Status(
        Code::kCorrupt,
        "the server's answer to ListMultipartUploads is not a ListMultipartUploadsResult");
  UploadsPage page;
  VDB_ASSIGN_OR_RETURN(auto uploads, xml::Elements(doc, "Upload", kMaxListKeys));
  for (auto u : uploads) {
    UploadEntry e;
    VDB_ASSIGN_OR_RETURN(e.key, Text(u, "Key"));
    VDB_ASSIGN_OR_RETURN(e.upload_id, Text(u, "UploadId"));
    if (e.key.empty() || e.upload_id.empty())
      return Status(Code::kCorrupt, "a listed upload has no Key or UploadId");
    page.uploads.push_back(std::move(e));
  }
  VDB_ASSIGN_OR_RETURN(page.truncated, Truncated(doc));
  if (page.truncated) {
    VDB_ASSIGN_OR_RETURN(page.next_key_marker, Text(doc, "NextKeyMarker"));
    VDB_ASSIGN_OR_RETURN(page.next_upload_id_marker, Text(doc, "NextUploadIdMarker"));
    if (page.next_key_marker.empty())
      return Status(Code::kCorrupt, "a truncated upload listing without a NextKeyMarker");
  }
  return page;
}

std::string CompleteUploadXml(const std::vector<PartInfo> &parts) {
  std::string out = "<CompleteMultipartUpload>";
  for (auto &p : parts) {
    out += "<Part><PartNumber>" + std::to_string(p.number) + "</PartNumber><ETag>" +
           xml::Escape("\"" + p.etag + "\"") + "</ETag></Part>";
  }
  out += "</CompleteMultipartUpload>";
  return out;
}

Result<CompleteResult> ParseCompleteUpload(std::string_view doc) {
  CompleteResult r;
  if (doc.find("<Error") != std::string_view::npos) {
    ErrorInfo e = ParseError(doc);
    r.error_code = e.code.empty() ? "Error" : e.code;
    r.error_message = e.message;
    return r;
  }
  if (doc.find("<CompleteMultipartUploadResult") == std::string_view::npos)
    return Status(
        Code::kCorrupt,
        "the server's answer to CompleteMultipartUpload is not a CompleteMultipartUploadResult");
  VDB_ASSIGN_OR_RETURN(std::string etag, Text(doc, "ETag"));
  r.etag = StripQuotes(etag);
  return r;
}

ErrorInfo ParseError(std::string_view doc) {
  ErrorInfo e;
  auto err = xml::Elements(doc, "Error", 1);
  if (!err.ok() || err->empty()) return e;
  auto code = xml::FirstText(err->front(), "Code");
  if (code.ok() && *code) e.code = Shown(**code);
  auto msg = xml::FirstText(err->front(), "Message");
  if (msg.ok() && *msg) e.message = Shown(**msg);
  return e;
}

Status ErrorStatus(const std::string &what, long http, const ErrorInfo &error,
                   const std::string &bucket, const std::string &creds) {
  std::string tag = "HTTP " + std::to_string(http);
  if (!error.code.empty()) tag += " " + error.code;
  if (!error.message.empty()) tag += ": " + error.message;
  auto make = [&](Code code, const std::string &explain, int err = 0) {
    return Status(code, what + ": " + explain + " (" + tag + ")", err);
  };
  const std::string &c = error.code;
  if (http == 403) {
    if (c == "SignatureDoesNotMatch")
      return make(
          Code::kInvalidArgument,
          "the server refused the request's signature: the secret key from " + creds + " is wrong",
          EACCES);
    if (c == "InvalidAccessKeyId")
      return make(Code::kInvalidArgument, "the server does not know the access key from " + creds,
                  EACCES);
    if (c == "RequestTimeTooSkewed")
      return make(Code::kInvalidArgument,
                  "this machine's clock is too far from the server's (more than 15 minutes)",
                  EACCES);
    if (c == "AccessDenied")
      return make(Code::kInvalidArgument,
                  "access denied: the credentials from " + creds +
                      " lack the permission for this on bucket \"" + bucket + "\"",
                  EACCES);
    return make(Code::kInvalidArgument,
                "access denied: the server refused the credentials from " + creds +
                    " (wrong secret or access key, or no permission on bucket \"" + bucket + "\")",
                EACCES);
  }
  if (http == 404) {
    if (c == "NoSuchBucket")
      return make(Code::kInvalidArgument, "bucket \"" + bucket + "\" does not exist");
    if (c == "NoSuchUpload")
      return make(Code::kNotFound, "no such multipart upload (completed or aborted)", ENOENT);
    return make(Code::kNotFound, "no such object", ENOENT);
  }
  if (http == 412 || c == "PreconditionFailed")
    return make(Code::kExists, "the object exists already (a conditional write)", EEXIST);
  if (c == "XAmzContentSHA256Mismatch" || c == "BadDigest")
    return make(Code::kCorrupt, "the server received other bytes than were sent");
  if (http == 301 || http == 307 || c == "PermanentRedirect" || c == "AuthorizationHeaderMalformed")
    return make(Code::kInvalidArgument,
                "the bucket lives at another endpoint or region than the one configured");
  if (http == 405 || http == 501)
    return make(Code::kUnsupported, "the server does not support this");
  if (http >= 500) return make(Code::kIo, "server error", EIO);
  if (c == "EntityTooSmall")
    return make(Code::kInvalidArgument, "a part other than the last is smaller than 5 MiB");
  if (http >= 400) return make(Code::kInvalidArgument, "the server refused the request");
  return make(Code::kIo, "unexpected answer", EIO);
}

bool IsRetryableHttp(long http, const ErrorInfo &error) {
  if (http >= 500 && http != 501) return true;
  if (http == 429) return true;
  if (http == 400 && error.code == "RequestTimeout") return true;
  return false;
}

}  // namespace vdb::remote::s3
