// vdb serve: routes, stream lookup, range checks; rendering runs on workers
// (render.h) and the answers come back to the main context.
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>
#include <libsoup/soup.h>

#include <cinttypes>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "byte_cache.h"
#include "export_plan.h"
#include "fmp4_stream.h"
#include "hls_playlist.h"
#include "reader.h"
#include "render.h"
#include "responses.h"
#include "serve.h"
#include "store.h"
#include "store_location.h"
#include "stream_info.h"
#include "time_parse.h"
#include "timeline.h"

#ifndef VDB_WEB_DIR
#define VDB_WEB_DIR ""
#endif
#ifndef VDB_WEB_SRC_DIR
#define VDB_WEB_SRC_DIR ""
#endif

namespace vdbserve {

namespace {

using nlohmann::json;
const uint64_t kSec = 1000000000ull;

// A request's failure: HTTP status and message.
struct Refusal {
  guint status = 0;
  std::string message;
  explicit operator bool() const { return status != 0; }
};

guint HttpStatusOf(const vdb::Status &st) {
  switch (st.code()) {
    case vdb::Code::kNotFound:
      return SOUP_STATUS_NOT_FOUND;
    case vdb::Code::kInvalidArgument:
      return SOUP_STATUS_BAD_REQUEST;
    case vdb::Code::kUnsupported:
      return SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE;
    default:
      return SOUP_STATUS_INTERNAL_SERVER_ERROR;
  }
}

const char *Param(GHashTable *query, const char *name) {
  return query ? static_cast<const char *>(g_hash_table_lookup(query, name)) : nullptr;
}

// "avc1.PPCCLL" (RFC 6381) from the SPS in a byte-stream H.264 keyframe of
// the stream's newest segment (its caps have no codec_data to say it); ""
// when there is none.
std::string H264CodecFromSps(vdb::Reader *r) {
  if (r->segments().empty()) return "";
  auto seg = r->Segment(r->segments().size() - 1);
  std::vector<uint8_t> buf;
  std::vector<vdb::FrameView> frames;
  if (!seg.ok() || (*seg)->size() == 0 || !(*seg)->Read(0, 1, &buf, &frames).ok() || frames.empty())
    return "";
  const uint8_t *d = buf.data() + frames[0].data_offset;
  size_t n = frames[0].header.payload_size;
  for (size_t i = 0; i + 6 < n; i++)
    if (d[i] == 0 && d[i + 1] == 0 && d[i + 2] == 1 && (d[i + 3] & 0x1f) == 7) {
      char c[16];
      std::snprintf(c, sizeof c, "avc1.%02X%02X%02X", d[i + 4], d[i + 5], d[i + 6]);
      return c;
    }
  return "";
}

// VP9 and AV1 caps without codec_data give a bare "vp09"/"av01", which
// Media Source Extensions refuse: the full form, from the caps' profile and
// bit depth (the level is not checked by browsers: a common one is named).
std::string CompleteCodec(const std::string &codec, const std::string &caps_text) {
  GstCaps *caps = gst_caps_from_string(caps_text.c_str());
  GstStructure *st = caps && !gst_caps_is_empty(caps) ? gst_caps_get_structure(caps, 0) : nullptr;
  const char *profile = st ? gst_structure_get_string(st, "profile") : nullptr;
  guint depth = 8;
  if (st) gst_structure_get_uint(st, "bit-depth-luma", &depth);
  char out[32];
  if (codec == "vp09")
    std::snprintf(out, sizeof out, "vp09.%02d.31.%02u", profile ? atoi(profile) : 0, depth);
  else
    std::snprintf(out, sizeof out, "av01.%d.08M.%02u",
                  profile && g_str_equal(profile, "high")           ? 1
                  : profile && g_str_equal(profile, "professional") ? 2
                                                                    : 0,
                  depth);
  if (caps) gst_caps_unref(caps);
  return out;
}

// The RFC 6381 MIME type of the stream's tracks in (fragmented) MP4, for
// Media Source Extensions; "" when a track has none.
std::string MimeOf(vdb::Reader *r, const std::vector<vdb::TrackMeta> &tracks) {
  std::string codecs;
  for (const vdb::TrackMeta &t : tracks) {
    GstCaps *caps = gst_caps_from_string(t.caps.c_str());
    gchar *c = caps ? gst_codec_utils_caps_get_mime_codec(caps) : nullptr;
    if (caps) gst_caps_unref(caps);
    if (!c) return "";
    std::string codec = c;
    g_free(c);
    if (codec == "avc1") codec = H264CodecFromSps(r);
    if (codec == "vp09" || codec == "av01") codec = CompleteCodec(codec, t.caps);
    if (codec.empty()) return "";
    codecs += (codecs.empty() ? "" : ", ") + codec;
  }
  bool video = !tracks.empty() && !vdb::IsAudioCodec(tracks.front().codec);
  return std::string(video ? "video" : "audio") + "/mp4; codecs=\"" + codecs + "\"";
}

// The tracks fragmented MP4 and MPEG-TS carry: the video, AAC and Opus (a
// browser plays the video of a camera whose audio is G.711).
std::vector<vdb::TrackMeta> PlayableTracks(const std::vector<vdb::TrackMeta> &tracks) {
  std::vector<vdb::TrackMeta> out;
  for (const vdb::TrackMeta &t : tracks)
    if (!vdb::IsAudioCodec(t.codec) || t.codec == "aac" || t.codec == "opus") out.push_back(t);
  return out;
}

class Server {
 public:
  explicit Server(const ServeOptions &o) : o_(o), cache_(o.cache_bytes) {}
  ~Server();
  int Run();

