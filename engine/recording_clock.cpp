// RecordingClock: contract in recording_clock.h.
#include "recording_clock.h"

namespace vdb {

namespace {
constexpr uint64_t kSecondNs = 1000000000;
constexpr uint64_t kBackwards = kSecondNs;  // input this far before the last: a restart
constexpr uint64_t kJump = 2 * kSecondNs;   // input this far after the last: a hole
}  // namespace

RecordingClock::Decision RecordingClock::Lead(uint64_t in, uint64_t dts, bool key,
                                              bool discont) const {
  if (!started_) return {Step::kNewRun, "first frame"};
  bool had = last_in_ != kNoTime;
  bool backwards = had && in + kBackwards < last_in_;
  bool jump = had && in > last_in_ + kJump;
  if (dts != kNoTime && last_dts_ != kNoTime && dts + shift_ < last_dts_) backwards = true;
  if (key && backwards) return {Step::kNewRun, "timestamps went backwards"};
  if (key && (discont || jump)) return {Step::kNewSegment, discont ? "discontinuity" : "jump"};
  if (backwards) return {Step::kDropUntilKey, "timestamps went backwards on a delta frame"};
  return {};
}

void RecordingClock::StartRun(uint64_t in, uint64_t store_end, uint64_t store_end_utc,
                              uint64_t now_utc) {
  shift_ = 0;
  if (store_end != kNoTime && in < store_end) {
    uint64_t gap = store_end_utc && now_utc > store_end_utc ? now_utc - store_end_utc : 0;
    shift_ = store_end + gap - in;
  }
  started_ = true;
  utc_base_ = now_utc;
  utc_base_pts_ = in + shift_;
}

}  // namespace vdb
