// Playing from a bucket against playing from local disk, on a real Ceph RGW
// started here (memstore OSD, 127.0.0.1), with the same footage: a store of
// 1-minute segments at about 2 Mbit/s (30 fps, a keyframe every 2 s).
//  - upload throughput of the store (vdb's StreamUploader) against
//    `curl -T --aws-sigv4` of the same files to the same server;
//  - time to first frame: open the stream, seek to its start, read the
//    first batch (a fresh Reader each time), bucket against local;
//  - KEY_UNIT seek latency: random seeks and the first batch after each,
//    bucket against local, and the bytes fetched per seek from the bucket
//    against the GOP and the segment sizes.
// --quick: 3 segments, fewer rounds (keeps it from rotting). Exit 77 (skip)
// without radosgw. Prints figures and ratios; asserts nothing about time.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "../engine/test_util.h"
#include "bench_stats.h"
#include "play_cursor.h"
#include "remote_fs.h"
#include "rgw_server.h"
#include "s3_store.h"
#include "uploader.h"

using namespace vdb;
using namespace vdb::remote;
using namespace vdb::bench;

namespace {

int Fail(const std::string &what) {
  std::fprintf(stderr, "bucket_play_bench: %s\n", what.c_str());
  return 1;
}

// Open, seek to `pts`, first batch: seconds.
double FirstFrame(Fs *fs, const std::string &store, uint64_t pts, bool *ok) {
  auto t0 = Clock::now();
  auto r = Reader::Open(fs, store, "cam");
  PlayBatch b;
  *ok = r.ok();
  if (!r.ok()) return 0;
  PlayCursor c(r->get());
  PlayOptions o;
  *ok = c.Seek(pts, Snap::kBefore, o).ok() && c.Next(&b).ok() && !b.frames.empty();
  return Since(t0);
}

}  // namespace

