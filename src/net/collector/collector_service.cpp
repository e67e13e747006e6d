#include "net/collector/collector_service.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <vector>

#include "core/host/clock.hpp"
#include "core/host/host.hpp"
#include "core/host/procfs.hpp"
#include "core/record/record_file.hpp"
#include "core/record/run_record.hpp"
#include "core/record/server_stats.hpp"
#include "core/usage.hpp"

namespace c1m::net {
namespace {

HttpReply json_reply(int status, const ojson& body) { return {status, "application/json", body.dump()}; }
HttpReply refusal(int status, const std::string& why) { return json_reply(status, {{"error", why}}); }

// What a server reports of a run: its /stats document (c1m server --report-to).
std::string check_server_report(const ojson& j) {
  std::string why;
  return server_stats_from_json(j, &why) ? std::string() : "a server's report: " + why;
}

// A request's body as JSON, its shape bounded before the parser recurses into it or allocates for
// it; the refusal when it cannot be taken: 413 past the collector's count of values, else 400.
std::optional<HttpReply> parse_body(const std::string& body, size_t max_values, ojson& j) {
  const std::string problem = json_shape_problem(body, kMaxJsonNesting, max_values);
  if (problem.find("values") != std::string::npos)
    return refusal(413, "holds more than " + std::to_string(max_values) +
                            " JSON values, more than this collector parses (its --max-record-values)");
  if (problem.empty()) {
    j = ojson::parse(body, nullptr, false);
    if (!j.is_discarded()) return std::nullopt;
  }
  return refusal(400, "not JSON, or nested deeper than " + std::to_string(kMaxJsonNesting) + " levels");
}

// How long a written run's receipt is kept: a participant retries for about a minute and a half.
constexpr int64_t kReceiptAge_ms = 60 * 60 * 1000;

// A message taken now, or one taken before whose run is written already (it was sent again).
HttpReply taken(const std::string& written_to) {
  if (written_to.empty()) return json_reply(200, {{"ok", true}});
  return json_reply(200, {{"ok", true}, {"already_written_to", written_to}});
}

std::string name_or_not(const std::string& id) { return is_safe_name(id, 64) ? id : std::string("by that name"); }

// What an earlier collector on this spool took and never wrote: back into the book, each record
// checked again as if it had just been posted.
void restore_spool(const Spool& spool, RunBook& book, const RecordStore& store) {
  // Written runs first: a participant's resent message for one is answered as taken, not refused.
  for (const ojson& receipt : spool.load_receipts(unix_ms(), kReceiptAge_ms))
    if (std::string path = receipt.value("written_to", std::string());
        !path.empty() && ::access(path.c_str(), F_OK) == 0)
      book.restore_written(receipt);
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

}  // namespace

std::string check_posted(const ojson& j) {
  if (text_of(j, "role", "") == "server") return check_server_report(j);
  // Parsed once, by the caller, with its nesting bounded first; here only the one validator.
  std::string why;
  if (!RunRecord::from_json(j, why)) return "the posted record: " + why;
  return check_mergeable(j);
}

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

CollectorService::CollectorService(CollectorConfig config, WriteRecord write)
    : c_(std::move(config)),
      write_(std::move(write)),
      spool_(c_.spool_dir),
      store_(c_.out),
      book_(
          c_.book, [this](const Filed& f) { return spool_.keep(f); },
          [this](const std::string& run) { return store_.find(run); }) {
  if (c_.own_spool) ::mkdir(c_.spool_root.c_str(), 0700);
  if (std::string why = spool_.open(); !why.empty()) throw UsageError("--spool: " + why);
  if (!c_.own_spool) restore_spool(spool_, book_, store_);
  book_.open_default(unix_ms());  // --expect-count: its one run's deadline counts from now
  HttpLimits limits;
  limits.max_body_bytes = c_.max_body_bytes;
  limits.max_connections = c_.max_connections;
  limits.request_timeout_s = c_.request_timeout_s;
  http_ = std::make_unique<HttpService>(loop_.base(), limits);
  http_->require_token(Access::participant, c_.token);
  http_->require_token(Access::admin, c_.admin_token);
  add_routes();
}

// Writes one run; `status`/`why` override the merge's verdict when the run was cut short. False when
// the record could not be written: the run stays open and its messages stay in the spool.
bool CollectorService::write_run(const std::string& id, const std::string& status, const std::string& why) {
  CollectRequest req = book_.request(id);
  req.lab = c_.lab;
  ojson merged = merge_client_records(with_host_facts(req, c_.host_name));
  if (!c_.approach.empty()) merged["approach"] = c_.approach;
  if (!status.empty() && merged["status"] != "interrupted") {
    merged["status"] = status;
    merged["reason"] =
        merged["reason"].is_string() ? ojson(why + "; " + merged["reason"].get<std::string>()) : ojson(why);
  }
  std::string path, error;
  int rc = write_(merged, &path, &error);
  std::fflush(stdout);
  if (path.empty()) {
    if (unwritten_[id] != error)
      std::fprintf(stderr, "c1m collect: run %s not written (%s); its messages stay in %s, trying again every 5 s\n",
                   id.c_str(), error.c_str(), spool_.dir().c_str());
    unwritten_[id] = error;
    return false;
  }
  last_rc_ = merged["status"] == "interrupted" ? 130 : rc;
  unwritten_.erase(id);
  book_.written(id, path, merged["status"].get<std::string>());
  if (std::string why = spool_.keep_receipt(id, book_.receipt(id), unix_ms()); !why.empty())
    std::fprintf(stderr,
                 "c1m collect: run %s's receipt not kept (%s): a participant that sends again to the next "
                 "collector is refused\n",
                 id.c_str(), why.c_str());
  spool_.forget(id);
  return true;
}

void CollectorService::add_routes() {
  http_->route(
      "POST", "/hello",
      [this](const HttpRequest& req) {
        ojson j;
        if (auto refused = parse_body(req.body, c_.max_record_values, j)) return *refused;
        int status = 400;
        std::string written_to;
        if (std::string why = book_.hello(j, unix_ms(), &status, &written_to); !why.empty())
          return refusal(status, why);
        return taken(written_to);
      },
      Access::participant);
  http_->route(
      "POST", "/record",
      [this](const HttpRequest& req) {
        ojson j;
        if (auto refused = parse_body(req.body, c_.max_record_values, j)) return *refused;
        if (std::string err = check_posted(j); !err.empty()) return refusal(400, err);
        int status = 400;
        std::string written_to;
        if (std::string why = book_.record(j, unix_ms(), &status, &written_to); !why.empty())
          return refusal(status, why);
        std::fprintf(stderr, "c1m collect: record from %s (run %s)%s\n", text_of(j, "participant", "?").c_str(),
                     text_of(j, "run", "default").c_str(), written_to.empty() ? "" : ", sent again: taken before");
        return taken(written_to);
      },
      Access::participant);
  http_->route("GET", "/health", [this](const HttpRequest&) {
    return json_reply(200, {{"ok", true}, {"open_runs", book_.open_runs()}, {"out", c_.out}});
  });
  // Made again only when the book has changed: GET /runs is open to the lab's network, and a peer
  // that pipelines it must not cost the collector a summary of every run each time.
  auto runs = [this](const HttpRequest&) {
    if (!runs_answer_ || runs_answer_->first != book_.changes())
      runs_answer_.emplace(book_.changes(), book_.summary().dump());
    return HttpReply{200, "application/json", runs_answer_->second};
  };
  http_->route("GET", "/runs", runs);
  http_->route("GET", "/status", runs);  // its first name
  http_->route(
      "POST", "/runs/*", [this](const HttpRequest& req) { return runs_post(req.path.substr(6)); }, Access::admin);
  http_->route("GET", "/runs/*", [this](const HttpRequest& req) { return runs_get(req.path.substr(6)); });
}

HttpReply CollectorService::runs_post(const std::string& rest) {
  if (!rest.ends_with("/close")) return refusal(404, "POST /runs/ID/close is the one action on a run");
  std::string id = rest.substr(0, rest.size() - 6);
  if (!book_.close(id))
    return refusal(book_.find(id) || !store_.find(id).empty() ? 409 : 404, "no open run " + name_or_not(id));
  return json_reply(202, {{"run", id}, {"state", "closing"}});
}

HttpReply CollectorService::runs_get(const std::string& id) {
  const BookedRun* r = book_.find(id);
  // A run an earlier collector wrote is found under its id in the store.
  const std::string stored = r ? r->written_to : store_.find(id);
  if (!r && stored.empty()) return refusal(404, "no run " + name_or_not(id));
  if (stored.empty()) {
    ojson state = {
        {"run", id}, {"state", "open"}, {"reported_clients", r->reported()}, {"expect_clients", r->expect_clients}};
    if (!unwritten_.count(id)) return json_reply(202, state);
    state["state"] = "unwritten";
    state["error"] = unwritten_[id];
    return json_reply(503, state);  // its record is due and cannot be written; it is tried again
  }
  auto text = procfs::read_text(stored);
  if (!text) return refusal(500, "run " + id + " was written to " + stored + ", which cannot be read now");
  return HttpReply{200, "application/json", *text};
}

// The runs that are due. With --expect-count, the first one ends the collector. A run whose record
// could not be written is tried again every 5 s; with --expect-count the collector gives up at once
// (its one run's messages are in the spool for the next collector).
void CollectorService::write_due_runs() {
  int64_t now = unix_ms();
  bool retry = now >= next_retry_ms_;
  for (const auto& [id, why] : book_.due(now)) {
    if (unwritten_.count(id) && !retry) continue;
    bool cut_short = why.starts_with("deadline");
    if (!write_run(id, cut_short ? "failed" : "", why)) next_retry_ms_ = now + 5000;
    if (c_.one_run()) loop_.break_loop();
  }
}

int CollectorService::run(int listen_fd) {
  if (!http_->serve(listen_fd)) throw UsageError("--listen " + c_.listen.str() + ": cannot serve HTTP");
  loop_.every({0, 500000}, [this] { write_due_runs(); });
  std::string signal_name;
  loop_.on_signal([&](int sig) {
    signal_name = sig == SIGINT ? "SIGINT" : "SIGTERM";
    loop_.break_loop();
  });
  if (c_.one_run())
    std::fprintf(stderr, "c1m collect: waiting for %zu client records on http://%s/record (deadline %s)\n",
                 c_.expect_count, c_.listen.str().c_str(), c_.book.deadline_text.c_str());
  else
    std::fprintf(stderr, "c1m collect: serving on http://%s (hello, record, runs, health), records into %s\n",
                 c_.listen.str().c_str(), c_.out.c_str());
  loop_.run();
  return finish(signal_name);
}

// What has come is written before the collector goes: every open run, as interrupted after a signal.
int CollectorService::finish(const std::string& signal_name) {
  if (!signal_name.empty())
    for (const std::string& id : book_.open_ids()) {
      const BookedRun* r = book_.find(id);
      write_run(id, "interrupted",
                "the collector got " + signal_name + " with " + std::to_string(r->reported()) + " of " +
                    std::to_string(r->expect_clients) + " records");
    }
  spool_.remove_if_empty();
  if (c_.own_spool) ::rmdir(c_.spool_root.c_str());  // only when empty
  if (!unwritten_.empty()) {
    std::string again = c_.own_spool ? "c1m collect --listen ADDRESS:PORT --expect-count " +
                                           std::to_string(c_.expect_count) + " --spool " + spool_.dir()
                                     : "a collector started with --spool " + spool_.dir();
    std::fprintf(stderr,
                 "c1m collect: %zu run(s) could not be written; their messages are kept in %s: %s writes them\n",
                 unwritten_.size(), spool_.dir().c_str(), again.c_str());
    return 1;
  }
  return signal_name.empty() ? last_rc_ : 130;
}

}  // namespace c1m::net
