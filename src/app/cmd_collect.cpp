// `c1m collect`: one run record from many clients. Either the clients push their records to it over
// HTTP (--listen; they say hello when they start, so one that dies is still named), or it merges the
// records they left in a directory (--dir, as the container lab does through a shared volume).
#include <dirent.h>
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>

#include "app/cli.hpp"
#include "core/atomic_file.hpp"
#include "core/collect.hpp"
#include "core/record_file.hpp"
#include "core/record.hpp"
#include "core/units.hpp"
#include "net/event_loop.hpp"
#include "net/http_service.hpp"

namespace c1m::app {
namespace {

struct CollectOptions {
  std::string listen;
  size_t expect_count = 0;
  std::string deadline = "30m";
  std::string dir;
  std::string out = "results";
  std::string approach = "multi-ip";
  std::string expect;  // comma list of client names
  std::string lab_json;
};

std::vector<std::string> split_names(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size() && !s.empty()) {
    size_t comma = s.find(',', start);
    std::string name = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!name.empty()) out.push_back(name);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

int write_and_summarize(const ojson& merged, const CollectOptions& o);

int64_t unix_ms_now() {
  timespec t{};
  clock_gettime(CLOCK_REALTIME, &t);
  return static_cast<int64_t>(t.tv_sec) * 1000 + t.tv_nsec / 1'000'000;
}

// What the collector has heard from one client.
struct Heard {
  ojson hello;   // {name, addresses, connections}, if it said hello
  int64_t hello_ms = 0;
  ojson record;  // its run record, once it sent one
};

int run_collect_listen(const CollectOptions& o) {
  auto list = require(parse_endpoint_list(o.listen), "--listen", o.listen);
  if (list.size() != 1) throw UsageError("--listen '" + o.listen + "': expected one ADDRESS:PORT");
  if (o.expect_count == 0) throw UsageError("--listen needs --expect-count N: how many clients will report");
  int64_t deadline_ns = require(parse_duration_ns(o.deadline), "--deadline", o.deadline);
  int fd = net::HttpService::open_socket(list[0]);
  if (fd < 0) throw UsageError("--listen " + list[0].str() + ": cannot listen: " + std::strerror(errno));

  net::EventBasePtr base = net::make_event_base();
  net::HttpService http(base.get(), kMaxRecordBytes);
  std::map<std::string, Heard> heard;
  std::string stop_reason;
  auto reported = [&] {
    size_t n = 0;
    for (const auto& [_, h] : heard) n += h.record.is_object();
    return n;
  };
  auto bad = [](const std::string& why) { return net::HttpReply{400, "application/json", ojson{{"error", why}}.dump()}; };
  http.route("POST", "/hello", [&](const std::string& body) {
    ojson j = ojson::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("name") || !j["name"].is_string()) return bad("expected {\"name\": ...}");
    Heard& h = heard[j["name"].get<std::string>()];
    h.hello = j;
    h.hello_ms = unix_ms_now();
    return net::HttpReply{200, "application/json", "{\"ok\":true}"};
  });
  http.route("POST", "/record", [&](const std::string& body) {
    std::string err;
    ojson r = parse_record(body, "the posted record", err);
    if (!err.empty()) return bad(err);
    std::string name = r.value("participant", r.contains("host") ? r["host"].value("hostname", "unnamed") : "unnamed");
    heard[name].record = std::move(r);
    std::fprintf(stderr, "c1m collect: record from %s (%zu of %zu)\n", name.c_str(), reported(), o.expect_count);
    net::HttpReply ok{200, "application/json", "{\"ok\":true}"};
    if (reported() >= o.expect_count) {
      // The last record: stop once the answer is out, or within a second if that client has gone.
      ok.after_sent = [&] { event_base_loopexit(base.get(), nullptr); };
      timeval backstop{1, 0};
      event_base_loopexit(base.get(), &backstop);
    }
    return ok;
  });
  http.route("GET", "/status", [&](const std::string&) {
    ojson s = {{"expected", o.expect_count}, {"reported", reported()}, {"heard_from", ojson::array()}};
    for (const auto& [name, h] : heard) s["heard_from"].push_back({{"name", name}, {"reported", h.record.is_object()}});
    return net::HttpReply{200, "application/json", s.dump()};
  });
  if (!http.serve(fd)) throw UsageError("--listen " + list[0].str() + ": cannot serve HTTP");

