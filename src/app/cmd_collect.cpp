// `c1m collect`: one run record from many clients. Either the clients push their records to it over
// HTTP (--listen; they say hello when they start, so one that dies is still named), or it merges the
// records they left in a directory (--dir, as the container lab does through a shared volume).
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>

#include "app/cli.hpp"
#include "core/atomic_file.hpp"
#include "core/clock.hpp"
#include "core/collect.hpp"
#include "core/host.hpp"
#include "core/procfs.hpp"
#include "core/record.hpp"
#include "core/record_file.hpp"
#include "core/record_store.hpp"
#include "core/repetitions.hpp"
#include "core/run_book.hpp"
#include "core/spool.hpp"
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
  std::string approach;  // empty: from the records (the service), multi-ip for --dir
  std::string expect;    // --expect-names: comma list of client names
  std::string lab_json;
  std::vector<std::string> lab_info;  // KEY=VALUE: what the lab configured, as the collector was told
  std::string show;
  std::vector<std::string> repetitions;  // records of one experiment run one after another
  std::string output;                    // with --repetitions: the one record they make
  std::string max_held = "2g";
  std::string token;        // --run-token / C1M_RUN_TOKEN: the participants'
  std::string admin_token;  // --admin-token / C1M_ADMIN_TOKEN: the lab's own, to close a run
  std::string host_name;    // --host-name / C1M_HOST_NAME: the machine's, when the collector runs in a container
  std::string spool;        // default OUT/.spool
  std::string max_body = "64m";
  size_t max_connections = 64;
  std::string request_timeout = "10s";
};

// A record as the collector's /record takes it: a server's report, or a client's run record (checked
// by the one validator). Empty when it may be taken.
std::string check_posted(const ojson& j);

// --lab-info network.parent=c1m0 -> {"network": {"parent": "c1m0"}}: the collector's own
// configuration, given once in compose.yaml from the same variables the participants get.
ojson lab_info_json(const std::vector<std::string>& pairs) {
  ojson lab = ojson::object();
  for (const std::string& kv : pairs) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError("--lab-info '" + kv + "': expected KEY=VALUE");
    ojson* at = &lab;
    std::string key = kv.substr(0, eq);
    for (size_t dot; (dot = key.find('.')) != std::string::npos; key.erase(0, dot + 1)) {
      ojson& next = (*at)[key.substr(0, dot)];
      if (!next.is_object()) next = ojson::object();
      at = &next;
    }
    (*at)[key] = kv.substr(eq + 1);
  }
  return lab;
}

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

// Writes the merged record into --out and prints its summary; the exit status of the run (0 complete).
int write_and_summarize(const ojson& merged, const CollectOptions& o, std::string* written_to = nullptr,
                        std::string* error = nullptr);
void restore_spool(const Spool& spool, RunBook& book, const RecordStore& store);
// Prints a merged record's summary; its exit status (0 complete, 1 otherwise).
int print_summary(const ojson& merged, const std::string& path);

// What the merge does not read itself: this host, the time, a run id when the lab gave none. In a
// container the fingerprint's name and addresses are the container's: the lab names the machine.
CollectRequest with_host_facts(CollectRequest req, const std::string& host_name) {
  req.host = host_fingerprint();
  if (!host_name.empty()) {
    req.host["hostname"] = host_name;
    req.host.erase("addresses");
  }
  req.now_unix_ms = unix_ms();
  if (req.run_id.empty()) req.run_id = new_run_id();
  return req;
}

net::HttpReply json_reply(int status, const ojson& body) { return {status, "application/json", body.dump()}; }
net::HttpReply refusal(int status, const std::string& why) { return json_reply(status, {{"error", why}}); }

// What a server reports of a run: its /stats document (c1m server --report-to).
std::string check_server_report(const ojson& j) {
  if (!j.is_object()) return "expected a JSON object";
  if (!j.contains("connections_peak") || !j["connections_peak"].is_number_unsigned())
    return "a server's report needs connections_peak";
  return {};
}

