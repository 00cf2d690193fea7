#include "time_parse.h"

#include <glib.h>

#include <cctype>

namespace vdb {

bool ParseUtc(const std::string &text, uint64_t *utc_ns) {
  if (text.empty()) return false;
  bool digits = true;
  for (char c : text) digits = digits && std::isdigit(static_cast<unsigned char>(c));
  if (digits) {
    *utc_ns = g_ascii_strtoull(text.c_str(), nullptr, 10);
    return true;
  }
  GTimeZone *utc = g_time_zone_new_utc();
  GDateTime *dt = g_date_time_new_from_iso8601(text.c_str(), utc);
  g_time_zone_unref(utc);
  if (!dt) return false;
  gint64 us = g_date_time_to_unix(dt) * G_USEC_PER_SEC + g_date_time_get_microsecond(dt);
  g_date_time_unref(dt);
  if (us < 0) return false;
  *utc_ns = uint64_t(us) * 1000;
  return true;
}

}  // namespace vdb