 private:
  struct Stream {
    std::unique_ptr<vdb::Reader> reader;
  };

  static void OnRequest(SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *query,
                        gpointer self) {
    static_cast<Server *>(self)->Handle(msg, path, query);
  }
  void Handle(SoupServerMessage *msg, const std::string &path, GHashTable *query);
  void HandleStream(SoupServerMessage *msg, const std::string &name, const std::string &resource,
                    GHashTable *query);
  void Static(SoupServerMessage *msg, const std::string &file);
  json Describe(vdb::Reader *r, const std::string &name);

  // The stream's reader, refreshed; nullptr with *refusal set.
  vdb::Reader *Open(const std::string &name, Refusal *refusal);
  // [start, end) in UTC from start/end/duration; defaults: the recording.
  Refusal ParseRange(GHashTable *query, vdb::Reader *r, uint64_t *start, uint64_t *end);

  void GetFile(SoupServerMessage *msg, const std::string &name, const std::string &ext,
               GHashTable *query);
  void GetFragmented(SoupServerMessage *msg, const std::string &name, GHashTable *query);
  void Playlist(SoupServerMessage *msg, const std::string &name, bool live, GHashTable *query);
  void Segment(SoupServerMessage *msg, const std::string &name, const std::string &id);
  void Thumbnail(SoupServerMessage *msg, const std::string &name, GHashTable *query);

  // Renders `key` once however many ask at once: `work` runs on a worker and
  // returns the bytes (and a file to unlink on eviction) or an error; each
  // waiting message is then answered from the bytes.
  struct Waiter {
    SoupServerMessage *msg;
    std::string type, disposition;
  };
  struct Job {
    std::string key;
    bool cache = true;
    std::function<GBytes *(std::string *path, std::string *error)> work;
    std::vector<Waiter> waiters;
    GBytes *bytes = nullptr;
    std::string path, error;
  };
  void Render(SoupServerMessage *msg, const std::string &key, bool cache, const std::string &type,
              const std::string &disposition,
              std::function<GBytes *(std::string *, std::string *)> work);
  static void RunJob(gpointer job, gpointer self);
  void FinishJob(Job *job);
  std::string TempPath();

