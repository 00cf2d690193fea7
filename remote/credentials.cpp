#include "credentials.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <map>

namespace vdb::remote {

namespace {

constexpr size_t kMaxFile = 1 << 20;

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r')) b++;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) e--;
  return std::string(s.substr(b, e - b));
}

std::string Lower(std::string s) {
  for (char &c : s)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return s;
}

// The key = value pairs of section `section` (keys lower-cased); nullopt-like
// `found` false if there is no such section. Later duplicates win.
std::map<std::string, std::string> Section(std::string_view text, const std::string &section,
                                           bool *found) {
  std::map<std::string, std::string> out;
  *found = false;
  bool in = false;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string line = Trim(text.substr(pos, nl - pos));
    pos = nl + 1;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      size_t close = line.find(']');
      std::string name = close == std::string::npos ? "" : Trim(line.substr(1, close - 1));
      in = name == section;
      if (in) *found = true;
      continue;
    }
    if (!in) continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    out[Lower(Trim(line.substr(0, eq)))] = Trim(line.substr(eq + 1));
  }
  return out;
}

// Reads a small file; kNotFound if absent.
Result<std::string> ReadSmallFile(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return Status::FromErrno(errno, "cannot open " + path);
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status(Code::kInvalidArgument, path + " is not a regular file");
  }
  if (uint64_t(st.st_size) > kMaxFile) {
    ::close(fd);
    return Status(Code::kInvalidArgument, path + " is larger than 1 MiB: not a credentials file");
  }
  std::string data(size_t(st.st_size), '\0');
  size_t got = 0;
  while (got < data.size()) {
    ssize_t n = ::read(fd, &data[got], data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += size_t(n);
  }
  ::close(fd);
  data.resize(got);
  return data;
}

std::string Env(const GetEnv &getenv, const char *name) {
  const char *v = getenv(name);
  return v ? std::string(v) : std::string();
}

}  // namespace

Result<Credentials> ParseCredentialsFile(std::string_view text, const std::string &profile,
                                         const std::string &path) {
  bool found = false;
  auto kv = Section(text, profile, &found);
  if (!found) return Status(Code::kNotFound, "no profile [" + profile + "] in " + path, ENOENT);
  Credentials c;
  c.access_key = kv["aws_access_key_id"];
  c.secret_key = kv["aws_secret_access_key"];
  c.region = kv["region"];
  c.source = path + " [" + profile + "]";
  if (c.access_key.empty() || c.secret_key.empty())
    return Status(Code::kInvalidArgument,
                  "profile [" + profile + "] in " + path + " lacks " +
                      (c.access_key.empty() ? "aws_access_key_id" : "aws_secret_access_key"));
  return c;
}

std::string ParseConfigRegion(std::string_view text, const std::string &profile) {
  bool found = false;
  auto kv = Section(text, profile == "default" ? "default" : "profile " + profile, &found);
  return kv["region"];
}

Result<Credentials> LoadCredentials(const GetEnv &getenv) {
  const std::string home = Env(getenv, "HOME");
  std::string profile = Env(getenv, "AWS_PROFILE");
  if (profile.empty()) profile = "default";
  Credentials c;
  std::string ak = Env(getenv, "AWS_ACCESS_KEY_ID"), sk = Env(getenv, "AWS_SECRET_ACCESS_KEY");
  if (!ak.empty() || !sk.empty()) {
    if (ak.empty() || sk.empty())
      return Status(Code::kInvalidArgument,
                    std::string(ak.empty() ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY") +
                        " is not set, but " +
                        (ak.empty() ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID") +
                        " is: set both (or neither, to use the credentials file)");
    c.access_key = ak;
    c.secret_key = sk;
    c.source = "the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)";
  } else {
    std::string path = Env(getenv, "AWS_SHARED_CREDENTIALS_FILE");
    bool explicit_path = !path.empty();
    if (!explicit_path) {
      if (home.empty())
        return Status(Code::kInvalidArgument,
                      "no S3 credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set and "
                      "there is no HOME for ~/.aws/credentials");
      path = home + "/.aws/credentials";
    }
    auto text = ReadSmallFile(path);
    if (!text.ok()) {
      if (text.status().code() == Code::kNotFound && !explicit_path)
        return Status(Code::kInvalidArgument,
                      "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
                      "write them to " +
                          path + " (or the file AWS_SHARED_CREDENTIALS_FILE names)");
      return Status(Code::kInvalidArgument, "S3 credentials file: " + text.status().message());
    }
    auto parsed = ParseCredentialsFile(*text, profile, path);
    if (!parsed.ok())
      return Status(Code::kInvalidArgument, "S3 credentials: " + parsed.status().message());
    c = std::move(parsed).value();
  }
  std::string region = Env(getenv, "AWS_REGION");
  if (region.empty()) region = Env(getenv, "AWS_DEFAULT_REGION");
  if (region.empty()) region = c.region;
  if (region.empty()) {
    std::string config = Env(getenv, "AWS_CONFIG_FILE");
    if (config.empty() && !home.empty()) config = home + "/.aws/config";
    if (!config.empty()) {
      auto text = ReadSmallFile(config);
      if (text.ok()) region = ParseConfigRegion(*text, profile);
    }
  }
  c.region = region.empty() ? "us-east-1" : region;
  return c;
}

Result<Credentials> LoadCredentials() {
  return LoadCredentials(
      [](const char *name) { return static_cast<const char *>(std::getenv(name)); });
}

}  // namespace vdb::remote
