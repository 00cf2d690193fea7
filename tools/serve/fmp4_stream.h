// Fmp4Streams: fragmented MP4 answered as it is produced (chunked), one
// thread per response running StreamFragmented. Memory per client is
// bounded: the producer waits while more than 4 MiB it made are not yet
// written to the client's socket, so a slow client slows its own pipeline
// and nothing else. A client that goes away stops its pipeline.
//
// Thread rules: Start, size and StopAll on the server's main context.
#pragma once

#include <libsoup/soup.h>

#include <list>
#include <memory>

#include "remux.h"

namespace vdbserve {

struct Fmp4Stream;

class Fmp4Streams {
 public:
  ~Fmp4Streams() { StopAll(); }
  size_t size() const { return streams_.size(); }
  // Answers `msg` (paused until done) with `req` remuxed to fragmented MP4.
  void Start(SoupServerMessage *msg, const vdbtool::RemuxRequest &req);
  // Stops every stream and waits for its thread.
  void StopAll();

 private:
  void End(const std::shared_ptr<Fmp4Stream> &s, const std::string &error);
  std::list<std::shared_ptr<Fmp4Stream>> streams_;
};

}  // namespace vdbserve
