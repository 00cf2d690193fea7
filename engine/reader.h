// Reader: one stream of a store as one timeline, for playback.
//
// Open reads the store marker and the catalog only: its cost and memory do
// not depend on how many frames the stream holds. The store is hostile
// input: a catalog that is missing or damaged is replaced by the list the
// segment files give (in memory: readers never write), and segments newer
// than a truncated catalog knows are added (problem() says which). Segments are opened lazily
// (SegmentReader: index load) and a few are kept in an LRU cache.
//
// Positions here are (segment index in segments(), frame index in that
// segment) and are invalidated by Refresh(). Playback keeps its position as
// (segment id, frame) instead: see PlayCursor.
//
// A segment opened here stays readable after retention deletes it (the open
// file survives the unlink) until it leaves the cache; readers take no lock,
// so a store on a read-only mount plays.
//
// Thread rules: one thread at a time. Several Readers may read one stream
// while one Writer appends to it.
#pragma once

#include <list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "catalog.h"
#include "segment_reader.h"

namespace vdb {

enum class Snap { kBefore, kAfter, kNearest };

struct Position {
  size_t segment = 0;
  size_t frame = 0;
};

class Reader {
 public:
  // The Reader shows one track of the stream (SegmentReader): `track`.
  static Result<std::unique_ptr<Reader>> Open(Fs *fs, const std::string &store,
                                              const std::string &stream, size_t cache_segments = 4,
                                              uint32_t track = 0);
  // Re-reads the catalog tail; *changed tells if the segment list changed.
  Status Refresh(bool *changed);

  const std::vector<SegmentInfo> &segments() const { return catalog_.segments(); }
  const Catalog &catalog() const { return catalog_; }
  // Opens (or takes from the cache) segment i; the pointer stays valid until
  // the next Segment()/SegmentById() call that evicts it.
  Result<SegmentReader *> Segment(size_t i);
  // The same by id: from the cache even if the catalog no longer lists it
  // (deleted while being read); kNotFound if neither has it.
  Result<SegmentReader *> SegmentById(uint64_t id);

  uint32_t track() const { return track_; }
  // The stream's tracks, by track number: every track any segment has (the
  // catalog's track bits), with the caps of the first segment that has it
  // (its metadata; a segment still open, or whose metadata is damaged, is
  // opened). A stream continued with other tracks plays each where it has
  // it. O(segments) in memory, plus one small read per track.
  Result<std::vector<TrackMeta>> Tracks();

  // The keyframe for a seek to `pts`: kBefore = at or before (the first
  // keyframe of the stream if pts is earlier), kAfter = at or after,
  // kNearest = the closer of the two. On a track that does not lead its
  // segments (audio beside video), the frame at or before `pts` may lie in
  // the segment before or after the one whose time holds `pts` (frames are
  // stored as they arrive): it is looked for there too. kNotFound on an empty stream or past
  // the end with kAfter.
  Result<Position> FindKeyframe(uint64_t pts, Snap snap);
  // The position after `p` (next segment's first frame at a segment end);
  // kEnd past the last frame.
  Result<Position> Next(Position p);

  // The stream's time span [start, end) as the catalog tells it.
  uint64_t start_pts() const;
  uint64_t end_pts() const;
  // Recorded PTS just past the last frame stored now (grows while a writer
  // appends): end_pts() once the last segment is sealed; while it is
  // written, the largest PTS among its last 8 frames in decode order
  // (B-frames), one frame short (the index has no durations). kNoTime if
  // the stream holds nothing. Opens the last segment (as SegmentById).
  uint64_t StoredEndPts();
  const std::string &dir() const { return dir_; }
  // The Fs it reads through (not owned).
  Fs *fs() const { return fs_; }
  // What was wrong with the catalog when opened ("" if nothing).
  const std::string &problem() const { return problem_; }

 private:
  Reader() = default;
  Status AddFromFiles(uint64_t min_id, SegmentState unknown);
  Result<Position> KeyAfter(uint64_t pts);

  Fs *fs_ = nullptr;
  std::string dir_;
  Catalog catalog_;
  std::string problem_;
  bool from_files_ = false;  // segments were added from the files
  size_t cache_max_ = 4;
  uint32_t track_ = 0;
  std::list<std::pair<uint64_t, std::unique_ptr<SegmentReader>>> cache_;  // by id, MRU first
};

}  // namespace vdb