// The collector: a service that writes one record per run (runs named by the id their participants
// carry), or, with --expect-count, the one run of clients that name none, then exits.
int run_collect_listen(const CollectOptions& o) {
  const Endpoint at = single_endpoint("--listen", o.listen);
  int64_t deadline_ns = require(parse_duration_ns(o.deadline), "--deadline", o.deadline);
  int fd = net::HttpService::open_socket(at);
  if (fd < 0) throw UsageError("--listen " + at.str() + ": cannot listen: " + std::strerror(errno));
  const bool one_run = o.expect_count > 0;

  RunBookLimits limits;
  limits.deadline_ms = deadline_ns / 1'000'000;
  limits.default_expect_clients = o.expect_count;
  limits.deadline_text = o.deadline;
  limits.max_bytes_held = require(parse_count(o.max_held), "--max-held", o.max_held);
  // Every message is on disk before it is answered 200; a run's messages go once its record is written.
  // A service's spool is OUT/.spool, taken up by the next service. An --expect-count collector's
  // one run has no id of its own ("default"), so it gets a spool of its own, which only a collector
  // given it with --spool takes up: the next benchmark's collector must not merge a dead one's records.
  const std::string spool_root = o.out + "/.spool";
  const bool own_spool = one_run && o.spool.empty();
  if (own_spool) ::mkdir(spool_root.c_str(), 0700);
  const Spool spool(!o.spool.empty() ? o.spool
                    : own_spool      ? spool_root + "/expect-count-" + std::to_string(unix_ms())
                                     : spool_root);
  if (std::string why = spool.open(); !why.empty()) throw UsageError("--spool: " + why);
  const RecordStore store(o.out);
  RunBook book(
      limits, [&spool](const Filed& f) { return spool.keep(f); },
      [&store](const std::string& run) { return store.find(run); });
  if (!own_spool) restore_spool(spool, book, store);
  const ojson lab = lab_info_json(o.lab_info);
  book.open_default(unix_ms());  // --expect-count: its one run's deadline counts from now
  net::EventLoop loop;
  // What one peer can make the collector hold: max_connections bodies of max_body_bytes in flight,
  // besides --max-held of runs not yet written.
  net::HttpLimits http_limits;
  http_limits.max_body_bytes = require(parse_count(o.max_body), "--max-body", o.max_body);
  http_limits.max_connections = o.max_connections;
  const int64_t request_timeout_ns =
      require(parse_duration_ns(o.request_timeout), "--request-timeout", o.request_timeout);
  if (request_timeout_ns < 1'000'000'000) throw UsageError("--request-timeout " + o.request_timeout + ": at least 1s");
  http_limits.request_timeout_s = static_cast<int>(std::min<int64_t>(request_timeout_ns / 1'000'000'000, 3600));
  if (http_limits.max_body_bytes > kMaxRecordBytes)
    throw UsageError("--max-body " + o.max_body + ": at most " + std::to_string(kMaxRecordBytes) +
                     " bytes (the largest record c1m reads)");
  if (http_limits.max_connections == 0) throw UsageError("--max-connections: at least 1");
  net::HttpService http(loop.base(), http_limits);
  http.require_token(net::Access::participant, o.token);
  http.require_token(net::Access::admin, o.admin_token);
  int last_rc = 0;
  // Runs whose merged record could not be written, with why: kept (in memory and the spool), tried again.
  std::map<std::string, std::string> unwritten;
  int64_t next_retry_ms = 0;

  // Writes one run; `status`/`why` override the merge's verdict when the run was cut short. False when
  // the record could not be written: the run stays open and its messages stay in the spool.
  auto write_run = [&](const std::string& id, const std::string& status, const std::string& why) {
    CollectRequest req = book.request(id);
    req.lab = lab;
    ojson merged = merge_client_records(with_host_facts(req, o.host_name));
    if (!o.approach.empty()) merged["approach"] = o.approach;
    if (!status.empty() && merged["status"] != "interrupted") {
      merged["status"] = status;
      merged["reason"] =
          merged["reason"].is_string() ? ojson(why + "; " + merged["reason"].get<std::string>()) : ojson(why);
    }
    std::string path, error;
    int rc = write_and_summarize(merged, o, &path, &error);
    std::fflush(stdout);
    if (path.empty()) {
      if (unwritten[id] != error)
        std::fprintf(stderr, "c1m collect: run %s not written (%s); its messages stay in %s, trying again every 5 s\n",
                     id.c_str(), error.c_str(), spool.dir().c_str());
      unwritten[id] = error;
      return false;
    }
    last_rc = merged["status"] == "interrupted" ? 130 : rc;
    unwritten.erase(id);
    book.written(id, path, merged["status"].get<std::string>());
    spool.forget(id);
    return true;
  };

  auto parse_body = [](const std::string& body, ojson& j) {
    if (!json_shape_problem(body).empty()) return false;  // before the parser recurses into it
    j = ojson::parse(body, nullptr, false);
    return !j.is_discarded();
  };
  auto not_json = [] {
    return refusal(400, "not JSON, nested deeper than " + std::to_string(kMaxJsonNesting) + " levels, or over " +
                            std::to_string(kMaxJsonValues) + " values");
  };
  http.route(
      "POST", "/hello",
      [&](const net::HttpRequest& req) {
        ojson j;
        if (!parse_body(req.body, j)) return not_json();
        int status = 400;
        if (std::string why = book.hello(j, unix_ms(), &status); !why.empty()) return refusal(status, why);
        return json_reply(200, {{"ok", true}});
      },
      net::Access::participant);
  http.route(
      "POST", "/record",
      [&](const net::HttpRequest& req) {
        ojson j;
        if (!parse_body(req.body, j)) return not_json();
        if (std::string err = check_posted(j); !err.empty()) return refusal(400, err);
        int status = 400;
        if (std::string why = book.record(j, unix_ms(), &status); !why.empty()) return refusal(status, why);
        std::string name = text_of(j, "participant", "?");
        std::fprintf(stderr, "c1m collect: record from %s (run %s)\n", name.c_str(),
                     text_of(j, "run", "default").c_str());
        return json_reply(200, {{"ok", true}});
      },
      net::Access::participant);
  http.route("GET", "/health", [&](const net::HttpRequest&) {
    return json_reply(200, {{"ok", true}, {"open_runs", book.open_runs()}, {"out", o.out}});
  });
  auto runs = [&](const net::HttpRequest&) { return json_reply(200, book.summary()); };
  http.route("GET", "/runs", runs);
  http.route("GET", "/status", runs);  // its first name
  http.route(
      "POST", "/runs/*",
      [&](const net::HttpRequest& req) {
        std::string rest = req.path.substr(std::string("/runs/").size());
        if (!rest.ends_with("/close")) return refusal(404, "POST /runs/ID/close is the one action on a run");
        std::string id = rest.substr(0, rest.size() - 6);
        if (!book.close(id))
          return refusal(book.find(id) || !store.find(id).empty() ? 409 : 404,
                         "no open run " + (is_safe_name(id, 64) ? id : std::string("by that name")));
        return json_reply(202, {{"run", id}, {"state", "closing"}});
      },
      net::Access::admin);
  http.route("GET", "/runs/*", [&](const net::HttpRequest& req) {
    std::string id = req.path.substr(std::string("/runs/").size());
    const BookedRun* r = book.find(id);
    // A run an earlier collector wrote is found under its id in the store.
    const std::string stored = r ? r->written_to : store.find(id);
    if (!r && stored.empty())
      return refusal(404, "no run " + (is_safe_name(id, 64) ? id : std::string("by that name")));
    if (stored.empty()) {
      ojson state = {
          {"run", id}, {"state", "open"}, {"reported_clients", r->reported()}, {"expect_clients", r->expect_clients}};
      if (unwritten.count(id)) {
        state["state"] = "unwritten";
        state["error"] = unwritten[id];
        return json_reply(503, state);  // its record is due and cannot be written; it is tried again
      }
      return json_reply(202, state);
    }
    auto text = procfs::read_text(stored);
    if (!text) return refusal(500, "run " + id + " was written to " + stored + ", which cannot be read now");
    return net::HttpReply{200, "application/json", *text};
  });
  if (!http.serve(fd)) throw UsageError("--listen " + at.str() + ": cannot serve HTTP");

  // Every half second: write the runs that are due. With --expect-count, the first one ends the collector.
  // A run whose record could not be written is tried again every 5 s; with --expect-count the
  // collector gives up at once (its one run's messages are in the spool for the next collector).
  loop.every({0, 500000}, [&] {
    int64_t now = unix_ms();
    bool retry = now >= next_retry_ms;
    for (const auto& [id, why] : book.due(now)) {
      if (unwritten.count(id) && !retry) continue;
      bool cut_short = why.starts_with("deadline");
      bool written = write_run(id, cut_short ? "failed" : "", why);
      if (!written) next_retry_ms = now + 5000;
      if (one_run) loop.break_loop();
    }
  });
  std::string signal_name;
  loop.on_signal([&](int sig) {
    signal_name = sig == SIGINT ? "SIGINT" : "SIGTERM";
    loop.break_loop();
  });
  if (one_run)
    std::fprintf(stderr, "c1m collect: waiting for %zu client records on http://%s/record (deadline %s)\n",
                 o.expect_count, at.str().c_str(), o.deadline.c_str());
  else
    std::fprintf(stderr, "c1m collect: serving on http://%s (hello, record, runs, health), records into %s\n",
                 at.str().c_str(), o.out.c_str());
  loop.run();

  if (!signal_name.empty()) {
    // What has come is written before the collector goes: every open run, as interrupted.
    for (const std::string& id : book.open_ids()) {
      const BookedRun* r = book.find(id);
      write_run(id, "interrupted",
                "the collector got " + signal_name + " with " + std::to_string(r->reported()) + " of " +
                    std::to_string(r->expect_clients) + " records");
    }
  }
  spool.remove_if_empty();
  if (own_spool) ::rmdir(spool_root.c_str());  // only when empty
  if (!unwritten.empty()) {
    std::string again = own_spool ? "c1m collect --listen ADDRESS:PORT --expect-count " +
                                        std::to_string(o.expect_count) + " --spool " + spool.dir()
                                  : "a collector started with --spool " + spool.dir();
    std::fprintf(stderr,
                 "c1m collect: %zu run(s) could not be written; their messages are kept in %s: %s writes them\n",
                 unwritten.size(), spool.dir().c_str(), again.c_str());
    return 1;
  }
  return signal_name.empty() ? last_rc : 130;
}

std::string check_posted(const ojson& j) {
  if (text_of(j, "role", "") == "server") return check_server_report(j);
  // Parsed once, by the caller, with its nesting bounded first; here only the one validator.
  std::string why;
  if (!RunRecord::from_json(j, why)) return "the posted record: " + why;
  return check_mergeable(j);
}

// What an earlier collector on this spool took and never wrote: back into the book, each record
// checked again as if it had just been posted.
void restore_spool(const Spool& spool, RunBook& book, const RecordStore& store) {
  std::vector<std::string> problems;
  std::map<std::string, int> restored;
  std::map<std::string, std::string> written;  // runs an earlier collector wrote and had not forgotten
  for (Filed& f : spool.load(&problems)) {
    if (std::string path = store.find(f.run); !path.empty()) {
      written[f.run] = path;
      continue;
    }
    std::string err = f.is_record ? check_posted(f.body) : std::string();
    if (err.empty()) err = book.restore(f);
    if (err.empty())
      ++restored[f.run];
    else
      problems.push_back(spool.dir() + "/" + f.run + ": a kept " + (f.is_record ? "record" : "hello") +
                         " is refused now: " + err);
  }
  for (const auto& [run, path] : written) {
    std::fprintf(stderr, "c1m collect: run %s in %s was written to %s already; its messages go\n", run.c_str(),
                 spool.dir().c_str(), path.c_str());
    spool.forget(run);
  }
  for (const std::string& p : problems) std::fprintf(stderr, "c1m collect: %s\n", p.c_str());
  for (const auto& [run, n] : restored)
    std::fprintf(stderr, "c1m collect: took up run %s from %s: %d message(s) an earlier collector kept\n", run.c_str(),
                 spool.dir().c_str(), n);
}

// Records of one experiment run one after another (make ci-bench's runs of an approach) as one
// record whose repetitions[] compare reads: its baseline and its new side are then samples, not
// single runs whose tails differ from one run to the next.
int collect_repetitions(const CollectOptions& o) {
  if (o.output.empty()) throw UsageError("--repetitions needs --output FILE: the record they make");
  std::vector<ojson> records;
  for (const std::string& path : o.repetitions) {
    std::string err;
    records.push_back(read_record(path, err));
    if (!err.empty()) throw UsageError("--repetitions " + err);
  }
  ojson merged = merge_repetitions(records, records.size(), false);
  if (std::string e = write_file_atomically(o.output, merged.dump(2) + "\n"); !e.empty())
    throw UsageError("--output " + o.output + ": " + e);
  std::printf("c1m collect: %zu repetitions -> %s (%s)\n", records.size(), o.output.c_str(),
              merged["status"].get<std::string>().c_str());
  return merged["status"] == "complete" ? 0 : 1;
}

int run_collect(const CollectOptions& o) {
  if (!o.repetitions.empty()) return collect_repetitions(o);
  if (!o.show.empty()) {
    std::string err;
    ojson r = read_record(o.show, err);
    if (!err.empty()) throw UsageError("--show " + err);
    return print_summary(r, o.show);
  }
  // Said before anything is read or merged: a run is not measured to be lost at the end.
  if (access(o.out.c_str(), W_OK | X_OK) != 0)
    throw UsageError("--out " + o.out + ": not a writable directory: " + std::strerror(errno));
  if (!o.listen.empty()) {
    if (!o.dir.empty()) throw UsageError("--listen and --dir: choose one");
    return run_collect_listen(o);
  }
  if (o.dir.empty())
    throw UsageError("collect needs --listen ADDRESS:PORT (clients push) or --dir DIR (clients left files)");
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
  req.approach = o.approach.empty() ? "multi-ip" : o.approach;
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
    if (err.empty() && !(err = check_mergeable(p.record)).empty()) {
      err = p.file + ": " + err;
      p.record = nullptr;
    }
    p.problem = err;
    if (!err.empty()) std::fprintf(stderr, "c1m collect: %s\n", err.c_str());
    req.clients.push_back(std::move(p));
  }
  for (const auto& name : expected)
    if (std::none_of(req.clients.begin(), req.clients.end(), [&](const Participant& p) { return p.name == name; }))
      req.clients.push_back({name, "", nullptr, "never reported (no record in " + o.dir + ")"});
  if (req.clients.empty()) throw UsageError("--dir " + o.dir + ": no client-*.json records and no --expect names");

  return write_and_summarize(merge_client_records(with_host_facts(req, o.host_name)), o);
}

int write_and_summarize(const ojson& merged, const CollectOptions& o, std::string* written_to, std::string* error) {
  std::string path;
  bool already = false;
  std::string err = RecordStore(o.out).put(merged, &path, &already);
  if (!err.empty()) {
    if (error)
      *error = err;
    else
      std::fprintf(stderr, "c1m collect: %s\n", err.c_str());
    return 1;
  }
  if (written_to) *written_to = path;
  if (already) {  // written by a collector that stopped before it could say so: that file stands
    std::printf("c1m collect: run %s was written to %s already\n", text_of(merged, "run_id", "").c_str(), path.c_str());
    return 0;
  }
  return print_summary(merged, path);
}

int print_summary(const ojson& merged, const std::string& path) {
  const auto& r = merged["results"];
  std::printf("c1m collect: %s%s%s\n", merged["status"].get<std::string>().c_str(),
              merged["reason"].is_string() ? ": " : "",
              merged["reason"].is_string() ? merged["reason"].get<std::string>().c_str() : "");
  std::printf("  clients      %s (%zu distinct addresses)\n",
              format_figure(merged["topology"]["clients"], "%.0f").c_str(),
              merged["topology"]["client_addresses"].size());
  std::printf("  established  client %s, server %s\n", format_figure(r["established_peak_client"], "%.0f").c_str(),
              format_figure(r["established_peak_server"], "%.0f").c_str());
  std::printf("  ramp         time to target %s, %s connects/s, %s errors\n",
              format_time_to_target(r["time_to_target_s"]).c_str(),
              format_figure(r["connect_rate_per_s"], "%.0f").c_str(), format_figure(r["errors_total"], "%.0f").c_str());
  std::printf("  connect      p50 %s ms, p99 %s ms\n", format_figure(r["connect_latency_ms"]["p50"], "%.3f").c_str(),
              format_figure(r["connect_latency_ms"]["p99"], "%.3f").c_str());
  std::fputs(ramp_cpu_and_live_lines(r).c_str(), stdout);
  std::printf("  record       %s\n", path.c_str());
  return merged["status"] == "complete" ? 0 : 1;
}

}  // namespace

Command add_collect_command(CLI::App& root) {
  auto o = std::make_shared<CollectOptions>();
  CLI::App* c = root.add_subcommand("collect", "merge the client records of one lab run into one run record");
  c->add_option("--listen", o->listen, "ADDRESS:PORT where clients (--report-to) push their records");
  c->add_option("--max-held", o->max_held,
                "with --listen: bytes of records it holds for runs not yet written; past it, 503 (1g, 500m, ...)")
      ->capture_default_str();
  c->add_option("--run-token", o->token,
                "with --listen: take hellos and records only when they carry this token (the lab's; give clients and "
                "server the same)")
      ->envname("C1M_RUN_TOKEN");
  c->add_option("--admin-token", o->admin_token,
                "with --listen: closing a run (POST /runs/ID/close) needs this token, which the lab keeps from its "
                "participants (default: the --run-token)")
      ->envname("C1M_ADMIN_TOKEN");
  c->add_option("--host-name", o->host_name,
                "the name of the machine the collector runs on, for the records (in a container its own name is "
                "not the machine's; lab-up gives the host's)")
      ->envname("C1M_HOST_NAME");
  c->add_option("--max-body", o->max_body, "with --listen: the largest request body it reads (a record: 64m at most)")
      ->capture_default_str();
  c->add_option("--max-connections", o->max_connections,
                "with --listen: HTTP connections open at once; past it, 503 and close")
      ->capture_default_str();
  c->add_option("--request-timeout", o->request_timeout,
                "with --listen: a request must arrive whole this long after its first byte; else 408 and close")
      ->capture_default_str();
  c->add_option("--spool", o->spool,
                "with --listen: where every hello and record is kept until its run is written (default OUT/.spool); "
                "a collector started on a spool takes up the runs it holds");
  c->add_option("--expect-count", o->expect_count, "with --listen: how many client records make the run");
  c->add_option("--deadline", o->deadline, "with --listen: write what has come by then")->capture_default_str();
  c->add_option("--dir", o->dir, "directory holding client-<name>.json records");
  c->add_option("--out", o->out, "directory for the run record")->capture_default_str();
  c->add_option("--approach", o->approach, "multi-ip or multi-port")->capture_default_str();
  // Not --expect: that is the server's connection count; this is a list of names.
  c->add_option("--expect-names", o->expect, "with --dir: comma list of client names that should have reported");
  c->add_option("--lab", o->lab_json,
                "with --dir: JSON file with what the lab knows (runtime, images, configured limits)");
  c->add_option("--lab-info", o->lab_info,
                "with --listen: KEY=VALUE of what the lab configured, for every record (repeat; dots nest)");
  c->add_option("--show", o->show, "print the summary of a merged record and exit with its status");
  c->add_option("--repetitions", o->repetitions,
                "records of one experiment run one after another: one record with repetitions[] (needs --output)");
  c->add_option("--output", o->output, "with --repetitions: the record to write");
  return {c, [o] { return run_collect(*o); }};
}

}  // namespace c1m::app