  ServeOptions o_;
  SoupServer *server_ = nullptr;
  GMainLoop *loop_ = nullptr;
  GThreadPool *pool_ = nullptr;
  ByteCache cache_;
  std::map<std::string, Stream> streams_;
  std::map<std::string, std::unique_ptr<Job>> jobs_;  // by key, while rendering
  Fmp4Streams fmp4_;
  uint64_t temp_counter_ = 0;
};

Server::~Server() {
  if (pool_) g_thread_pool_free(pool_, FALSE, TRUE);  // waits for the renders
  for (auto &[key, job] : jobs_) {
    (void)key;
    FinishJob(job.release());
  }
  fmp4_.StopAll();
  if (server_) g_object_unref(server_);
  if (loop_) g_main_loop_unref(loop_);
}

std::string Server::TempPath() {
  return o_.cache_dir + "/r" + std::to_string(++temp_counter_);
}

vdb::Reader *Server::Open(const std::string &name, Refusal *refusal) {
  // Only names the store lists: a name is never a path.
  auto names = vdb::ListStreams(o_.fs, o_.store);
  if (!names.ok()) {
    *refusal = {SOUP_STATUS_INTERNAL_SERVER_ERROR, names.status().ToString()};
    return nullptr;
  }
  bool known = false;
  for (const auto &n : names.value()) known = known || n == name;
  if (!known) {
    streams_.erase(name);
    *refusal = {SOUP_STATUS_NOT_FOUND, "no stream named '" + name + "' in the store"};
    return nullptr;
  }
  Stream &s = streams_[name];
  bool changed = false;
  if (s.reader && !s.reader->Refresh(&changed).ok()) s.reader.reset();
  if (!s.reader) {
    auto r = vdb::Reader::Open(o_.fs, o_.store, name);
    if (!r.ok()) {
      streams_.erase(name);
      *refusal = {HttpStatusOf(r.status()), r.status().ToString()};
      return nullptr;
    }
    s.reader = std::move(r.value());
  }
  return s.reader.get();
}

json Server::Describe(vdb::Reader *r, const std::string &name) {
  json info = vdbtool::StreamInfo(r, name);
  json out = {{"stream", name},           {"live", info["open"]},
              {"tracks", info["tracks"]}, {"segments", info["segments"]},
              {"bytes", info["bytes"]},   {"ranges", json::array()},
              {"gaps", json::array()}};
  std::vector<vdb::TrackMeta> tracks;
  for (const auto &t : info["tracks"])
    tracks.push_back({t["track"].get<uint32_t>(), t["codec"], t["caps"]});
  out["mime"] = MimeOf(r, PlayableTracks(tracks));
  uint64_t prev_end = 0;
  for (const auto &rg : info["ranges"]) {
    uint64_t a = rg["utc_start"], b = rg["utc_end"];
    if (!a || !b) continue;  // no wall clock: not on the timeline
    if (prev_end)
      out["gaps"].push_back({{"start", vdb::FormatUtc(prev_end)},
                             {"end", vdb::FormatUtc(a)},
                             {"start_ns", prev_end},
                             {"end_ns", a}});
    out["ranges"].push_back({{"start", vdb::FormatUtc(a)},
                             {"end", vdb::FormatUtc(b)},
                             {"start_ns", a},
                             {"end_ns", b},
                             {"segments", rg["segments"]}});
    prev_end = b;
  }
  if (!out["ranges"].empty()) {
    out["start_ns"] = out["ranges"].front()["start_ns"];
    out["end_ns"] = out["ranges"].back()["end_ns"];
    out["start"] = out["ranges"].front()["start"];
    out["end"] = out["ranges"].back()["end"];
  }
  if (info.contains("problem")) out["problem"] = info["problem"];
  return out;
}

Refusal Server::ParseRange(GHashTable *query, vdb::Reader *r, uint64_t *start, uint64_t *end) {
  const auto &segs = r->segments();
  if (segs.empty() || !segs.front().utc_start)
    return {SOUP_STATUS_NOT_FOUND, "the stream holds no recording with a wall-clock time"};
  vdb::Timeline t = vdb::Timeline::Build(segs, vdb::kNoTime, false);
  uint64_t first = t.PtsToUtc(t.start_pts()), last = t.PtsToUtc(t.end_pts());
  const char *s = Param(query, "start"), *e = Param(query, "end"), *d = Param(query, "duration");
  *start = first;
  *end = last;
  if (s && !vdb::ParseUtc(s, start))
    return {SOUP_STATUS_BAD_REQUEST,
            std::string("bad start '") + s + "': use ISO 8601 UTC or ns since 1970"};
  if (e && !vdb::ParseUtc(e, end))
    return {SOUP_STATUS_BAD_REQUEST,
            std::string("bad end '") + e + "': use ISO 8601 UTC or ns since 1970"};
  if (d && !e) {
    char *rest = nullptr;
    double sec = g_ascii_strtod(d, &rest);
    if (rest == d || *rest || !(sec > 0) || sec > 1e9)
      return {SOUP_STATUS_BAD_REQUEST, std::string("bad duration '") + d + "': use seconds"};
    *end = *start + uint64_t(sec * kSec);
  }
  if (*start >= *end) return {SOUP_STATUS_BAD_REQUEST, "the range's start is not before its end"};
  if (*end <= first || *start >= last)
    return {SOUP_STATUS_NOT_FOUND, "nothing recorded between " + vdb::FormatUtc(*start) + " and " +
                                       vdb::FormatUtc(*end) + " (the recording spans " +
                                       vdb::FormatUtc(first) + " .. " + vdb::FormatUtc(last) + ")"};
  *start = std::max(*start, first);
  *end = std::min(*end, last);
  if (*end - *start > o_.max_range)
    return {SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
            "the range is longer than the " + std::to_string(o_.max_range / kSec) +
                " s this server serves at once (--max-range): ask for a shorter one"};
  return {};
}

void Server::Handle(SoupServerMessage *msg, const std::string &path, GHashTable *query) {
  const char *method = soup_server_message_get_method(msg);
  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow",
                                 "GET, HEAD");
    return RespondError(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "only GET and HEAD are served");
  }
  if (path == "/" || path == "/index.html") return Static(msg, "index.html");
  if (path == "/app.js" || path == "/style.css") return Static(msg, path.substr(1));
  const std::string api = "/api/streams";
  if (path == api || path == api + "/") {
    auto names = vdb::ListStreams(o_.fs, o_.store);
    if (!names.ok()) return RespondError(msg, 500, names.status().ToString());
    json out = json::array();
    for (const auto &n : names.value()) {
      Refusal refusal;
      vdb::Reader *r = Open(n, &refusal);
      if (r) out.push_back(Describe(r, n));
    }
    return RespondJson(msg, out);
  }
  if (path.rfind(api + "/", 0) == 0) {
    std::string rest = path.substr(api.size() + 1);
    size_t slash = rest.find('/');
    gchar *name = g_uri_unescape_string(rest.substr(0, slash).c_str(), nullptr);
    if (!name) return RespondError(msg, SOUP_STATUS_BAD_REQUEST, "bad stream name");
    std::string n = name;
    g_free(name);
    return HandleStream(msg, n, slash == std::string::npos ? "" : rest.substr(slash + 1), query);
  }
  RespondError(msg, SOUP_STATUS_NOT_FOUND, "no such resource: " + path);
}

