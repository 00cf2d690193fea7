// Helpers for engine tests: deterministic synthetic streams and comparisons.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "play_cursor.h"
#include "reader.h"
#include "writer.h"

namespace vdb::test {

constexpr uint64_t kSecond = 1000000000ull;

struct TestFrame {
  std::string data;
  uint64_t pts, dts, duration;
  uint32_t flags;
};

// `n` frames at `fps`, a keyframe every `gop`, sizes varying around `size`.
inline std::vector<TestFrame> MakeFrames(size_t n, size_t size = 1000, int gop = 30,
                                         uint64_t fps = 30, uint64_t start = 0, uint32_t seed = 1) {
  std::vector<TestFrame> out;
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; i++) {
    x = x * 1664525u + 1013904223u;
    size_t len = size / 2 + x % (size + 1);
    if (i % size_t(gop) == 0) len *= 3;
    std::string d(len, '\0');
    for (size_t k = 0; k < len; k++) d[k] = char((x >> (k % 24)) + k * 7 + i);
    // Exact timestamps the way GStreamer computes them (no drift at 30 fps).
    uint64_t t = start + i * kSecond / fps, next = start + (i + 1) * kSecond / fps;
    out.push_back({d, t, t, next - t, i % size_t(gop) == 0 ? kFlagKey : 0u});
  }
  return out;
}

inline Frame ToFrame(const TestFrame &t, uint64_t utc = 0) {
  Frame f;
  f.data = t.data.data();
  f.size = t.data.size();
  f.pts = t.pts;
  f.dts = t.dts;
  f.duration = t.duration;
  f.flags = t.flags;
  f.utc = utc;
  return f;
}

inline void AppendAll(Writer *w, const std::vector<TestFrame> &frames) {
  for (const auto &f : frames) ASSERT_TRUE(w->Append(ToFrame(f)).ok());
}

// A writer of stream "cam" in `store` with H.264 byte-stream caps set.
inline std::unique_ptr<Writer> OpenWriter(Fs *fs, const std::string &store, WriterOptions o = {}) {
  auto w = Writer::Open(fs, store, "cam", o, nullptr);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  if (!w.ok()) return nullptr;
  EXPECT_TRUE((*w)->SetCaps("h264", "video/x-h264, stream-format=byte-stream").ok());
  return std::move(w).value();
}

inline std::unique_ptr<Reader> OpenReader(Fs *fs, const std::string &store) {
  auto r = Reader::Open(fs, store, "cam");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

// Reads every frame of the stream in order.
inline std::vector<TestFrame> ReadAll(Reader *r, Status *error = nullptr) {
  std::vector<TestFrame> out;
  std::vector<uint8_t> buf;
  std::vector<FrameView> views;
  for (size_t s = 0; s < r->segments().size(); s++) {
    auto seg = r->Segment(s);
    if (!seg.ok()) {
      if (error) *error = seg.status();
      return out;
    }
    Status st = (*seg)->Read(0, (*seg)->size(), &buf, &views);
    if (!st.ok()) {
      if (error) *error = st;
      return out;
    }
    for (const auto &v : views)
      out.push_back(
          {std::string(reinterpret_cast<char *>(buf.data()) + v.data_offset, v.header.payload_size),
           v.header.pts, v.header.dts, v.header.duration, v.header.flags});
  }
  return out;
}

inline ::testing::AssertionResult SameFrames(const std::vector<TestFrame> &a,
                                             const std::vector<TestFrame> &b) {
  if (a.size() != b.size())
    return ::testing::AssertionFailure() << "frame count " << a.size() << " vs " << b.size();
  for (size_t i = 0; i < a.size(); i++) {
    if (a[i].data != b[i].data || a[i].pts != b[i].pts || a[i].dts != b[i].dts ||
        a[i].duration != b[i].duration || a[i].flags != b[i].flags)
      return ::testing::AssertionFailure() << "frame " << i << " differs";
  }
  return ::testing::AssertionSuccess();
}

// What a PlayCursor gave: frames, and where batches said DISCONT or a gap.
struct Played {
  std::vector<TestFrame> frames;
  std::vector<size_t> discont_at, gaps_at;
  std::vector<std::string> warnings;
};

// Drains the cursor until kEnd (or max_batches batches).
inline Status Drain(PlayCursor *c, Played *p, size_t max_batches = SIZE_MAX) {
  PlayBatch b;
  for (size_t n = 0; n < max_batches; n++) {
    Status st = c->Next(&b);
    if (!st.ok()) return st;
    if (b.discont) p->discont_at.push_back(p->frames.size());
    if (b.gap_start != kNoTime) p->gaps_at.push_back(p->frames.size());
    if (!b.warning.empty()) p->warnings.push_back(b.warning);
    for (const auto &v : b.frames)
      p->frames.push_back({std::string(reinterpret_cast<char *>(b.bytes.data()) + v.data_offset,
                                       v.header.payload_size),
                           v.header.pts, v.header.dts, v.header.duration, v.header.flags});
  }
  return Status::Ok();
}

// A fresh directory under $TMPDIR, removed by the destructor.
class TempDir {
 public:
  TempDir() {
    std::string tmpl =
        std::string(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") + "/vdbtest-XXXXXX";
    path_ = mkdtemp(tmpl.data()) ? tmpl : "";
  }
  ~TempDir() {
    if (!path_.empty()) (void)std::system(("rm -rf '" + path_ + "'").c_str());
  }
  const std::string &path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace vdb::test
