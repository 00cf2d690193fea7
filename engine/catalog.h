// Catalog: the list of a stream's segments, in time order, kept in one
// append-only binary file (<stream>/catalog.vdbc) so that opening a stream
// costs one read, independent of how many frames it holds.
//
// Records (64 bytes, CRC32C each) say OPEN, SEALED or DELETED for a segment id.
// Bad records at the end with no valid record after them (a torn append, or
// the zeros a power loss leaves in an unsynced tail) are a clean end
// (torn_bytes() > 0 tells the writer to cut them); a bad record followed by a
// valid one, or by more than 64 KiB, is corruption (kCorrupt): the writer
// rebuilds the catalog from the segment files and a reader builds the same
// list in memory (RebuildFromFiles in recovery.h).
//
// Bounded work: the file is read in 1 MiB chunks and memory is proportional
// to its valid records, never to its size; records in any order load in
// O(n log n).
//
// Thread rules: a Catalog object is a value; not safe for concurrent mutation.
// Only the Writer (holding the stream lock) appends or rewrites the file.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "file.h"
#include "segment_info.h"

namespace vdb {

constexpr size_t kCatalogRecordSize = 64;

enum class CatalogOp : uint8_t { kOpen = 1, kSealed = 2, kDeleted = 3 };

class Catalog {
 public:
  // Loads <dir>/catalog.vdbc. A missing file is an empty catalog.
  static Result<Catalog> Load(Fs *fs, const std::string &dir);

  // Live segments (not deleted), ordered by id, which is time order.
  const std::vector<SegmentInfo> &segments() const { return segments_; }
  // Index of the last segment with first_pts <= pts, or of the first one if
  // pts is earlier than all; -1 if empty. O(log segments).
  long FindByTime(uint64_t pts) const;
  long FindById(uint64_t id) const;
  uint64_t max_id() const { return max_id_; }
  uint64_t epoch() const { return epoch_; }
  uint64_t valid_size() const { return valid_size_; }
  uint64_t torn_bytes() const { return torn_bytes_; }
  // Records that a rewrite would drop (superseded OPENs, DELETEDs).
  uint64_t dead_records() const { return dead_records_; }

  // Applies one record to the in-memory view.
  void Apply(CatalogOp op, const SegmentInfo &info);
  // Applies records in file order: O(log n) each in id order, O(n log n) in all otherwise.
  void ApplyAll(const std::vector<std::pair<CatalogOp, SegmentInfo>> &records);
  // Applies records appended since valid_size(); for readers following a
  // writer. *reloaded is set when the file was rewritten and reread whole.
  Status Refresh(Fs *fs, const std::string &dir, bool *reloaded);

  static std::string Path(const std::string &dir) { return JoinPath(dir, "catalog.vdbc"); }
  static void EncodeRecord(CatalogOp op, const SegmentInfo &info, uint8_t *out);

 private:
  Status ReadFrom(File *f, uint64_t from, uint64_t size);

  std::vector<SegmentInfo> segments_;
  uint64_t max_id_ = 0;
  uint64_t epoch_ = 0;
  uint64_t valid_size_ = 0;
  uint64_t torn_bytes_ = 0;
  uint64_t dead_records_ = 0;
};

// Appends records to the catalog file; owned by the Writer.
class CatalogFile {
 public:
  // Opens (creating with a header if needed) and cuts a torn tail.
  static Result<std::unique_ptr<CatalogFile>> Open(Fs *fs, const std::string &dir,
                                                   const Catalog &loaded);
  // Writes a fresh catalog holding exactly `segments` (temp + rename). When
  // `max_id` is above the last of them (its segment was deleted), a DELETED
  // record for it is kept, so that ids are never given out again.
  static Status Rewrite(Fs *fs, const std::string &dir, const std::vector<SegmentInfo> &segments,
                        uint64_t max_id = 0);
  // The bytes Rewrite writes (a remote store's catalog object is these).
  static std::string Encode(const std::vector<SegmentInfo> &segments, uint64_t max_id = 0);
  // Appends one record; with `sync`, makes it durable.
  Status Append(CatalogOp op, const SegmentInfo &info, bool sync);
  Status Sync() { return file_->Sync(); }
  Result<uint64_t> Size() { return file_->Size(); }

 private:
  std::unique_ptr<File> file_;
};

}  // namespace vdb
