// S3Store against curl on a real Ceph RGW started here (memstore OSD, all on
// 127.0.0.1): RGW start time; PUT throughput of one 64 MiB file through
// S3Store (one PutFile, and UploadFile in 8 MiB parts) against
// `curl -T --aws-sigv4` of the same file to the same server, interleaved
// in the same run; latency of 64 KiB ranged GETs (S3Store, reused
// connection). --quick: 16 MiB, 1 round, 30 reads (keeps it from rotting).
// Exit 77 (skip) without radosgw. Asserts nothing about time.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "bench_stats.h"
#include "file.h"
#include "rgw_server.h"
#include "s3_store.h"

using namespace vdb;
using namespace vdb::remote;
using namespace vdb::bench;

namespace {

int Fail(const std::string &what) {
  std::fprintf(stderr, "s3_bench: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char **argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  if (!test::RadosgwInstalled()) return test::SkipNoRadosgw("s3_bench");
  const size_t size = quick ? 16u << 20 : 64u << 20;
  const int rounds = quick ? 1 : 5;
  const int reads = quick ? 30 : 500;

  test::RgwServer rgw;
  std::string err;
  if (!rgw.Start(&err)) return Fail(err);
  std::printf("RGW (memstore) start: %.2f s\n", rgw.start_seconds());

  S3Options o;
  o.endpoint = rgw.endpoint();
  o.bucket = "vdbbench";
  auto store = S3Store::Open(o, Credentials{rgw.access_key(), rgw.secret_key(), "", "bench"});
  if (!store.ok()) return Fail(store.status().ToString());
  S3Store *s = store->get();
  Status st = s->CreateBucket();
  if (!st.ok()) return Fail(st.ToString());

  char tmpl[] = "/tmp/vdb-s3-bench-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string path = dir + "/seg.frames";
  {
    std::string data(size, '\0');
    std::mt19937 rng(1);
    for (size_t i = 0; i < size; i += 4) {
      uint32_t v = rng();
      std::memcpy(&data[i], &v, 4);
    }
    auto f = DefaultFs()->Open(path, OpenMode::kCreateExcl);
    if (!f.ok() || !(*f)->Append(data.data(), data.size()).ok())
      return Fail("cannot write " + path);
  }
  auto file = DefaultFs()->Open(path, OpenMode::kRead);
  if (!file.ok()) return Fail(file.status().ToString());

  const std::string curl =
      "curl -sS -o /dev/null -w '%{http_code}' --aws-sigv4 aws:amz:us-east-1:s3 --user " +
      rgw.access_key() + ":" + rgw.secret_key() + " -H x-amz-content-sha256:UNSIGNED-PAYLOAD -T " +
      path + " " + rgw.endpoint() + "/vdbbench/bench/curl.frames";
  std::vector<double> t_put, t_parts, t_curl;
  UploadOptions parts;
  parts.multipart_threshold = 8u << 20;
  parts.part_size = 8u << 20;
  for (int r = 0; r < rounds; r++) {
    auto t0 = Clock::now();
    auto put = s->PutFile("bench/put.frames", file->get(), 0, size);
    t_put.push_back(Since(t0));
    if (!put.ok()) return Fail(put.status().ToString());

    t0 = Clock::now();
    auto up = UploadFile(s, "bench/parts.frames", file->get(), 0, size, parts);
    t_parts.push_back(Since(t0));
    if (!up.ok()) return Fail(up.status().ToString());

    t0 = Clock::now();
    FILE *p = popen(curl.c_str(), "r");
    char code[8] = "";
    size_t n = p ? fread(code, 1, sizeof code - 1, p) : 0;
    int rc = p ? pclose(p) : -1;
    t_curl.push_back(Since(t0));
    if (rc != 0 || std::string(code, n) != "200")
      return Fail("curl -T: HTTP " + std::string(code, n));
  }
  auto h1 = s->Head("bench/put.frames"), h2 = s->Head("bench/parts.frames"),
       h3 = s->Head("bench/curl.frames");
  if (!h1.ok() || !h2.ok() || !h3.ok() || h1->size != size || h2->size != size || h3->size != size)
    return Fail("an uploaded object has the wrong size");
  const double mib = double(size) / (1 << 20);
  auto show = [&](const char *name, const std::vector<double> &t) {
    std::printf("PUT %3.0f MiB %-34s median %6.3f s = %6.0f MiB/s   best %6.3f s = %6.0f MiB/s\n",
                mib, name, Median(t), mib / Median(t), *std::min_element(t.begin(), t.end()),
                mib / *std::min_element(t.begin(), t.end()));
  };
  show("S3Store PutFile (1 request)", t_put);
  show("S3Store UploadFile (8 MiB parts)", t_parts);
  show("curl -T --aws-sigv4 (process incl.)", t_curl);

  std::vector<double> lat;
  std::vector<char> buf(64 << 10);
  std::mt19937 rng(2);
  for (int i = 0; i < reads; i++) {
    uint64_t off = rng() % (size - buf.size());
    auto t0 = Clock::now();
    auto n = s->ReadAt("bench/put.frames", off, buf.data(), buf.size());
    lat.push_back(Since(t0) * 1000);
    if (!n.ok() || *n != buf.size()) return Fail("ranged GET failed");
  }
  std::printf(
      "ranged GET 64 KiB (%d random), S3Store (reused connection): median %.2f ms  p90 %.2f ms  "
      "p99 %.2f ms  max %.2f ms\n",
      reads, Median(lat), Percentile(lat, 0.9), Percentile(lat, 0.99),
      *std::max_element(lat.begin(), lat.end()));
  // The same reads by one curl process (connection reused, --next), its own
  // time_total per request: what libcurl and RGW cost without S3Store.
  {
    std::string cfg = dir + "/reads.curlrc";
    FILE *c = std::fopen(cfg.c_str(), "w");
    std::mt19937 rng2(2);
    for (int i = 0; i < reads; i++) {
      uint64_t off = rng2() % (size - buf.size());
      std::fprintf(c,
                   "url = \"%s/vdbbench/bench/put.frames\"\naws-sigv4 = \"aws:amz:us-east-1:s3\"\n"
                   "user = \"%s:%s\"\nheader = \"x-amz-content-sha256: UNSIGNED-PAYLOAD\"\n"
                   "header = \"Range: bytes=%llu-%llu\"\noutput = \"/dev/null\"\n"
                   "write-out = \"%%{http_code} %%{time_total}\\n\"\n%s",
                   rgw.endpoint().c_str(), rgw.access_key().c_str(), rgw.secret_key().c_str(),
                   (unsigned long long)off, (unsigned long long)(off + buf.size() - 1),
                   i + 1 < reads ? "next\n" : "");
    }
    std::fclose(c);
    FILE *p = popen(("curl -sS -K " + cfg).c_str(), "r");
    std::vector<double> curl_lat;
    int code;
    double secs;
    while (p && std::fscanf(p, "%d %lf", &code, &secs) == 2) {
      if (code != 206) return Fail("curl ranged GET: HTTP " + std::to_string(code));
      curl_lat.push_back(secs * 1000);
    }
    if (p) pclose(p);
    (void)DefaultFs()->Remove(cfg);
    if (curl_lat.size() != size_t(reads)) return Fail("curl ranged GETs: not every answer read");
    std::printf(
        "ranged GET 64 KiB, same reads by one curl process (--next):     median %.2f ms  "
        "p90 %.2f ms  p99 %.2f ms  max %.2f ms\n",
        Median(curl_lat), Percentile(curl_lat, 0.9), Percentile(curl_lat, 0.99),
        *std::max_element(curl_lat.begin(), curl_lat.end()));
  }
  auto stats = s->stats();
  std::printf("S3Store: %llu requests, %llu retries\n", (unsigned long long)stats.requests,
              (unsigned long long)stats.retries);
  (void)DefaultFs()->Remove(path);
  rmdir(dir.c_str());
  return 0;
}
