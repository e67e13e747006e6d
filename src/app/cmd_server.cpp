// `c1m server`: listen on one or more ports, hold every connection, echo pings, serve stats.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>

#include "app/cli.hpp"
#include "core/atomic_file.hpp"
#include "core/counters.hpp"
#include "core/host.hpp"
#include "core/plan.hpp"
#include "core/procfs.hpp"
#include "core/record.hpp"
#include "net/collector_link.hpp"
#include "net/http_client.hpp"
#include "net/http_service.hpp"
#include "net/server_worker.hpp"
#include "net/supervisor.hpp"

namespace c1m::app {
namespace {

struct ServerOptions {
  std::string listen = "127.0.0.1:9000";
  std::string expect = "1m";
  std::string admin;
  std::string json;
  std::string duration = "0";
  std::string max_per_worker;
  std::string spread = "port-block";
  std::string sched = "batch";
  std::string live_sched = "normal";
  std::string report_to;
  std::string run_id;
  int backlog = 65535;
  size_t workers = 0;
  bool no_echo = false;
  bool share_ports = false;  // join ports another process already listens on (SO_REUSEPORT)
  std::string run_token;     // the collector's token, sent with hello and report
};

// The kernel spreads connections over SO_REUSEPORT listeners by hash, unevenly: at 1M over 52 workers
// some reached 19,900 while the mean was 19,230. Size for 10% more than expected.
constexpr double kReusePortHeadroom = 1.10;

int run_server(const ServerOptions& o) {
  auto listen = require(parse_endpoint_list(o.listen, resolve_host_name), "--listen", o.listen);
  uint64_t expect = require(parse_count(o.expect), "--expect", o.expect);
  int64_t duration_ns = require(parse_duration_ns(o.duration), "--duration", o.duration);
  std::optional<Endpoint> admin;
  if (!o.admin.empty()) admin = single_endpoint("--admin", o.admin);
  // Said now, not after the run: a stats file that cannot be written is bad input.
  if (!o.json.empty() && o.json != "-" && access(directory_of(o.json).c_str(), W_OK) != 0)
    throw UsageError("--json " + o.json + ": directory " + directory_of(o.json) +
                     " is not writable: " + std::strerror(errno));
  std::optional<Endpoint> report_to;
  if (!o.report_to.empty()) report_to = single_endpoint("--report-to", o.report_to);
  if (report_to && o.run_id.empty())
    throw UsageError("--report-to needs --run-id: the run the server's report belongs to");

  uint64_t nofile = raise_nofile_to_hard();
  // Before the workers fork: they inherit it. The record's limits say what was in force.
  if (std::string why = set_sched_policy(o.sched); !why.empty())
    std::fprintf(stderr, "c1m server: warning: %s\n", why.c_str());
  uint64_t capacity = worker_capacity(nofile);
  if (!o.max_per_worker.empty())
    capacity = require(parse_count(o.max_per_worker), "--max-per-worker", o.max_per_worker);
  if (capacity == 0) throw UsageError("--max-per-worker must be at least 1");
  size_t workers = o.workers ? o.workers : workers_needed(expect, capacity, kReusePortHeadroom);
  if (workers > kMaxWorkers)
    throw UsageError("--expect " + o.expect + " needs " + std::to_string(workers) + " workers at " +
                     std::to_string(capacity) + " connections each; more than " + std::to_string(kMaxWorkers));

  // Refuse a port we cannot have before forking anything (the workers open their own listeners).
  // Tried without SO_REUSEPORT first: a port another server's listeners hold would otherwise be
  // joined silently, and the kernel would split the connections between the two servers.
  for (const Endpoint& e : listen) {
    int fd = net::open_listener(e, o.backlog, o.share_ports);
    if (fd < 0 && errno == EADDRINUSE && !o.share_ports)
      throw UsageError("--listen " + e.str() +
                       ": another process already listens there (pass --share-ports to split its connections with it)");
    if (fd < 0) throw UsageError("--listen " + e.str() + ": cannot listen: " + std::strerror(errno));
    ::close(fd);
  }

  int admin_fd = -1;
  if (admin) {
    admin_fd = net::HttpService::open_socket(*admin);
    if (admin_fd < 0) throw UsageError("--admin cannot listen on " + admin->str() + ": " + std::strerror(errno));
  }

  ojson listen_json = ojson::array();
  for (const Endpoint& e : listen) listen_json.push_back(e.str());
  ojson limits = process_limits();
  limits["connections_per_worker_max"] = capacity;  // the client names its limit the same
  const procfs::KernelSnapshot kernel_at_start = procfs::take_kernel_snapshot(procfs::SlabDetail::without_caches);
  const ojson context = [&] {
    ojson c = server_context_json(listen_json, limits, host_fingerprint(),
                                  {{"namespaced", namespaced_sysctls()}, {"host", host_sysctls()}});
    c["spread"] = o.spread;
    c["sched"] = o.sched;
    c["live_sched"] = o.live_sched;
    return c;
  }();

  // Every port's SO_REUSEPORT group numbers its listeners in the order they joined. Opening them
  // here, worker by worker, makes slot k the same worker on every port, so the source-port steering
  // sends a client's run of connections to one worker whichever port it targets. (Workers opening
  // their own would join each group in a different order.)
  std::vector<std::vector<int>> first_listeners(workers);
  if (o.spread == "port-block" && workers * listen.size() + 200 < nofile) {
    for (auto& fds : first_listeners)
      for (const Endpoint& e : listen) {
        int fd = net::open_listener(e, o.backlog, true);
        if (fd < 0) throw UsageError("--listen " + e.str() + ": cannot listen: " + std::strerror(errno));
        fds.push_back(fd);
      }
  }
  auto close_first_listeners = [&](size_t except) {
    for (size_t w = 0; w < first_listeners.size(); ++w)
      if (w != except)
        for (int fd : first_listeners[w]) ::close(fd);
  };

  net::WorkerPool pool;
  std::string err = pool.spawn(workers, [&](size_t i, int control_fd) {
    if (admin_fd >= 0) ::close(admin_fd);  // the parent serves it
    close_first_listeners(i);
    net::ServerWorkerConfig cfg{listen,
                                o.backlog,
                                !o.no_echo,
                                capacity,
                                static_cast<uint32_t>(i),
                                control_fd,
                                static_cast<uint32_t>(workers),
                                o.spread == "port-block",
                                first_listeners[i]};
    cfg.live_sched = o.live_sched.c_str();
    return net::run_server_worker(cfg);
  });
  close_first_listeners(workers);  // the workers have theirs
  if (!err.empty()) {
    std::fprintf(stderr, "c1m server: %s\n", err.c_str());
    return 1;
  }

  std::vector<ServerCounters> latest(workers);
  uint64_t peak = 0;
  auto total = [&] { return sum_counters<ServerCounters>(latest); };
  // The ramp's CPU, as the floor probe measures its own: from the first accepted connection to the
  // moment all --expect are held (each read on the worker report that shows it).
  std::optional<uint64_t> cpu_at_first_accept_ns;
  std::optional<double> ramp_cpu_s;
  net::Supervisor sup(pool, [&](uint32_t w, net::MessageType type, const void* payload, size_t size) {
    if (type == net::MessageType::server_counters && size == sizeof(ServerCounters)) {
      std::memcpy(&latest[w], payload, sizeof(ServerCounters));
      peak = std::max(peak, total().connections);
      if (!cpu_at_first_accept_ns && total().accepted_total > 0) cpu_at_first_accept_ns = pool.cpu_ns();
      if (!ramp_cpu_s && cpu_at_first_accept_ns && peak >= expect)
        ramp_cpu_s = static_cast<double>(pool.cpu_ns() - *cpu_at_first_accept_ns) / 1e9;
    } else if (type == net::MessageType::fatal) {
      std::fprintf(stderr, "c1m server: worker %u failed: %.*s\n", w, static_cast<int>(size),
                   static_cast<const char*>(payload));
    }
  });
  auto alive = [&] { return pool.reap_exited(); };
  // A worker that died took its connections with it (the kernel closed them): they are no longer
  // held, and the stats say which worker went and how many it held.
  ojson workers_lost = ojson::array();
  auto stats = [&] {
    auto now = procfs::take_kernel_snapshot(procfs::SlabDetail::without_caches);
    ojson j = server_stats_json(total(), peak, workers, alive(), {static_cast<double>(pool.cpu_ns()) / 1e9, ramp_cpu_s},
                                context, tcpext_delta(kernel_at_start, now), conntrack_json(now));
    j["workers_lost"] = workers_lost;  // the final stats add workers_lost_reason: how they ended
    // In force now: --sched's through the ramp, --live-sched's once a worker has echoed a ping.
    if (!pool.workers().empty()) j["workers_sched_policy"] = sched_policy_name(pool.workers()[0].pid);
    return j;
  };

  std::unique_ptr<net::HttpService> http;
  if (admin) {
    http = std::make_unique<net::HttpService>(sup.loop().base(), net::HttpLimits{});  // GET only
    http->route("GET", "/stats", [&](const net::HttpRequest&) {
      return net::HttpReply{200, "application/json", stats().dump()};
    });
    http->route("GET", "/metrics", [&](const net::HttpRequest&) {
      return net::HttpReply{200, "text/plain; version=0.0.4; charset=utf-8", server_metrics_text(total(), alive())};
    });
    if (!http->serve(admin_fd)) {
      std::fprintf(stderr, "c1m server: cannot serve HTTP on --admin %s\n", admin->str().c_str());
      return 1;  // the pool's destructor stops the workers
    }
  }
  // The collector hears from the server as from every participant: hello now, and its own account of
  // the run (its stats: counts, limits, sysctls, its namespace's counters) once every connection of
  // the run has gone, or when it stops.
  const std::string participant = "server-" + context["host"].value("hostname", std::string("unknown"));
  std::optional<net::CollectorLink> link;
  if (report_to) link.emplace(*report_to, o.run_token);
  // Its messages go from a thread of their own, one after another (the hello binds the server's key
  // first): a collector that does not answer never stalls the supervisor's loop or its /stats.
  std::thread reporting;
  auto tell_collector = [&](const std::string& path, ojson body, int budget_s) {
    body.update({{"participant", participant}, {"name", participant}, {"role", "server"}, {"run", o.run_id}});
    std::thread before = std::move(reporting);
    reporting = std::thread([&link, path, budget_s, body = std::move(body), before = std::move(before)]() mutable {
      if (before.joinable()) before.join();
      std::string why;
      if (!link->post(path, body, 5000, budget_s, &why))
        std::fprintf(stderr, "c1m server: warning: POST %s to the collector %s failed: %s\n", path.c_str(),
                     link->at().str().c_str(), why.c_str());
    });
  };
  bool reported = false;
  auto report_run = [&](const std::string& why) {
    if (!report_to || reported) return;
    reported = true;
    ojson doc = stats();
    doc["ended_because"] = why;
    tell_collector("/record", std::move(doc), 15);  // tried again while the collector says "later"
  };
  if (report_to) {
    tell_collector("/hello", ojson::object(), 0);
    sup.every({1, 0}, [&] {
      if (peak > 0 && total().connections == 0) report_run("every connection of the run has closed");
    });
  }
  bool fatal = false;
  sup.on_worker_lost([&](size_t w) {
    std::fprintf(stderr,
                 "c1m server: worker %zu ended unexpectedly with %llu connections; serving on with the others\n", w,
                 static_cast<unsigned long long>(latest[w].connections));
    // A worker that could not even listen means the whole server is misconfigured.
    if (latest[w].accepted_total == 0 && latest[w].listeners == 0) fatal = true;
    workers_lost.push_back({{"worker", w}, {"connections_lost", latest[w].connections}});
    latest[w].connections = latest[w].listeners = latest[w].open_fds = latest[w].rss_bytes = 0;
  });
  sup.on_signal([&](int) { sup.stop(3000); });
  if (duration_ns > 0) {
    sup.loop().after({static_cast<time_t>(duration_ns / 1'000'000'000),
                      static_cast<suseconds_t>(duration_ns % 1'000'000'000 / 1000)},
                     [&] { sup.stop(3000); });
  }
  std::fprintf(stderr, "c1m server: %zu workers x %llu connections on %s%s%s\n", workers,
               static_cast<unsigned long long>(capacity), o.listen.c_str(), admin ? ", stats on http://" : "",
               admin ? (admin->str() + "/stats").c_str() : "");
  sup.run();
  report_run("the server stopped");
  if (reporting.joinable()) reporting.join();  // at most 15 s of tries and one 5 s wait

  ojson final_stats = stats();
  final_stats["workers_lost_reason"] = pool.describe_lost().empty() ? ojson(nullptr) : ojson(pool.describe_lost());
  std::printf("%s\n", final_stats.dump().c_str());
  std::fflush(stdout);
  bool written = true;
  if (!o.json.empty() && o.json != "-") {
    std::string e = write_file_atomically(o.json, final_stats.dump(2) + "\n");
    if (!e.empty()) std::fprintf(stderr, "c1m server: the stats were not written: %s\n", e.c_str());
    written = e.empty();
  }
  ServerCounters t = total();
  std::fprintf(stderr, "c1m server: stopped; peak %llu connections, %llu accepted, %llu errors\n",
               static_cast<unsigned long long>(peak), static_cast<unsigned long long>(t.accepted_total),
               static_cast<unsigned long long>(t.errors.total()));
  return fatal || !written ? 1 : 0;
}

}  // namespace

Command add_server_command(CLI::App& root) {
  auto o = std::make_shared<ServerOptions>();
  CLI::App* s = root.add_subcommand("server", "accept and hold connections on one or more ports");
  s->add_option("--listen", o->listen, "ADDRESS:PORT, ADDRESS:PORT1-PORT2 or a comma list")->capture_default_str();
  s->add_option("--expect", o->expect, "connections to size the workers for (1m, 50k, ...)")->capture_default_str();
  s->add_option("--workers", o->workers, "worker processes (default: from --expect and the open-files limit)");
  s->add_option("--max-per-worker", o->max_per_worker,
                "connections a worker holds before it stops listening (default: open-files limit - 100)");
  s->add_option("--backlog", o->backlog, "listen backlog per socket (capped by net.core.somaxconn)")
      ->check(CLI::Range(1, 1 << 24))
      ->capture_default_str();
  s->add_option("--admin", o->admin, "ADDRESS:PORT for GET /stats and GET /metrics");
  s->add_option(
       "--spread", o->spread,
       "how the kernel picks a worker for a new connection: port-block (by source port / 16, so a worker takes "
       "runs of connections per wake-up) or hash (the kernel's 4-tuple hash)")
      ->check(CLI::IsMember({"port-block", "hash"}))
      ->capture_default_str();
  s->add_option("--sched", o->sched, kSchedHelp)->check(CLI::IsMember({"batch", "normal"}))->capture_default_str();
  s->add_option("--live-sched", o->live_sched, kLiveSchedHelp)
      ->check(CLI::IsMember({"batch", "normal"}))
      ->capture_default_str();
  s->add_flag("--no-echo", o->no_echo, "do not echo ping frames (hold only)");
  s->add_flag("--share-ports", o->share_ports,
              "listen beside another process's SO_REUSEPORT listeners (the kernel splits the connections)");
  s->add_option("--duration", o->duration, "stop by itself after this long (0: until SIGINT/SIGTERM)")
      ->capture_default_str();
  s->add_option("--json", o->json, "write the final stats here too");
  s->add_option("--report-to", o->report_to,
                "ADDRESS:PORT of a collector: hello at start, its stats when the run's connections have gone");
  s->add_option("--run-id", o->run_id, "with --report-to: the run the server takes part in");
  s->add_option("--run-token", o->run_token, "with --report-to: the collector's token (its --run-token)")
      ->envname("C1M_RUN_TOKEN");
  return {s, [o] { return run_server(*o); }};
}

}  // namespace c1m::app