void Server::HandleStream(SoupServerMessage *msg, const std::string &name,
                          const std::string &resource, GHashTable *query) {
  Refusal refusal;
  vdb::Reader *r = Open(name, &refusal);
  if (!r) return RespondError(msg, refusal.status, refusal.message);
  if (resource.empty()) return RespondJson(msg, Describe(r, name));
  for (const char *ext : {"mp4", "mkv", "webm"})
    if (resource == std::string("video.") + ext) return GetFile(msg, name, ext, query);
  if (resource == "video.fmp4") return GetFragmented(msg, name, query);
  if (resource == "index.m3u8" || resource == "live.m3u8")
    return Playlist(msg, name, resource == "live.m3u8", query);
  if (resource == "thumbnail.jpg") return Thumbnail(msg, name, query);
  const std::string seg = "segments/";
  if (resource.rfind(seg, 0) == 0 && resource.size() > seg.size() + 3 &&
      resource.compare(resource.size() - 3, 3, ".ts") == 0)
    return Segment(msg, name, resource.substr(seg.size(), resource.size() - seg.size() - 3));
  RespondError(msg, SOUP_STATUS_NOT_FOUND,
               "stream '" + name + "' has no resource '" + resource + "'");
}

void Server::Static(SoupServerMessage *msg, const std::string &file) {
  // A fixed list of names: nothing from the request reaches a path.
  for (std::string dir : {o_.web_dir, std::string(VDB_WEB_DIR), std::string(VDB_WEB_SRC_DIR)}) {
    if (dir.empty()) continue;
    GBytes *b = MapFile(dir + "/" + file);
    if (!b) continue;
    const char *type = file == "index.html" ? "text/html; charset=utf-8"
                       : file == "app.js"   ? "text/javascript; charset=utf-8"
                                            : "text/css; charset=utf-8";
    RespondBytes(msg, b, type);
    g_bytes_unref(b);
    return;
  }
  RespondError(msg, SOUP_STATUS_NOT_FOUND, "the web page is not installed (--web DIR)");
}

