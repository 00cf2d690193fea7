#include "xml_extract.h"

namespace vdb::remote::xml {

namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

Status Bad(const std::string &what) {
  return Status(Code::kCorrupt, "malformed XML in the server's answer: " + what);
}

void AppendUtf8(std::string *out, uint32_t cp) {
  if (cp < 0x80) {
    *out += char(cp);
  } else if (cp < 0x800) {
    *out += char(0xc0 | (cp >> 6));
    *out += char(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    *out += char(0xe0 | (cp >> 12));
    *out += char(0x80 | ((cp >> 6) & 0x3f));
    *out += char(0x80 | (cp & 0x3f));
  } else {
    *out += char(0xf0 | (cp >> 18));
    *out += char(0x80 | ((cp >> 12) & 0x3f));
    *out += char(0x80 | ((cp >> 6) & 0x3f));
    *out += char(0x80 | (cp & 0x3f));
  }
}

}  // namespace

namespace {

// Elements() when stop_at_max is false; else the first max_count, silently.
Result<std::vector<std::string_view>> Collect(std::string_view doc, std::string_view name,
                                              size_t max_count, bool stop_at_max) {
  std::vector<std::string_view> out;
  if (name.empty()) return out;
  const std::string open = "<" + std::string(name);
  const std::string close = "</" + std::string(name);
  size_t pos = 0;
  while (true) {
    size_t at = doc.find(open, pos);
    if (at == std::string_view::npos) break;
    size_t after = at + open.size();
    if (after >= doc.size()) return Bad("<" + std::string(name) + " is cut off");
    char c = doc[after];
    if (c != '>' && c != '/' && !IsSpace(c)) {  // <NameMore>: another element
      pos = after;
      continue;
    }
    size_t gt = doc.find('>', after);
    if (gt == std::string_view::npos) return Bad("<" + std::string(name) + " has no '>'");
    if (out.size() == max_count) {
      if (stop_at_max) break;
      return Status(Code::kCorrupt, "the server's answer has more than " +
                                        std::to_string(max_count) + " <" + std::string(name) +
                                        "> elements");
    }
    if (doc[gt - 1] == '/') {  // <Name/>
      out.push_back(doc.substr(gt + 1, 0));
      pos = gt + 1;
      continue;
    }
    size_t content = gt + 1, end = content;
    while (true) {
      end = doc.find(close, end);
      if (end == std::string_view::npos) return Bad("<" + std::string(name) + "> is not closed");
      size_t k = end + close.size();
      while (k < doc.size() && IsSpace(doc[k])) k++;
      if (k < doc.size() && doc[k] == '>') {
        out.push_back(doc.substr(content, end - content));
        pos = k + 1;
        break;
      }
      end = k;  // </NameMore>: keep looking
    }
  }
  return out;
}

}  // namespace

Result<std::vector<std::string_view>> Elements(std::string_view doc, std::string_view name,
                                               size_t max_count) {
  return Collect(doc, name, max_count, false);
}

Result<std::string> DecodeText(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  size_t i = 0;
  while (i < raw.size()) {
    char c = raw[i];
    if (c == '<') {
      static constexpr std::string_view kCdata = "<![CDATA[";
      if (raw.substr(i, kCdata.size()) == kCdata) {
        size_t end = raw.find("]]>", i + kCdata.size());
        if (end == std::string_view::npos) return Bad("a CDATA section is not closed");
        out.append(raw.substr(i + kCdata.size(), end - i - kCdata.size()));
        i = end + 3;
        continue;
      }
      return Bad("markup where text was expected");
    }
    if (c != '&') {
      out += c;
      i++;
      continue;
    }
    size_t semi = raw.find(';', i);
    if (semi == std::string_view::npos || semi - i > 12)
      return Bad("an unterminated '&' reference");
    std::string_view ref = raw.substr(i + 1, semi - i - 1);
    if (ref == "amp")
      out += '&';
    else if (ref == "lt")
      out += '<';
    else if (ref == "gt")
      out += '>';
    else if (ref == "quot")
      out += '"';
    else if (ref == "apos")
      out += '\'';
    else if (ref.size() >= 2 && ref[0] == '#') {
      bool hex = ref[1] == 'x' || ref[1] == 'X';
      std::string_view digits = ref.substr(hex ? 2 : 1);
      if (digits.empty()) return Bad("an empty character reference");
      uint32_t cp = 0;
      for (char d : digits) {
        int v;
        if (d >= '0' && d <= '9')
          v = d - '0';
        else if (hex && d >= 'a' && d <= 'f')
          v = d - 'a' + 10;
        else if (hex && d >= 'A' && d <= 'F')
          v = d - 'A' + 10;
        else
          return Bad("a bad character reference &" + std::string(ref) + ";");
        cp = cp * (hex ? 16 : 10) + uint32_t(v);
        if (cp > 0x10ffff) return Bad("a character reference beyond Unicode");
      }
      if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
        return Bad("a character reference to an invalid code point");
      AppendUtf8(&out, cp);
    } else {
      return Bad("an unknown entity &" + std::string(ref) + ";");
    }
    i = semi + 1;
  }
  return out;
}

Result<std::optional<std::string>> FirstText(std::string_view doc, std::string_view name) {
  VDB_ASSIGN_OR_RETURN(auto els, Collect(doc, name, 1, true));
  if (els.empty()) return std::optional<std::string>();
  VDB_ASSIGN_OR_RETURN(std::string text, DecodeText(els.front()));
  return std::optional<std::string>(std::move(text));
}

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace vdb::remote::xml
