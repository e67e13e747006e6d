#include "net/server/server_service.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/host/atomic_file.hpp"
#include "core/host/host.hpp"
#include "core/record/record.hpp"
#include "core/usage.hpp"
#include "net/server/server_worker.hpp"

namespace c1m::net {
namespace {

ojson server_context(const ServerConfig& c) {
  ojson listen = ojson::array();
  for (const Endpoint& e : c.listen) listen.push_back(e.str());
  ojson limits = process_limits();
  limits["connections_per_worker_max"] = c.capacity;  // the client names its limit the same
  ojson context = server_context_json(listen, limits, host_fingerprint(),
                                      {{"namespaced", namespaced_sysctls()}, {"host", host_sysctls()}});
  context["spread"] = c.spread;
  context["sched"] = c.sched;
  context["live_sched"] = c.live_sched;
  context["tls"] = tls_json(c.tls, true);
  if (c.tls.on) {
    context["tls"]["library"] = tls::library_version();
    context["tls"]["kernel_tls"] = tls::kernel_tls_available() ? "available, not used" : "absent";
  }
  return context;
}

}  // namespace

ServerService::ServerService(ServerConfig config, tls::SslCtxPtr tls)
    : c_(std::move(config)),
      tls_(std::move(tls)),
      kernel_at_start_(procfs::take_kernel_snapshot(procfs::SlabDetail::without_caches)),
      context_(server_context(c_)),
      first_listeners_(c_.workers),
      latest_(c_.workers),
      participant_("server-" + context_["host"].value("hostname", std::string("unknown"))) {
  if (c_.report_to) link_.emplace(*c_.report_to, c_.run_token);
}

ServerService::~ServerService() {
  if (reporting_.joinable()) reporting_.join();
}

// Every port's SO_REUSEPORT group numbers its listeners in the order they joined. Opening them here,
// worker by worker, makes slot k the same worker on every port, so the source-port steering sends a
// client's run of connections to one worker whichever port it targets. (Workers opening their own
// would join each group in a different order.)
void ServerService::open_first_listeners() {
  if (c_.spread != "port-block" || c_.workers * c_.listen.size() + 200 >= c_.nofile) return;
  for (auto& fds : first_listeners_)
    for (const Endpoint& e : c_.listen) {
      int fd = open_listener(e, c_.backlog, true);
      if (fd < 0) throw UsageError("--listen " + e.str() + ": cannot listen: " + std::strerror(errno));
      fds.push_back(fd);
    }
}

bool ServerService::spawn_workers(int admin_fd) {
  auto close_first_listeners = [this](size_t except) {
    for (size_t w = 0; w < first_listeners_.size(); ++w)
      if (w != except)
        for (int fd : first_listeners_[w]) ::close(fd);
  };
  std::string err = pool_.spawn(c_.workers, [&](size_t i, int control_fd) {
    if (admin_fd >= 0) ::close(admin_fd);  // the parent serves it
    close_first_listeners(i);
    ServerWorkerConfig cfg{c_.listen,
                           c_.backlog,
                           c_.echo,
                           c_.capacity,
                           static_cast<uint32_t>(i),
                           control_fd,
                           static_cast<uint32_t>(c_.workers),
                           c_.spread == "port-block",
                           first_listeners_[i]};
    cfg.live_sched = c_.live_sched.c_str();
    cfg.tls = tls_.get();
    cfg.tls_keeps_library = c_.tls.held == "library";
    return run_server_worker(cfg);
  });
  close_first_listeners(c_.workers);  // the workers have theirs
  if (!err.empty()) std::fprintf(stderr, "c1m server: %s\n", err.c_str());
  return err.empty();
}

void ServerService::on_message(uint32_t w, MessageType type, const void* payload, size_t size) {
  if (type == MessageType::server_counters && size == sizeof(ServerCounters)) {
    std::memcpy(&latest_[w], payload, sizeof(ServerCounters));
    peak_ = std::max(peak_, total().connections);
    if (!cpu_at_first_accept_ && total().accepted_total > 0) cpu_at_first_accept_ = pool_.cpu();
    if (!ramp_cpu_ && cpu_at_first_accept_ && peak_ >= c_.expect) ramp_cpu_ = pool_.cpu().since(*cpu_at_first_accept_);
  } else if (type == MessageType::fatal) {
    std::fprintf(stderr, "c1m server: worker %u failed: %.*s\n", w, static_cast<int>(size),
                 static_cast<const char*>(payload));
  }
}

void ServerService::on_worker_lost(size_t w) {
  std::fprintf(stderr, "c1m server: worker %zu ended unexpectedly with %llu connections; serving on with the others\n",
               w, static_cast<unsigned long long>(latest_[w].connections));
  // A worker that could not even listen means the whole server is misconfigured.
  if (latest_[w].accepted_total == 0 && latest_[w].listeners == 0) fatal_ = true;
  workers_lost_.push_back({{"worker", w}, {"connections_lost", latest_[w].connections}});
  latest_[w].connections = latest_[w].listeners = latest_[w].open_fds = latest_[w].rss_bytes = 0;
}

ServerStats ServerService::stats() {
  auto now = procfs::take_kernel_snapshot(procfs::SlabDetail::without_caches);
  ServerCpu cpu{pool_.cpu().total_s(), std::nullopt, std::nullopt};
  if (ramp_cpu_) cpu = {cpu.total_s, ramp_cpu_->total_s(), ramp_cpu_->user_s()};
  ServerStats s =
      server_stats_of(total(), peak_, c_.workers, pool_.reap_exited(), cpu, context_, kernel_at_start_, now);
  s.workers_lost = workers_lost_;  // the final stats add workers_lost_reason: how they ended
  // In force now: --sched's through the ramp, --live-sched's once a worker has echoed a ping.
  if (!pool_.workers().empty()) s.workers_sched_policy = sched_policy_name(pool_.workers()[0].pid);
  return s;
}

bool ServerService::serve_admin(int admin_fd) {
  http_ = std::make_unique<HttpService>(sup_->loop().base(), HttpLimits{});  // GET only
  http_->route("GET", "/stats", [this](const HttpRequest&) {
    return HttpReply{200, "application/json", to_json(stats()).dump()};
  });
  http_->route("GET", "/metrics", [this](const HttpRequest&) {
    return HttpReply{200, "text/plain; version=0.0.4; charset=utf-8", server_metrics_text(stats())};
  });
  if (http_->serve(admin_fd)) return true;
  std::fprintf(stderr, "c1m server: cannot serve HTTP on --admin %s\n", c_.admin->str().c_str());
  return false;
}

// The collector hears from the server as from every participant: hello at the start, and its own
// account of the run (its stats) once every connection of the run has gone, or when it stops. The
// messages go from a thread of their own, one after another (the hello binds the server's key
// first): a collector that does not answer never stalls the supervisor's loop or its /stats.
void ServerService::tell_collector(const std::string& path, ojson body, int budget_s) {
  body.update({{"participant", participant_}, {"name", participant_}, {"role", "server"}, {"run", c_.run_id}});
  std::thread before = std::move(reporting_);
  reporting_ = std::thread([this, path, budget_s, body = std::move(body), before = std::move(before)]() mutable {
    if (before.joinable()) before.join();
    std::string why;
    if (!link_->post(path, body, 5000, budget_s, &why))
      std::fprintf(stderr, "c1m server: warning: POST %s to the collector %s failed: %s\n", path.c_str(),
                   link_->at().str().c_str(), why.c_str());
  });
}

void ServerService::report_run(const std::string& why) {
  if (!link_ || reported_) return;
  reported_ = true;
  ServerStats report = stats();
  report.ended_because = why;
  tell_collector("/record", to_json(report), 15);  // tried again while the collector says "later"
}

int ServerService::run(int admin_fd) {
  open_first_listeners();
  if (!spawn_workers(admin_fd)) return 1;
  sup_ = std::make_unique<Supervisor>(pool_, [this](uint32_t w, MessageType type, const void* payload, size_t size) {
    on_message(w, type, payload, size);
  });
  if (admin_fd >= 0 && !serve_admin(admin_fd)) return 1;  // the pool's destructor stops the workers
  if (link_) {
    tell_collector("/hello", ojson::object(), 0);
    sup_->every({1, 0}, [this] {
      if (peak_ > 0 && total().connections == 0) report_run("every connection of the run has closed");
    });
  }
  sup_->on_worker_lost([this](size_t w) { on_worker_lost(w); });
  sup_->on_signal([this](int) { sup_->stop(3000); });
  if (c_.duration_ns > 0)
    sup_->loop().after({static_cast<time_t>(c_.duration_ns / 1'000'000'000),
                        static_cast<suseconds_t>(c_.duration_ns % 1'000'000'000 / 1000)},
                       [this] { sup_->stop(3000); });
  std::fprintf(stderr, "c1m server: %zu workers x %llu connections on %s%s%s\n", c_.workers,
               static_cast<unsigned long long>(c_.capacity), c_.listen_text.c_str(),
               c_.admin ? ", stats on http://" : "", c_.admin ? (c_.admin->str() + "/stats").c_str() : "");
  sup_->run();
  report_run("the server stopped");
  if (reporting_.joinable()) reporting_.join();  // at most 15 s of tries and one 5 s wait
  return finish();
}

int ServerService::finish() {
  ServerStats last = stats();
  last.stopped = true;
  if (!pool_.describe_lost().empty()) last.workers_lost_reason = pool_.describe_lost();
  const ojson final_stats = to_json(last);
  std::printf("%s\n", final_stats.dump().c_str());
  std::fflush(stdout);
  bool written = true;
  if (!c_.json.empty() && c_.json != "-") {
    std::string e = write_file_atomically(c_.json, final_stats.dump(2) + "\n");
    if (!e.empty()) std::fprintf(stderr, "c1m server: the stats were not written: %s\n", e.c_str());
    written = e.empty();
  }
  ServerCounters t = total();
  std::fprintf(stderr, "c1m server: stopped; peak %llu connections, %llu accepted, %llu errors\n",
               static_cast<unsigned long long>(peak_), static_cast<unsigned long long>(t.accepted_total),
               static_cast<unsigned long long>(t.errors.total()));
  return fatal_ || !written ? 1 : 0;
}

}  // namespace c1m::net