void Server::GetFile(SoupServerMessage *msg, const std::string &name, const std::string &ext,
                     GHashTable *query) {
  vdb::Reader *r = streams_[name].reader.get();
  uint64_t start, end;
  if (Refusal f = ParseRange(query, r, &start, &end)) return RespondError(msg, f.status, f.message);
  auto tracks = r->Tracks();
  if (!tracks.ok()) return RespondError(msg, 500, tracks.status().ToString());
  auto plan = vdb::PlanExport(r, tracks.value(), "video." + ext, start, end);
  if (!plan.ok()) {
    bool container = plan.status().message().find("cannot hold") != std::string::npos;
    return RespondError(msg,
                        container ? SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE : SOUP_STATUS_BAD_REQUEST,
                        plan.status().message());
  }
  vdbtool::RemuxRequest req;
  req.store = o_.store;
  req.stream = name;
  req.tracks = plan->tracks;
  req.start_utc = plan->start_utc;
  req.stop_utc = plan->stop_utc ? plan->stop_utc : end;
  req.muxer = vdbtool::MuxerFor(plan->container);
  // A whole file is written before its first byte is sent: its size is
  // bounded (the stored bytes of the range, which the remux about equals).
  const auto &segs = r->segments();
  uint64_t stored = 0;
  for (const vdb::SegmentInfo &sg : segs)
    if (sg.utc_start < req.stop_utc && sg.UtcAt(sg.end_pts) > req.start_utc) stored += sg.bytes;
  if (stored > o_.max_file_bytes)
    return RespondError(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
                        "the range holds " + std::to_string(stored >> 20) + " MiB, more than the " +
                            std::to_string(o_.max_file_bytes >> 20) +
                            " MiB served as one file (--max-file-mb): ask for a shorter range, "
                            "or stream it as video.fmp4");
  // Footage still being written may grow: rendered for this request only.
  uint64_t sealed_end = 0;
  for (auto it = segs.rbegin(); it != segs.rend() && !sealed_end; ++it)
    if (it->sealed()) sealed_end = it->UtcAt(it->end_pts);
  bool cache = req.stop_utc <= sealed_end;
  std::string key =
      name + "/" + std::to_string(req.start_utc) + "-" + std::to_string(req.stop_utc) + "." + ext;
  std::string type = ext == "mp4" ? "video/mp4" : ext == "webm" ? "video/webm" : "video/x-matroska";
  std::string disp = Param(query, "download") ? "attachment; filename=\"" + name + "-" +
                                                    vdb::FormatUtc(req.start_utc) + "." + ext + "\""
                                              : "";
  std::string path = TempPath();
  Render(msg, key, cache, type, disp, [req, path](std::string *file, std::string *error) {
    *error = RenderToFile(req, path);
    GBytes *b = error->empty() ? MapFile(path) : nullptr;
    if (!b && error->empty()) *error = "cannot read the rendered file";
    if (b)
      *file = path;
    else
      g_unlink(path.c_str());
    return b;
  });
}

void Server::GetFragmented(SoupServerMessage *msg, const std::string &name, GHashTable *query) {
  vdb::Reader *r = streams_[name].reader.get();
  auto tracks = r->Tracks();
  if (!tracks.ok()) return RespondError(msg, 500, tracks.status().ToString());
  vdbtool::RemuxRequest req;
  req.store = o_.store;
  req.stream = name;
  req.muxer = "mp4mux";
  req.tracks = PlayableTracks(tracks.value());
  const char *live = Param(query, "live");
  uint64_t first_utc = 0;
  if (live && (g_str_equal(live, "1") || g_str_equal(live, "true"))) {
    req.live = true;
    auto pos = r->FindKeyframe(r->end_pts(), vdb::Snap::kBefore);
    auto seg =
        pos.ok() ? r->Segment(pos->segment) : vdb::Result<vdb::SegmentReader *>(pos.status());
    if (seg.ok()) first_utc = r->segments()[pos->segment].UtcAt((*seg)->entry(pos->frame).pts);
  } else {
    uint64_t start, end;
    if (Refusal f = ParseRange(query, r, &start, &end))
      return RespondError(msg, f.status, f.message);
    // Matroska's rule holds every codec; mp4mux takes VP9 and AV1 too, and
    // browsers play them from fragmented MP4.
    auto plan = vdb::PlanExport(r, req.tracks, "video.mkv", start, end);
    if (!plan.ok())
      return RespondError(msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE, plan.status().message());
    req.start_utc = plan->start_utc;
    req.stop_utc = Param(query, "end") || Param(query, "duration") ? end : 0;
    first_utc = plan->start_utc;
  }
  if (fmp4_.size() >= o_.max_streams) {
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After", "5");
    return RespondError(msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
                        "too many streams being served (--max-streams)");
  }
  SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
  soup_message_headers_replace(h, "X-Vdb-Start", std::to_string(first_utc).c_str());
  soup_message_headers_replace(h, "Cache-Control", "no-store");
  fmp4_.Start(msg, req);
}

