#include "core/collector/http_request.hpp"

#include <algorithm>
#include <cctype>

namespace c1m {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Printable ASCII, no spaces: what a method, a target and a header name may hold.
bool is_token_text(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 127; });
}

RequestHead refuse(RequestHead h, int status, std::string why) {
  h.status = status;
  h.why = std::move(why);
  return h;
}

}  // namespace

RequestHead parse_request_head(std::string_view head, size_t max_body_bytes) {
  RequestHead h;
  size_t eol = head.find("\r\n");
  if (eol == std::string_view::npos) return refuse(h, 400, "no request line");
  std::string_view line = head.substr(0, eol);
  size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return refuse(h, 400, "request line: expected METHOD PATH HTTP/1.x");
  std::string_view method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1),
                   version = line.substr(sp2 + 1);
  if (!is_token_text(method) || !is_token_text(target) || target.front() != '/')
    return refuse(h, 400, "request line: expected METHOD /PATH HTTP/1.x");
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return refuse(h, 505, "only HTTP/1.0 and HTTP/1.1");
  h.method = std::string(method);
  h.path = std::string(target.substr(0, target.find('?')));
  h.keep_alive = version == "HTTP/1.1";
  if (h.method != "GET" && h.method != "POST") return refuse(h, 405, "method " + h.method + ": GET or POST");

  bool have_length = false, ended = false;
  for (size_t at = eol + 2; at < head.size();) {
    size_t end = head.find("\r\n", at);
    if (end == std::string_view::npos) return refuse(h, 400, "a header line without CRLF");
    std::string_view field = head.substr(at, end - at);
    at = end + 2;
    if (field.empty()) {  // the blank line: the head's end
      ended = true;
      break;
    }
    size_t colon = field.find(':');
    if (colon == std::string_view::npos || !is_token_text(field.substr(0, colon)))
      return refuse(h, 400, "a header line is not NAME: VALUE");
    std::string_view name = field.substr(0, colon), value = trim(field.substr(colon + 1));
    if (iequals(name, "Content-Length")) {
      if (value.empty() || value.size() > 12 ||
          !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return refuse(h, 400, "Content-Length: expected a number");
      size_t n = std::stoull(std::string(value));
      if (have_length && n != h.content_length) return refuse(h, 400, "two different Content-Length headers");
      h.content_length = n;
      have_length = true;
    } else if (iequals(name, "Transfer-Encoding")) {
      return refuse(h, 411, "Transfer-Encoding is not taken: send a Content-Length");
    } else if (iequals(name, "Authorization")) {
      if (value.size() > 7 && iequals(value.substr(0, 7), "Bearer ")) h.bearer = std::string(trim(value.substr(7)));
    } else if (iequals(name, "Connection")) {
      if (iequals(value, "close")) h.keep_alive = false;
      if (iequals(value, "keep-alive")) h.keep_alive = true;
    }
  }
  if (!ended) return refuse(h, 400, "the head does not end with a blank line");
  if (h.content_length > max_body_bytes)
    return refuse(
        h, 413,
        max_body_bytes ? "a body is at most " + std::to_string(max_body_bytes) + " bytes here" : "no body here");
  return h;
}

}  // namespace c1m
