// Responses of `vdb serve`: JSON, JSON errors, and whole bodies held as
// GBytes answered with byte ranges (206, 416) without copying them.
//
// Thread rules: the server's main context only (libsoup is not thread-safe).
#pragma once

#include <glib.h>
#include <libsoup/soup.h>

#include <nlohmann/json.hpp>
#include <string>

namespace vdbserve {

void RespondJson(SoupServerMessage *msg, const nlohmann::json &body, guint status = 200);
// {"error": message, "status": status}
void RespondError(SoupServerMessage *msg, guint status, const std::string &message);
// The whole of `body` (not taken), or the first range the request's Range
// header asks for (206; 416 when none is satisfiable), with Accept-Ranges.
// `disposition`: a Content-Disposition value, or "".
void RespondBytes(SoupServerMessage *msg, GBytes *body, const std::string &content_type,
                  const std::string &disposition = "");

// A message answered later (paused while a worker renders): whether its
// client is gone (libsoup emitted "finished"). Mark it with WatchFinished
// before pausing.
void WatchFinished(SoupServerMessage *msg);
bool IsFinished(SoupServerMessage *msg);

}  // namespace vdbserve