void Server::Playlist(SoupServerMessage *msg, const std::string &name, bool live,
                      GHashTable *query) {
  vdb::Reader *r = streams_[name].reader.get();
  auto tracks = r->Tracks();
  if (tracks.ok() && !tracks->empty() && tracks->front().codec != "h264" &&
      tracks->front().codec != "h265")
    return RespondError(msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
                        "HLS media segments are MPEG-TS, which holds H.264 and H.265; stream '" +
                            name + "' is " + tracks->front().codec +
                            ": use video.mp4 or video.fmp4");
  vdb::HlsOptions ho;
  ho.live = live;
  if (!live) {
    uint64_t start, end;
    if (Refusal f = ParseRange(query, r, &start, &end)) {
      if (f.status != SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE)
        return RespondError(msg, f.status, f.message);
    }
    ho.from_utc = start;
    ho.to_utc = end;
  }
  auto text = vdb::BuildHlsPlaylist(r->segments(), ho);
  if (!text.ok()) {
    guint st = text.status().code() == vdb::Code::kInvalidArgument
                   ? guint(SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE)
                   : HttpStatusOf(text.status());
    return RespondError(msg, st, text.status().message());
  }
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control",
                               live ? "no-cache" : "max-age=60");
  soup_server_message_set_status(msg, SOUP_STATUS_OK, nullptr);
  soup_server_message_set_response(msg, "application/vnd.apple.mpegurl", SOUP_MEMORY_COPY,
                                   text->data(), text->size());
}

void Server::Segment(SoupServerMessage *msg, const std::string &name, const std::string &id) {
  vdb::Reader *r = streams_[name].reader.get();
  char *rest = nullptr;
  guint64 n = g_ascii_strtoull(id.c_str(), &rest, 10);
  long i = rest && !*rest && !id.empty() ? r->catalog().FindById(n) : -1;
  if (i < 0 || !r->segments()[size_t(i)].sealed())
    return RespondError(msg, SOUP_STATUS_NOT_FOUND,
                        "stream '" + name + "' has no complete segment '" + id + "'");
  const vdb::SegmentInfo s = r->segments()[size_t(i)];
  auto tracks = r->Tracks();
  if (!tracks.ok()) return RespondError(msg, 500, tracks.status().ToString());
  std::vector<vdb::TrackMeta> playable = PlayableTracks(tracks.value());
  std::string dir = r->dir();
  std::string path = TempPath();
  Render(msg, name + "/seg" + id + ".ts", true, "video/mp2t", "",
         [fs = o_.fs, dir, s, playable, path](std::string *file, std::string *error) {
           *error = RenderSegmentTs(fs, dir, s, playable, path);
           GBytes *b = error->empty() ? MapFile(path) : nullptr;
           if (b)
             *file = path;
           else
             g_unlink(path.c_str());
           if (!b && error->empty()) *error = "cannot read the rendered segment";
           return b;
         });
}

void Server::Thumbnail(SoupServerMessage *msg, const std::string &name, GHashTable *query) {
  vdb::Reader *r = streams_[name].reader.get();
  const char *t = Param(query, "time"), *w = Param(query, "width");
  uint64_t utc = 0;
  if (!t || !vdb::ParseUtc(t, &utc))
    return RespondError(msg, SOUP_STATUS_BAD_REQUEST,
                        "thumbnail.jpg needs time=T (ISO 8601 UTC or ns since 1970)");
  int width = w ? atoi(w) : 320;
  if (width < 16 || width > 1920)
    return RespondError(msg, SOUP_STATUS_BAD_REQUEST, "width must be 16 .. 1920");
  width &= ~1;
  vdb::Timeline tl = vdb::Timeline::Build(r->segments(), vdb::kNoTime, false);
  if (tl.empty()) return RespondError(msg, SOUP_STATUS_NOT_FOUND, "the stream holds no recording");
  uint64_t first = tl.PtsToUtc(tl.start_pts()), last = tl.PtsToUtc(tl.end_pts());
  if (utc < first || utc >= last)
    return RespondError(msg, SOUP_STATUS_NOT_FOUND,
                        "nothing recorded at " + vdb::FormatUtc(utc) + " (the recording spans " +
                            vdb::FormatUtc(first) + " .. " + vdb::FormatUtc(last) + ")");
  auto pos = r->FindKeyframe(tl.UtcToPts(utc), vdb::Snap::kBefore);
  auto seg = pos.ok() ? r->Segment(pos->segment) : vdb::Result<vdb::SegmentReader *>(pos.status());
  if (!seg.ok()) return RespondError(msg, HttpStatusOf(seg.status()), seg.status().ToString());
  const vdb::SegmentInfo &s = r->segments()[pos->segment];
  uint64_t key_utc = s.UtcAt((*seg)->entry(pos->frame).pts);
  std::string store = o_.store;
  // One render per keyframe and width, however many hover over it.
  Render(msg,
         name + "/thumb" + std::to_string(s.id) + "-" + std::to_string(pos->frame) + "w" +
             std::to_string(width),
         s.sealed(), "image/jpeg", "",
         [store, name, key_utc, width](std::string *, std::string *error) {
           return RenderThumbnail(store, name, key_utc, width, error);
         });
}

