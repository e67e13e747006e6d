// `c1m watch`: the lab's progress while a run goes on, from the participants' own counts: each
// client's status file in the run directory and the server's /stats (or, for a server that is not
// c1m's, its network namespace's established count, read from /proc). lab-up runs it beside the
// clients; it ends when every client has said how it ended, on SIGTERM/SIGINT, or at --timeout.
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "app/cli.hpp"
#include "core/host/clock.hpp"
#include "core/host/procfs.hpp"
#include "core/progress/progress.hpp"
#include "core/record/record.hpp"
#include "net/http/http_client.hpp"

namespace c1m::app {
namespace {

struct WatchOptions {
  std::string server_stats;
  int target_pid = 0;
  std::string dir;
  std::string connections;
  uint64_t clients = 1;
  std::string progress = "auto";
  std::string timeout = "20m";
};

volatile sig_atomic_t g_stop = 0;

std::vector<ojson> read_statuses(const std::string& dir) {
  std::vector<ojson> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (!name.starts_with("status-") || !name.ends_with(".json")) continue;  // as compose.yaml names them
    // A file rewritten by rename is whole or absent; one that does not parse is skipped this round.
    if (auto text = procfs::read_text(entry.path().string())) {
      ojson j = ojson::parse(*text, nullptr, false);
      if (!j.is_discarded()) out.push_back(std::move(j));
    }
  }
  return out;
}

int run_watch(const WatchOptions& o) {
  uint64_t target = require(parse_count(o.connections), "--connections", o.connections);
  int64_t timeout_ns = require(parse_duration_ns(o.timeout), "--timeout", o.timeout);
  if (o.server_stats.empty() == (o.target_pid == 0))
    throw UsageError("give one of --server-stats (c1m's server) and --target-pid (a server that is not c1m's)");
  std::optional<net::HttpConnection> stats;  // kept open: it still answers when the server's table is full
  if (!o.server_stats.empty()) stats.emplace(single_endpoint("--server-stats", o.server_stats));
  const std::string target_proc = "/proc/" + std::to_string(o.target_pid);
  if (!std::filesystem::is_directory(o.dir)) throw UsageError("--dir " + o.dir + ": not a directory");
  bool tty = o.progress == "tty" || (o.progress == "auto" && isatty(STDOUT_FILENO));
  signal(SIGTERM, [](int) { g_stop = 1; });
  signal(SIGINT, [](int) { g_stop = 1; });

  const int64_t start = monotonic_ns();
  std::string last_phase;
  std::optional<uint64_t> server_most;  // the most the server was seen holding
  for (uint64_t tick = 0;; ++tick) {
    double elapsed = seconds(monotonic_ns() - start);
    std::optional<uint64_t> server;
    if (stats) {
      if (auto r = stats->get("/stats", 500); r.status == 200)
        if (auto s = server_stats_from_json(ojson::parse(r.body, nullptr, false))) server = s->connections;
    } else {
      server = procfs::established_in_namespace(target_proc);
    }
    if (server) server_most = std::max(server_most.value_or(0), *server);
    LabProgress p = summarize_lab(read_statuses(o.dir), server, o.clients, target);
    p.server_peak_seen = server_most;
    bool end = p.phase == "done" || g_stop || elapsed * 1e9 > static_cast<double>(timeout_ns);
    std::string line = "lab: " + progress_line(p, elapsed);
    // On a terminal the line rewrites itself every second; without one (CI), a line every 5 s and at
    // every change of phase.
    if (tty) {
      std::printf("\r\033[K%s%s", line.c_str(), end ? "\n" : "");
    } else if (end || tick % 5 == 0 || p.phase != last_phase) {
      std::printf("%s\n", line.c_str());
    }
    std::fflush(stdout);
    last_phase = p.phase;
    if (end) return 0;
    usleep(1'000'000);
  }
}

}  // namespace

Command add_watch_command(CLI::App& root) {
  auto o = std::make_shared<WatchOptions>();
  CLI::App* c =
      root.add_subcommand("watch", "show a lab run's progress from the clients' status files and the server's /stats");
  c->add_option("--server-stats", o->server_stats, "the server's --admin ADDRESS:PORT");
  c->add_option("--target-pid", o->target_pid,
                "or, for a server that is not c1m's, a process of it: its network namespace's established count");
  c->add_option("--dir", o->dir, "the run directory the clients write their status files into (--status-file)")
      ->required();
  c->add_option("--connections,-n", o->connections, "the run's target, all clients together")->required();
  c->add_option("--clients", o->clients, "clients expected")->check(CLI::Range(1, 100000))->capture_default_str();
  c->add_option("--progress", o->progress, "tty: one line rewritten; plain: a line every 5 s")
      ->check(CLI::IsMember({"auto", "tty", "plain"}))
      ->capture_default_str();
  c->add_option("--timeout", o->timeout, "stop watching after this long")->capture_default_str();
  return {c, [o] { return run_watch(*o); }};
}

}  // namespace c1m::app
