#include "segment_writer.h"

#include <algorithm>

namespace vdb {
namespace {

constexpr size_t kIndexBatch = 4096;
constexpr size_t kWriteBuffer = 64 * 1024;

Status WithPath(const Status &st, const std::string &path) {
  return st.ok() ? st : Status(st.code(), path + ": " + st.message(), st.err());
}

// Writes `buf` at the end of `f` (whose size is *on_file). On failure the
// file is cut back to what it was and `buf` is kept, to be retried.
Status WriteOut(File *f, std::vector<uint8_t> *buf, uint64_t *on_file) {
  if (buf->empty()) return Status::Ok();
  Status st = f->Append(buf->data(), buf->size());
  if (!st.ok()) {
    (void)f->Truncate(*on_file);
    return WithPath(st, f->path());
  }
  *on_file += buf->size();
  buf->clear();
  return Status::Ok();
}

Result<std::unique_ptr<File>> CreateWithHeader(Fs *fs, const std::string &path, FileKind kind,
                                               uint64_t id) {
  VDB_ASSIGN_OR_RETURN(auto f, fs->Open(path, OpenMode::kCreateExcl));
  uint8_t hdr[kFileHeaderSize];
  EncodeFileHeader(FileHeader{kind, kFormatVersion, id}, hdr);
  VDB_RETURN_IF_ERROR(f->Append(hdr, sizeof hdr));
  return f;
}

}  // namespace

Result<std::unique_ptr<SegmentWriter>> SegmentWriter::Create(Fs *fs, const std::string &dir,
                                                             const SegmentMeta &meta,
                                                             uint64_t flush_interval) {
  std::unique_ptr<SegmentWriter> w(new SegmentWriter());
  w->fs_ = fs;
  w->dir_ = dir;
  w->meta_ = meta;
  w->meta_.info.state = SegmentState::kOpen;
  uint64_t id = meta.info.id;
  VDB_ASSIGN_OR_RETURN(w->frames_,
                       CreateWithHeader(fs, FramesPath(dir, id), FileKind::kFrames, id));
  VDB_ASSIGN_OR_RETURN(w->index_, CreateWithHeader(fs, IndexPath(dir, id), FileKind::kIndex, id));
  w->frames_size_ = w->written_ = w->index_size_ = kFileHeaderSize;
  w->wbuf_.reserve(kWriteBuffer);
  w->flush_interval_ = flush_interval;
  if (w->meta_.tracks.empty()) w->meta_.tracks.push_back(TrackMeta{0, meta.codec, meta.caps});
  w->meta_.info.tracks = TrackBits(w->meta_.tracks);
  for (const TrackMeta &t : w->meta_.tracks)
    VDB_RETURN_IF_ERROR(w->AppendRecord(WithTrack(kFlagConfig, t.track), kNoTime, kNoTime, kNoTime,
                                        t.caps.data(), t.caps.size()));
  w->meta_.info.bytes = w->frames_size_;
  VDB_RETURN_IF_ERROR(w->FlushFrames());
  VDB_RETURN_IF_ERROR(w->FlushIndex());
  // Nothing is synced yet: the first SyncFrames makes the frames and the
  // files' names durable. A crash before leaves a segment recovery drops.
  VDB_RETURN_IF_ERROR(
      WriteFileAtomic(fs, MetaPath(dir, id), SegmentMetaToJson(w->meta_), Durability::kNone));
  return w;
}

Status SegmentWriter::AppendRecord(uint32_t flags, uint64_t pts, uint64_t dts, uint64_t dur,
                                   const void *data, size_t size) {
  if (size > kMaxPayload)
    return Status(Code::kInvalidArgument,
                  "frame of " + std::to_string(size) + " bytes exceeds the 256 MiB record limit");
  RecordHeader h;
  h.payload_size = uint32_t(size);
  h.pts = pts;
  h.dts = dts;
  h.duration = dur;
  h.flags = flags;
  uint8_t hdr[kRecordHeaderSize];
  EncodeRecordHeader(&h, data, hdr);
  size_t rec = sizeof hdr + size;
  if (wbuf_.size() + rec > kWriteBuffer) VDB_RETURN_IF_ERROR(FlushFrames());
  if (rec > kWriteBuffer) {  // large: straight to the file
    Slice parts[2] = {{hdr, sizeof hdr}, {data, size}};
    Status st = frames_->Append(parts, 2);
    if (!st.ok()) {
      (void)frames_->Truncate(written_);  // drop the torn record
      return WithPath(st, frames_->path());
    }
    written_ += rec;
  } else {
    if (wbuf_.empty()) wbuf_first_ = pts != kNoTime ? pts : dts;
    wbuf_.insert(wbuf_.end(), hdr, hdr + sizeof hdr);
    wbuf_.insert(wbuf_.end(), static_cast<const uint8_t *>(data),
                 static_cast<const uint8_t *>(data) + size);
  }
  IndexEntry e{frames_size_, flags, pts, dts, uint32_t(size)};
  size_t at = index_buf_.size();
  index_buf_.resize(at + kIndexEntrySize);
  EncodeIndexEntry(e, index_buf_.data() + at);
  last_offset_ = frames_size_;
  frames_size_ += rec;
  // The index never points past what is on file. Failures: retried by Sync.
  if (index_buf_.size() >= kIndexBatch && FlushFrames().ok()) (void)FlushIndex();
  return Status::Ok();
}

Status SegmentWriter::FlushFrames() {
  return WriteOut(frames_.get(), &wbuf_, &written_);
}

bool SegmentWriter::HasTrack(uint32_t track) const {
  for (const TrackMeta &t : meta_.tracks)
    if (t.track == track) return true;
  return false;
}

Status SegmentWriter::AddTrack(const TrackMeta &track) {
  if (HasTrack(track.track) || track.track > kMaxTrack)
    return Status(Code::kInvalidArgument,
                  "segment already has track " + std::to_string(track.track));
  VDB_RETURN_IF_ERROR(AppendRecord(WithTrack(kFlagConfig, track.track), kNoTime, kNoTime, kNoTime,
                                   track.caps.data(), track.caps.size()));
  meta_.tracks.push_back(track);
  meta_.info.tracks = TrackBits(meta_.tracks);
  meta_.info.bytes = frames_size_;
  return Status::Ok();
}

Status SegmentWriter::Append(const Frame &f) {
  undo_ = Undo{meta_.info, meta_.first_dts, meta_.keyframes};
  VDB_RETURN_IF_ERROR(AppendRecord(WithTrack(f.flags & ~kFlagConfig, f.track), f.pts, f.dts,
                                   f.duration, f.data, f.size));
  SegmentInfo &info = meta_.info;
  if (info.frames == 0) {
    info.first_pts = f.pts;
    meta_.first_dts = f.dts;
    info.utc_start = f.utc;
  }
  info.frames++;
  if (f.flags & kFlagKey) meta_.keyframes++;
  uint64_t end = f.pts == kNoTime ? f.dts : f.pts;
  if (end != kNoTime && f.duration != kNoTime) end += f.duration;
  if (end != kNoTime && (info.end_pts == kNoTime || end > info.end_pts)) info.end_pts = end;
  info.bytes = frames_size_;
  uint64_t t = f.pts != kNoTime ? f.pts : f.dts;
  if (!wbuf_.empty() && t != kNoTime && wbuf_first_ != kNoTime && t >= wbuf_first_ &&
      t - wbuf_first_ >= flush_interval_) {
    Status st = FlushFrames();
    if (!st.ok()) {  // all or nothing: this frame is taken back, the rest stays buffered
      (void)DropLast();
      return st;
    }
  }
  return Status::Ok();
}

Status SegmentWriter::FlushIndex() {
  return WriteOut(index_.get(), &index_buf_, &index_size_);
}

Status SegmentWriter::SyncFrames() {
  VDB_RETURN_IF_ERROR(FlushFrames());
  VDB_RETURN_IF_ERROR(WithPath(frames_->Sync(), frames_->path()));
  if (!dir_synced_) {
    VDB_RETURN_IF_ERROR(fs_->SyncDir(dir_));
    dir_synced_ = true;
  }
  synced_frames_ = meta_.info.frames;
  return Status::Ok();
}

Status SegmentWriter::DropLast() {
  if (index_buf_.size() >= kIndexEntrySize) {
    index_buf_.resize(index_buf_.size() - kIndexEntrySize);
  } else {  // its entry was already written out
    VDB_RETURN_IF_ERROR(index_->Truncate(index_size_ - kIndexEntrySize));
    index_size_ -= kIndexEntrySize;
  }
  if (last_offset_ >= written_) {  // still buffered
    wbuf_.resize(size_t(last_offset_ - written_));
  } else {
    VDB_RETURN_IF_ERROR(frames_->Truncate(last_offset_));
    written_ = last_offset_;
  }
  frames_size_ = last_offset_;
  meta_.info = undo_.info;
  meta_.first_dts = undo_.first_dts;
  meta_.keyframes = undo_.keyframes;
  return Status::Ok();
}

Status SegmentWriter::Sync() {
  VDB_RETURN_IF_ERROR(SyncFrames());
  return FlushIndex();
}

Status SegmentWriter::Seal() {
  VDB_RETURN_IF_ERROR(FlushFrames());
  VDB_RETURN_IF_ERROR(FlushIndex());
  meta_.info.state = SegmentState::kSealed;
  VDB_RETURN_IF_ERROR(WriteFileAtomic(fs_, MetaPath(dir_, meta_.info.id), SegmentMetaToJson(meta_),
                                      Durability::kData));
  dir_synced_ = false;  // one directory sync covers the new names and the rename
  return SyncFrames();
}

}  // namespace vdb