int main(int argc, char **argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  if (!test::RadosgwInstalled()) return test::SkipNoRadosgw("bucket_play_bench");
  const int segments = quick ? 3 : 10, rounds = quick ? 3 : 9, seeks = quick ? 10 : 60;
  const uint64_t kSec = test::kSecond;

  test::TempDir dir;
  const std::string store = dir.path() + "/store";
  {
    WriterOptions o;
    o.max_segment_duration = 60 * kSec;
    auto w = test::OpenWriter(DefaultFs(), store, o);
    if (!w) return Fail("writer");
    // ~8.3 KB a frame on average, keyframes 3x: about 2 Mbit/s.
    auto frames = test::MakeFrames(size_t(segments) * 60 * 30, 6000, 60);
    for (const auto &f : frames)
      if (!w->Append(test::ToFrame(f)).ok()) return Fail("append");
    if (!w->Close().ok()) return Fail("close");
  }
  auto local = Reader::Open(DefaultFs(), store, "cam");
  if (!local.ok()) return Fail(local.status().ToString());
  uint64_t store_bytes = 0;
  for (const auto &s : (*local)->segments()) store_bytes += s.bytes;
  const uint64_t first_pts = (*local)->start_pts(), span = (*local)->end_pts() - first_pts;
  std::printf("footage: %d segment(s) of 60 s, %.1f MB (%.2f Mbit/s)\n",
              int((*local)->segments().size()), store_bytes / 1e6,
              store_bytes * 8 / 1e6 / (double(span) / kSec));

  test::RgwServer rgw;
  std::string err;
  if (!rgw.Start(&err)) return Fail(err);
  std::printf("RGW (memstore) start: %.2f s\n", rgw.start_seconds());
  S3Options so;
  so.endpoint = rgw.endpoint();
  so.bucket = "bench";
  Credentials creds{rgw.access_key(), rgw.secret_key(), "us-east-1", "bench"};
  auto s3 = S3Store::Open(so, creds);
  if (!s3.ok() || !(*s3)->CreateBucket().ok()) return Fail("bucket");
  ObjectStore *bucket = s3->get();

  // Upload: vdb against curl -T of the same files, alternating.
  std::vector<double> vdb_up, curl_up;
  for (int round = 0; round < (quick ? 1 : 3); round++) {
    std::string prefix = "up" + std::to_string(round);
    if (!EnsureRemoteStore(bucket, prefix).ok()) return Fail("marker");
    auto t0 = Clock::now();
    auto up = UploadStream(bucket, prefix, DefaultFs(), store, "cam");
    if (!up.ok()) return Fail(up.status().ToString());
    vdb_up.push_back(Since(t0));
    std::string cmd = "cd '" + store +
                      "/cam' && for f in *.vdbf *.vdbi *.json; do curl -sS -f -T "
                      "\"$f\" -H x-amz-content-sha256:UNSIGNED-PAYLOAD --aws-sigv4 "
                      "aws:amz:us-east-1:s3 --user '" +
                      rgw.access_key() + ":" + rgw.secret_key() + "' " + rgw.endpoint() +
                      "/bench/curl" + std::to_string(round) +
                      "/cam/\"$f\" >/dev/null || exit 1; done";
    t0 = Clock::now();
    if (std::system(cmd.c_str()) != 0) return Fail("curl -T");
    curl_up.push_back(Since(t0));
  }
  double vu = store_bytes / 1e6 / Median(vdb_up), cu = store_bytes / 1e6 / Median(curl_up);
  std::printf("upload %.1f MB: vdb %.1f MB/s, curl -T (a process per file) %.1f MB/s: ratio %.2f\n",
              store_bytes / 1e6, vu, cu, vu / cu);

  RemoteFs rfs(bucket);
  // Time to first frame, fresh each time (the bucket's catalog, the first
  // segment's index, the first GOP), bucket against local.
  std::vector<double> ttff_local, ttff_bucket;
  for (int i = 0; i < rounds; i++) {
    bool ok1 = false, ok2 = false;
    ttff_local.push_back(FirstFrame(DefaultFs(), store, first_pts, &ok1));
    ttff_bucket.push_back(FirstFrame(&rfs, "up0", first_pts, &ok2));
    if (!ok1 || !ok2) return Fail("first frame");
  }
  std::printf("time to first frame: local %.2f ms, bucket %.2f ms (median of %d): ratio %.1f\n",
              Median(ttff_local) * 1e3, Median(ttff_bucket) * 1e3, rounds,
              Median(ttff_bucket) / Median(ttff_local));

  // KEY_UNIT seeks on an open stream: random targets, the batch after each.
  auto remote = Reader::Open(&rfs, "up0", "cam");
  if (!remote.ok()) return Fail(remote.status().ToString());
  std::mt19937_64 rng(7);
  std::vector<double> seek_local, seek_bucket, fetched;
  PlayCursor cl(local->get()), cb(remote->get());
  PlayOptions po;
  po.batch_frames = 60;  // one GOP (2 s)
  for (int i = 0; i < seeks; i++) {
    uint64_t target = first_pts + rng() % span;
    PlayBatch b;
    auto t0 = Clock::now();
    if (!cl.Seek(target, Snap::kBefore, po).ok() || !cl.Next(&b).ok()) return Fail("local seek");
    seek_local.push_back(Since(t0));
    uint64_t before = rfs.stats().bytes_fetched;
    t0 = Clock::now();
    if (!cb.Seek(target, Snap::kBefore, po).ok() || !cb.Next(&b).ok()) return Fail("bucket seek");
    seek_bucket.push_back(Since(t0));
    fetched.push_back(double(rfs.stats().bytes_fetched - before));
  }
  double gop = double(store_bytes) / (double(span) / kSec / 2);
  double seg = double(store_bytes) / double((*local)->segments().size());
  std::printf(
      "KEY_UNIT seek + one GOP: local median %.2f ms p90 %.2f ms, bucket median %.2f ms "
      "p90 %.2f ms: ratio %.1f\n",
      Median(seek_local) * 1e3, Percentile(seek_local, 0.9) * 1e3, Median(seek_bucket) * 1e3,
      Percentile(seek_bucket, 0.9) * 1e3, Median(seek_bucket) / Median(seek_local));
  std::printf(
      "bytes fetched per seek: median %.0f KB (GOP %.0f KB, segment %.0f KB: %.1f%% of "
      "the segment)\n",
      Median(fetched) / 1e3, gop / 1e3, seg / 1e3, 100 * Median(fetched) / seg);
  return 0;
}