void Server::Render(SoupServerMessage *msg, const std::string &key, bool cache,
                    const std::string &type, const std::string &disposition,
                    std::function<GBytes *(std::string *, std::string *)> work) {
  if (cache) {
    if (GBytes *b = cache_.Get(key)) {
      RespondBytes(msg, b, type, disposition);
      g_bytes_unref(b);
      return;
    }
  }
  auto it = cache ? jobs_.find(key) : jobs_.end();
  if (it == jobs_.end()) {
    if (g_thread_pool_unprocessed(pool_) >= 64) {
      soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After",
                                   "2");
      return RespondError(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "busy: too many renders queued");
    }
    auto job = std::make_unique<Job>();
    job->key = cache ? key : key + "#" + std::to_string(++temp_counter_);
    job->cache = cache;
    job->work = std::move(work);
    it = jobs_.emplace(job->key, std::move(job)).first;
    g_thread_pool_push(pool_, it->second.get(), nullptr);
  }
  WatchFinished(msg);
  g_object_ref(msg);
  soup_server_message_pause(msg);
  it->second->waiters.push_back({msg, type, disposition});
}

void Server::RunJob(gpointer data, gpointer self) {
  Job *job = static_cast<Job *>(data);
  job->bytes = job->work(&job->path, &job->error);
  // Back to the main context, which owns the messages and the cache.
  g_main_context_invoke(
      nullptr,
      +[](gpointer p) -> gboolean {
        auto *pair = static_cast<std::pair<Server *, Job *> *>(p);
        Server *s = pair->first;
        auto it = s->jobs_.find(pair->second->key);
        if (it != s->jobs_.end()) s->FinishJob(it->second.release()), s->jobs_.erase(it);
        delete pair;
        return G_SOURCE_REMOVE;
      },
      new std::pair<Server *, Job *>(static_cast<Server *>(self), job));
}

void Server::FinishJob(Job *job) {
  for (Waiter &w : job->waiters) {
    if (!IsFinished(w.msg)) {
      if (job->bytes)
        RespondBytes(w.msg, job->bytes, w.type, w.disposition);
      else
        RespondError(w.msg, job->error.find("no ") == 0 ? 404 : 500, job->error);
      soup_server_message_unpause(w.msg);
    }
    g_object_unref(w.msg);
  }
  if (job->bytes && job->cache) {
    cache_.Put(job->key, job->bytes, job->path);
  } else {
    if (job->bytes) g_bytes_unref(job->bytes);
    if (!job->path.empty()) g_unlink(job->path.c_str());  // mapped: the bytes stay readable
  }
  delete job;
}

