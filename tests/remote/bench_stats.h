// Timing and order statistics for the object-storage benchmarks (no
// GStreamer, unlike tests/bench/bench_util.h).
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

namespace vdb::bench {

using Clock = std::chrono::steady_clock;

inline double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The value below which a fraction p of the samples lie (p = 0.5: median).
inline double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(p * double(v.size())))];
}

inline double Median(std::vector<double> v) {
  return Percentile(std::move(v), 0.5);
}

}  // namespace vdb::bench
