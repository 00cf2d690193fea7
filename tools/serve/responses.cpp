#include "responses.h"

namespace vdbserve {

void RespondJson(SoupServerMessage *msg, const nlohmann::json &body, guint status) {
  std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  soup_server_message_set_status(msg, status, nullptr);
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, text.data(),
                                   text.size());
}

void RespondError(SoupServerMessage *msg, guint status, const std::string &message) {
  RespondJson(msg, {{"error", message}, {"status", status}}, status);
}

void RespondBytes(SoupServerMessage *msg, GBytes *body, const std::string &content_type,
                  const std::string &disposition) {
  SoupMessageHeaders *req = soup_server_message_get_request_headers(msg);
  SoupMessageHeaders *resp = soup_server_message_get_response_headers(msg);
  soup_message_headers_replace(resp, "Accept-Ranges", "bytes");
  soup_message_headers_set_content_type(resp, content_type.c_str(), nullptr);
  if (!disposition.empty())
    soup_message_headers_replace(resp, "Content-Disposition", disposition.c_str());
  SoupMessageBody *out = soup_server_message_get_response_body(msg);
  goffset size = goffset(g_bytes_get_size(body));
  const char *range = soup_message_headers_get_one(req, "Range");
  if (range && g_str_has_prefix(range, "bytes=")) {
    SoupRange *ranges = nullptr;
    int n = 0;
    bool ok = soup_message_headers_get_ranges(req, size, &ranges, &n);
    if (ok && (ranges[0].start >= size || ranges[0].end < ranges[0].start)) {
      soup_message_headers_free_ranges(req,
                                       ranges);  // libsoup 3.2 lets "bytes=N-" past the end through
      ok = false;
    }
    if (!ok) {
      std::string cr = "bytes */" + std::to_string(size);
      soup_message_headers_replace(resp, "Content-Range", cr.c_str());
      RespondError(msg, SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE,
                   "the range asked for is outside the " + std::to_string(size) + " bytes");
      return;
    }
    // One range (the first when several are asked for): a slice of the
    // same bytes, never a copy.
    GBytes *part = g_bytes_new_from_bytes(body, gsize(ranges[0].start),
                                          gsize(ranges[0].end - ranges[0].start + 1));
    soup_message_headers_set_content_range(resp, ranges[0].start, ranges[0].end, size);
    soup_message_headers_free_ranges(req, ranges);
    soup_server_message_set_status(msg, SOUP_STATUS_PARTIAL_CONTENT, nullptr);
    soup_message_body_append_bytes(out, part);
    g_bytes_unref(part);
    return;
  }
  soup_server_message_set_status(msg, SOUP_STATUS_OK, nullptr);
  soup_message_body_append_bytes(out, body);
}

void WatchFinished(SoupServerMessage *msg) {
  g_signal_connect(msg, "finished", G_CALLBACK(+[](SoupServerMessage *m, gpointer) {
                     g_object_set_data(G_OBJECT(m), "vdb-finished", GINT_TO_POINTER(1));
                   }),
                   nullptr);
}

bool IsFinished(SoupServerMessage *msg) {
  return g_object_get_data(G_OBJECT(msg), "vdb-finished") != nullptr;
}

}  // namespace vdbserve
