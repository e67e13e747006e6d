#include "core/proto/http_reply.hpp"

#include <algorithm>
#include <cstring>

namespace c1m::proto {
namespace {

using Verdict = Read::Verdict;

// status keeps the code in its low 10 bits and three flags above it.
constexpr uint16_t kCodeMask = 0x3ff, kChunked = 1u << 10, kHasLength = 1u << 11, kCloses = 1u << 12;

enum Phase : uint8_t {
  status_http,   // "HTTP/1." matched by aux
  status_minor,  // the minor version's digit
  status_space,
  status_code,  // three digits, aux counting
  status_rest,  // the reason phrase, to the line's end
  line_start,   // a header line, or the blank line that ends them
  name,         // a header's name, matched against the three c1m reads (aux: candidates and position)
  value_length,
  value_chunked,  // Transfer-Encoding: matching "chunked" (aux)
  value_close,    // Connection: matching "close" (aux)
  skip_line,
  headers_end,  // the blank line's '\r' seen
  body,         // `left` bytes of a Content-Length body
  chunk_size,   // a chunk's size in hex, to the line's end
  chunk_ext,    // its extension, skipped
  chunk_data,   // `left` bytes
  chunk_crlf,   // the CRLF after a chunk's data (aux: '\r' seen)
  trailer_start,
  trailer_skip,
  trailer_end,  // the blank line's '\r' seen
  to_close,     // no length: the body ends with the connection
  phase_count_
};
static_assert(phase_count_ <= kHttpPhaseEnd);

// The headers c1m reads, lower-case; a candidate's bit in aux's top three bits.
constexpr const char* kNames[3] = {"content-length", "transfer-encoding", "connection"};

char lower(unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); }

Read answered_at(size_t used, const ReplyState& s) {
  Read r;
  r.verdict = Verdict::answered;
  r.used = used;
  r.status = s.status & kCodeMask;
  r.closes = (s.status & kCloses) != 0;
  return r;
}

enum class Step { on, answered, refused, bad };

// The blank line after the headers: where the body is, by the headers read.
Step start_body(ReplyState& s, bool upgrade) {
  const uint16_t code = s.status & kCodeMask;
  if (upgrade) return code == 101 ? Step::answered : Step::refused;
  if (code >= 100 && code < 200) {  // an interim answer (100 Continue): the real one follows
    s = ReplyState{};
    return Step::on;
  }
  if (code == 204 || code == 304) return Step::answered;  // no body, whatever the headers say
  if (s.status & kChunked) {
    s.phase = chunk_size, s.left = 0;
    return Step::on;
  }
  if (s.status & kHasLength) {
    s.phase = body;
    return s.left == 0 ? Step::answered : Step::on;
  }
  s.phase = to_close;
  s.status |= kCloses;
  return Step::on;
}

// A chunk-size line has ended: data follows, or (size 0) the trailers.
void end_chunk_size(ReplyState& s) { s.phase = s.left == 0 ? trailer_start : chunk_data; }

// A header's name, matched against the three c1m reads (aux: the candidates left and the position).
Step step_name(ReplyState& s, unsigned char c) {
  uint8_t mask = s.aux >> 5, pos = s.aux & 31;
  if (c == ':') {
    int which = -1;
    for (int k = 0; k < 3; ++k)
      if ((mask >> k & 1) && std::strlen(kNames[k]) == pos) which = k;
    s.phase = which == 0 ? value_length : which == 1 ? value_chunked : which == 2 ? value_close : skip_line;
    if (which == 0) s.left = 0, s.status |= kHasLength;
    s.aux = 0;
    return Step::on;
  }
  if (c == '\n') return Step::bad;  // a header line without a colon
  for (int k = 0; k < 3; ++k)
    if ((mask >> k & 1) && (pos >= std::strlen(kNames[k]) || kNames[k][pos] != lower(c))) mask &= ~(1u << k);
  s.aux = static_cast<uint8_t>(mask << 5 | std::min<int>(pos + 1, 31));
  return Step::on;
}

// A header's value, for the three headers c1m reads.
Step step_value(ReplyState& s, unsigned char c) {
  if (s.phase == value_length) {
    if (c == '\n') {
      s.phase = line_start;
    } else if (c >= '0' && c <= '9') {
      if (s.left > (UINT32_MAX - 9) / 10) return Step::bad;  // past 4 GB: no ping's answer
      s.left = s.left * 10 + (c - '0');
    } else if (c != ' ' && c != '\t' && c != '\r') {
      return Step::bad;
    }
    return Step::on;
  }
  const char* want = s.phase == value_chunked ? "chunked" : "close";
  if (c == '\n') {
    if (s.aux == std::strlen(want)) s.status |= s.phase == value_chunked ? kChunked : kCloses;
    s.phase = line_start;
  } else if (c == ' ' || c == '\t' || c == '\r') {
  } else if (s.aux < std::strlen(want) && lower(c) == want[s.aux]) {
    ++s.aux;
  } else {
    s.aux = 0xff;  // another value: not this one
  }
  return Step::on;
}

// The status line and the headers, to the blank line that ends them.
Step step_head(ReplyState& s, bool upgrade, unsigned char c) {
  switch (s.phase) {
    case status_http:
      if (c != static_cast<unsigned char>("HTTP/1."[s.aux])) return Step::bad;
      if (++s.aux == 7) s.phase = status_minor;
      return Step::on;
    case status_minor:
      if (c != '0' && c != '1') return Step::bad;
      if (c == '0') s.status |= kCloses;  // HTTP/1.0 closes unless it says otherwise
      s.phase = status_space;
      return Step::on;
    case status_space:
      if (c != ' ') return Step::bad;
      s.phase = status_code, s.aux = 0;
      return Step::on;
    case status_code:
      if (c < '0' || c > '9') return Step::bad;
      s.status = static_cast<uint16_t>((s.status & ~kCodeMask) | (((s.status & kCodeMask) * 10 + (c - '0'))));
      if (++s.aux == 3) s.phase = status_rest;
      return Step::on;
    case status_rest:
    case skip_line:
      if (c == '\n') s.phase = line_start;
      return Step::on;
    case line_start:
      if (c == '\r') {
        s.phase = headers_end;
        return Step::on;
      }
      s.phase = name, s.aux = 0x7u << 5;  // every candidate, at position 0
      return step_name(s, c);
    case name:
      return step_name(s, c);
    case headers_end:
      if (c != '\n') return Step::bad;
      return start_body(s, upgrade);
    default:
      return step_value(s, c);
  }
}

// Chunked transfer coding: sizes, their extensions, the CRLF after each chunk, the trailers.
Step step_chunks(ReplyState& s, unsigned char c) {
  switch (s.phase) {
    case chunk_size:
      if (c == '\n') {
        end_chunk_size(s);
      } else if (c == ';') {
        s.phase = chunk_ext;
      } else if (c != '\r') {
        int d = c >= '0' && c <= '9' ? c - '0' : lower(c) >= 'a' && lower(c) <= 'f' ? lower(c) - 'a' + 10 : -1;
        if (d < 0 || s.left > (UINT32_MAX >> 4)) return Step::bad;
        s.left = s.left * 16 + static_cast<uint32_t>(d);
      }
      return Step::on;
    case chunk_ext:
      if (c == '\n') end_chunk_size(s);
      return Step::on;
    case chunk_crlf:
      if (c == '\r' && s.aux == 0) {
        s.aux = 1;
        return Step::on;
      }
      if (c != '\n') return Step::bad;
      s.phase = chunk_size, s.left = 0;
      return Step::on;
    case trailer_start:
      if (c == '\n') return Step::answered;
      s.phase = c == '\r' ? trailer_end : trailer_skip;
      return Step::on;
    case trailer_skip:
      if (c == '\n') s.phase = trailer_start;
      return Step::on;
    case trailer_end:
      return c == '\n' ? Step::answered : Step::bad;
    default:
      return Step::bad;
  }
}

}  // namespace

Read read_http(ReplyState& s, bool upgrade, const unsigned char* data, size_t n) {
  size_t i = 0;
  while (i < n) {
    if (s.phase == body || s.phase == chunk_data) {  // bulk: no per-byte work
      size_t take = std::min<size_t>(s.left, n - i);
      s.left -= static_cast<uint32_t>(take);
      i += take;
      if (s.left > 0) break;
      if (s.phase == body) return answered_at(i, s);
      s.phase = chunk_crlf, s.aux = 0;
      continue;
    }
    if (s.phase == to_close) return Read{Verdict::more, n, 0, true};
    const unsigned char c = data[i++];
    Step step = s.phase < chunk_size ? step_head(s, upgrade, c) : step_chunks(s, c);
    if (step == Step::bad) return bad_at(i);
    if (step == Step::refused) return Read{Verdict::refused, i, static_cast<uint16_t>(s.status & kCodeMask), true};
    if (step == Step::answered) return answered_at(i, s);
  }
  return Read{Verdict::more, n, 0, false};
}

bool http_reads_to_close(const ReplyState& s) { return s.phase == to_close; }

}  // namespace c1m::proto
