// Fuzz targets over what c1m reads from others: records, the collector's requests, units and
// endpoints. Each takes bytes and must neither crash nor trip a sanitizer, whatever they are.
// Built two ways: with libFuzzer (make fuzz, clang) to search, and as a replay driver (fuzz_replay.cpp,
// any compiler) that make test runs over the kept corpus and crash inputs under ASan/UBSan.
#include "targets.hpp"

#include <string>
#include <string_view>

#include "core/collector/collect.hpp"
#include "core/collector/http_request.hpp"
#include "core/collector/run_book.hpp"
#include "core/plan/endpoints.hpp"
#include "core/proto/reply.hpp"
#include "core/record/compare.hpp"
#include "core/record/plot.hpp"
#include "core/record/record_file.hpp"
#include "core/record/run_record.hpp"
#include "core/units.hpp"

namespace c1m::fuzz {
namespace {

// What every reader does with a record's text: bound, parse, validate. Null when refused.
ojson read(std::string_view text) {
  std::string err;
  return parse_record(std::string(text), "fuzz", err);
}

// Splits the input at the first NUL: two records from one input.
std::pair<std::string_view, std::string_view> halves(std::string_view in) {
  size_t at = in.find('\0');
  return at == std::string_view::npos ? std::pair{in, std::string_view()}
                                      : std::pair{in.substr(0, at), in.substr(at + 1)};
}

void record(std::string_view in) {
  ojson j = read(in);
  if (j.is_null()) return;
  std::string err;
  auto r = RunRecord::from_json(j, err);
  if (!r) __builtin_trap();  // parse_record accepted what from_json refuses: one check, two answers
  r->to_json().dump();
}

void merge(std::string_view in) {
  auto [a, b] = halves(in);
  CollectRequest req;
  req.run_id = "fuzz";
  req.clients.push_back({"a", "", read(a), ""});
  req.clients.push_back({"b", "", read(b), ""});
  merge_client_records(req).dump();
}

void collector(std::string_view in) {
  RunBookLimits limits;
  limits.default_expect_clients = 2;
  RunBook book(limits);
  // Each line is one request body: hello, record, hello, ... as a peer might send them.
  int64_t now = 0;
  bool is_record = false;
  size_t start = 0;
  while (start <= in.size()) {
    size_t end = in.find('\n', start);
    std::string_view line = in.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (json_nesting_within(line)) {
      ojson body = ojson::parse(line, nullptr, false);
      if (!body.is_discarded()) {
        if (is_record && check_mergeable(body).empty())
          book.record(body, now);
        else if (!is_record)
          book.hello(body, now);
      }
    }
    is_record = !is_record;
    now += 1000;
    for (const auto& [id, why] : book.due(now)) {
      merge_client_records(book.request(id)).dump();
      book.written(id, "/dev/null", "complete");
    }
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  book.summary().dump();
}

void compare(std::string_view in) {
  auto [a, b] = halves(in);
  ojson base = read(a), now = read(b);
  if (base.is_null() || now.is_null() || !check_metric_types(base).empty() || !check_metric_types(now).empty()) return;
  Comparison c = compare_records(base, now, {});
  format_text(c);
  format_markdown(c);
  format_json(c).dump();
}

void plot(std::string_view in) {
  auto [a, b] = halves(in);
  std::vector<PlotSeries> series;
  for (std::string_view part : {a, b})
    if (ojson r = read(part); !r.is_null()) {
      std::string why;
      if (auto typed = RunRecord::from_json(r, why)) series.push_back({"fuzz", std::move(*typed)});
    }
  if (!series.empty()) render_svg(series);
}

void units(std::string_view in) {
  parse_count(in);
  parse_duration_ns(in);
  parse_fraction(in);
  if (auto c = parse_count(in); c.ok()) format_count(static_cast<double>(c.value()));
  if (auto d = parse_duration_ns(in); d.ok()) format_duration_ns(d.value());
}

// The head of a request to the lab's HTTP services (the admin port, the collector), as a peer may send it.
void http(std::string_view in) {
  RequestHead h = parse_request_head(in, 1 << 20);
  if (h.status == 0 && (h.method.empty() || h.path.empty() || h.path[0] != '/')) __builtin_trap();
}

// A server's reply to a held connection's ping, in each protocol, in the pieces the input's first
// byte says: every byte is taken once, and a verdict other than "more" comes with the bytes it took.
void reply(std::string_view in) {
  if (in.empty()) return;
  const size_t piece = static_cast<unsigned char>(in[0]) % 16 + 1;
  in.remove_prefix(1);
  for (proto::Protocol p : {proto::Protocol::raw, proto::Protocol::echo, proto::Protocol::redis, proto::Protocol::http,
                            proto::Protocol::mqtt, proto::Protocol::websocket}) {
    proto::ReplyState s{};
    for (size_t at = 0; at < in.size();) {
      size_t n = std::min(piece, in.size() - at);
      proto::Read r = proto::read_reply(p, s, 1, 2, 3, reinterpret_cast<const unsigned char*>(in.data()) + at, n);
      if (r.used > n || (r.verdict == proto::Read::Verdict::more && r.used != n)) __builtin_trap();
      using V = proto::Read::Verdict;
      if (r.verdict == V::bad || r.verdict == V::refused || r.verdict == V::closed) break;
      if (r.verdict == V::server_ping && r.payload_at + r.payload_len > r.used) __builtin_trap();
      at += r.used == 0 ? n : r.used;
    }
  }
}

void endpoints(std::string_view in) {
  parse_endpoint_list(in);
  parse_address_list(in);
}

}  // namespace

const std::vector<Target>& targets() {
  static const std::vector<Target> all = {{"record", record},       {"merge", merge}, {"collector", collector},
                                          {"compare", compare},     {"plot", plot},   {"units", units},
                                          {"endpoints", endpoints}, {"http", http},   {"reply", reply}};
  return all;
}

}  // namespace c1m::fuzz