  auto stop = [](evutil_socket_t sig, short, void* arg) {
    auto* ctx = static_cast<std::pair<event_base*, std::string*>*>(arg);
    *ctx->second = sig == SIGINT ? "SIGINT" : (sig == SIGTERM ? "SIGTERM" : "deadline");
    event_base_loopbreak(ctx->first);
  };
  std::pair<event_base*, std::string*> ctx{base.get(), &stop_reason};
  net::EventPtr term(evsignal_new(base.get(), SIGTERM, stop, &ctx)), intr(evsignal_new(base.get(), SIGINT, stop, &ctx));
  net::EventPtr deadline(event_new(base.get(), -1, 0, stop, &ctx));
  event_add(term.get(), nullptr);
  event_add(intr.get(), nullptr);
  timeval tv{static_cast<time_t>(deadline_ns / 1'000'000'000), static_cast<suseconds_t>(deadline_ns % 1'000'000'000 / 1000)};
  event_add(deadline.get(), &tv);
  std::fprintf(stderr, "c1m collect: waiting for %zu client records on http://%s/record (deadline %s)\n", o.expect_count,
               list[0].str().c_str(), o.deadline.c_str());
  event_base_dispatch(base.get());

  CollectRequest req;
  req.approach = o.approach;
  for (auto& [name, h] : heard) {
    std::string problem;
    if (!h.record.is_object())
      problem = "said hello at " + iso8601_utc(h.hello_ms) + " (" + h.hello.value("connections", ojson(nullptr)).dump() +
                " connections from " + h.hello.value("addresses", ojson::array()).dump() + "), then never sent a record";
    req.clients.push_back({name, "", h.record, problem});
  }
  for (size_t k = heard.size(); k < o.expect_count; ++k)
    req.clients.push_back({"unknown-" + std::to_string(k + 1), "", nullptr,
                           "expected " + std::to_string(o.expect_count) + " clients, heard from " + std::to_string(heard.size())});
  ojson merged = merge_client_records(req);
  if (stop_reason == "SIGINT" || stop_reason == "SIGTERM") {
    merged["status"] = "interrupted";
    std::string r = "the collector got " + stop_reason + " with " + std::to_string(reported()) + " of " + std::to_string(o.expect_count) + " records";
    merged["reason"] = merged["reason"].is_string() ? r + "; " + merged["reason"].get<std::string>() : r;
  } else if (stop_reason == "deadline") {
    std::string r = "deadline " + o.deadline + " passed with " + std::to_string(reported()) + " of " + std::to_string(o.expect_count) + " records";
    merged["status"] = "failed";
    merged["reason"] = merged["reason"].is_string() ? r + "; " + merged["reason"].get<std::string>() : r;
  }
  int rc = write_and_summarize(merged, o);
  return merged["status"] == "interrupted" ? 130 : rc;
}

int run_collect(const CollectOptions& o) {
  if (!o.listen.empty()) {
    if (!o.dir.empty()) throw UsageError("--listen and --dir: choose one");
    return run_collect_listen(o);
  }
  if (o.dir.empty()) throw UsageError("collect needs --listen ADDRESS:PORT (clients push) or --dir DIR (clients left files)");
  DIR* d = opendir(o.dir.c_str());
  if (!d) throw UsageError("--dir " + o.dir + ": not a readable directory");
  std::vector<std::string> files;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 5 && n.ends_with(".json") && n.rfind("client-", 0) == 0) files.push_back(n);
  }
  closedir(d);
  std::sort(files.begin(), files.end());

  CollectRequest req;
  req.approach = o.approach;
  if (!o.lab_json.empty()) {
    std::ifstream in(o.lab_json);
    req.lab = ojson::parse(in, nullptr, false);
    if (req.lab.is_discarded()) throw UsageError("--lab " + o.lab_json + ": not valid JSON");
  }
  std::vector<std::string> expected = split_names(o.expect);
  for (const auto& f : files) {
    Participant p;
    p.name = f.substr(7, f.size() - 12);  // client-<name>.json
    p.file = o.dir + "/" + f;
    std::string err;
    p.record = read_record(p.file, err);
    p.problem = err;
    if (!err.empty()) std::fprintf(stderr, "c1m collect: %s\n", err.c_str());
    req.clients.push_back(std::move(p));
  }
  for (const auto& name : expected)
    if (std::none_of(req.clients.begin(), req.clients.end(), [&](const Participant& p) { return p.name == name; }))
      req.clients.push_back({name, "", nullptr, "never reported (no record in " + o.dir + ")"});
  if (req.clients.empty()) throw UsageError("--dir " + o.dir + ": no client-*.json records and no --expect names");

  return write_and_summarize(merge_client_records(req), o);
}