int Server::Run() {
  size_t colon = o_.listen.rfind(':');
  std::string host = colon == std::string::npos ? o_.listen : o_.listen.substr(0, colon);
  int port = colon == std::string::npos ? 8554 : atoi(o_.listen.c_str() + colon + 1);
  GSocketAddress *addr = g_inet_socket_address_new_from_string(host.c_str(), guint(port));
  if (!addr || port < 0 || port > 65535) {
    std::fprintf(stderr, "vdb serve: bad --listen '%s': use HOST:PORT, e.g. 127.0.0.1:8554\n",
                 o_.listen.c_str());
    if (addr) g_object_unref(addr);
    return 2;
  }
  loop_ = g_main_loop_new(nullptr, FALSE);
  server_ = soup_server_new("server-header", "vdb-serve ", NULL);
  soup_server_add_handler(server_, nullptr, OnRequest, this, nullptr);
  // Requests libsoup refuses itself (a path whose %-escapes make "..", a
  // malformed URI) get the same JSON error body as the others.
  // Every response closes its connection: libsoup 3.2 (Debian 12) never
  // closes an idle keep-alive connection that the client closed (fixed in
  // 3.3, libsoup commit d20c6601): each one stayed in CLOSE-WAIT, holding a
  // file descriptor, until the server ran out of them.
  g_signal_connect(
      server_, "request-read", G_CALLBACK(+[](SoupServer *, SoupServerMessage *msg, gpointer) {
        soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Connection",
                                     "close");
        guint st = soup_server_message_get_status(msg);
        if (st >= 400 && !soup_server_message_get_response_body(msg)->length)
          RespondError(msg, st,
                       std::string("bad request: ") + soup_status_get_phrase(st) +
                           ": a malformed path, or one that %-encodes '..', '/' or NUL");
      }),
      nullptr);
  GError *err = nullptr;
  bool ok = soup_server_listen(server_, addr, SoupServerListenOptions(0), &err);
  g_object_unref(addr);
  if (!ok) {
    std::fprintf(stderr, "vdb serve: cannot listen on %s: %s\n", o_.listen.c_str(), err->message);
    g_error_free(err);
    return 2;
  }
  pool_ = g_thread_pool_new(RunJob, this, gint(std::max(1u, o_.workers)), FALSE, nullptr);
  GSList *uris = soup_server_get_uris(server_);
  for (GSList *u = uris; u; u = u->next) {
    gchar *s = g_uri_to_string(static_cast<GUri *>(u->data));
    std::printf("vdb serve: %s on %s\n", o_.store.c_str(), s);
    g_free(s);
  }
  g_slist_free_full(uris, reinterpret_cast<GDestroyNotify>(g_uri_unref));
  std::fflush(stdout);
  auto quit = +[](gpointer loop) -> gboolean {
    g_main_loop_quit(static_cast<GMainLoop *>(loop));
    return G_SOURCE_CONTINUE;
  };
  guint sigint = g_unix_signal_add(SIGINT, quit, loop_);
  guint sigterm = g_unix_signal_add(SIGTERM, quit, loop_);
  g_main_loop_run(loop_);
  g_source_remove(sigint);
  g_source_remove(sigterm);
  soup_server_disconnect(server_);
  return 0;
}

}  // namespace

int Serve(const ServeOptions &options) {
  std::string init_error;
  if (!vdbtool::InitGstWithVdb(&init_error)) {
    std::fprintf(stderr, "vdb serve: %s\n", init_error.c_str());
    return 2;
  }
  if (vdb::remote::IsS3Url(options.store)) {
    std::fprintf(stderr,
                 "vdb serve: serves a local store (its uploaded segments are read from its "
                 "bucket); serving a bucket alone is not supported yet\n");
    return 2;
  }
  auto where = vdb::remote::StoreLocation::Open(options.store, {});
  if (!where.ok()) {
    std::fprintf(stderr, "vdb serve: %s\n", where.status().ToString().c_str());
    return 2;
  }
  if (!(*where)->problem().empty())
    std::fprintf(stderr, "vdb serve: warning: %s\n", (*where)->problem().c_str());
  vdb::Status st = vdb::PrepareStore((*where)->fs(), options.store, false);
  if (!st.ok()) {
    std::fprintf(stderr, "vdb serve: %s\n", st.ToString().c_str());
    return 2;
  }
  ServeOptions o = options;
  o.fs = (*where)->fs();
  bool own_dir = o.cache_dir.empty();
  if (own_dir) {
    gchar *dir = g_dir_make_tmp("vdb-serve-XXXXXX", nullptr);
    if (!dir) {
      std::fprintf(stderr, "vdb serve: cannot create a cache directory\n");
      return 2;
    }
    o.cache_dir = dir;
    g_free(dir);
  }
  int rc;
  {
    Server server(o);
    rc = server.Run();
  }
  if (own_dir) {  // what the cache held is unlinked by now; anything left goes too
    if (GDir *d = g_dir_open(o.cache_dir.c_str(), 0, nullptr)) {
      while (const gchar *f = g_dir_read_name(d)) g_unlink((o.cache_dir + "/" + f).c_str());
      g_dir_close(d);
    }
    g_rmdir(o.cache_dir.c_str());
  }
  return rc;
}

}  // namespace vdbserve