int write_and_summarize(const ojson& merged, const CollectOptions& o) {
  std::string stamp = merged["started_at"].get<std::string>();
  stamp.erase(std::remove_if(stamp.begin(), stamp.end(), [](char c) { return c == '-' || c == ':'; }), stamp.end());
  stamp = stamp.substr(0, 15) + "Z";
  std::string path = o.out + "/" + stamp + "-" + o.approach + "-" + merged["run_id"].get<std::string>().substr(0, 8) + ".json";
  std::string err = write_file_atomically(path, merged.dump(2) + "\n");
  if (!err.empty()) {
    std::fprintf(stderr, "c1m collect: %s\n", err.c_str());
    return 1;
  }
  const auto& r = merged["results"];
  std::printf("c1m collect: %s%s%s\n", merged["status"].get<std::string>().c_str(), merged["reason"].is_string() ? ": " : "",
              merged["reason"].is_string() ? merged["reason"].get<std::string>().c_str() : "");
  std::printf("  clients      %zu (%zu distinct addresses)\n", merged["participants"].size(), merged["topology"]["client_addresses"].size());
  std::printf("  established  client %s, server %s\n", format_figure(r["established_peak_client"], "%.0f").c_str(),
              format_figure(r["established_peak_server"], "%.0f").c_str());
  std::printf("  ramp         time to target %s, %s connects/s, %s errors\n", format_time_to_target(r["time_to_target_s"]).c_str(),
              format_figure(r["connect_rate_per_s"], "%.0f").c_str(), format_figure(r["errors_total"], "%.0f").c_str());
  std::printf("  connect      p50 %s ms, p99 %s ms\n", format_figure(r["connect_latency_ms"]["p50"], "%.3f").c_str(),
              format_figure(r["connect_latency_ms"]["p99"], "%.3f").c_str());
  std::printf("  record       %s\n", path.c_str());
  return merged["status"] == "complete" ? 0 : 1;
}

}  // namespace

Command add_collect_command(CLI::App& root) {
  auto o = std::make_shared<CollectOptions>();
  CLI::App* c = root.add_subcommand("collect", "merge the client records of one lab run into one run record");
  c->add_option("--listen", o->listen, "ADDRESS:PORT where clients (--report-to) push their records");
  c->add_option("--expect-count", o->expect_count, "with --listen: how many client records make the run");
  c->add_option("--deadline", o->deadline, "with --listen: write what has come by then")->capture_default_str();
  c->add_option("--dir", o->dir, "directory holding client-<name>.json records");
  c->add_option("--out", o->out, "directory for the run record")->capture_default_str();
  c->add_option("--approach", o->approach, "multi-ip or multi-port")->capture_default_str();
  c->add_option("--expect", o->expect, "with --dir: comma list of client names that should have reported");
  c->add_option("--lab", o->lab_json, "JSON file with what the lab knows (runtime, images, configured limits)");
  return {c, [o] { return run_collect(*o); }};
}

}  // namespace c1m::app
