// The server as a service (`c1m server`): its workers hold and echo the connections, and the parent
// sums their counts, serves /stats and /metrics, tells a collector about the run, and notices a
// worker that dies. The configuration comes resolved (core/server_config).
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/host/procfs.hpp"
#include "core/plan/counters.hpp"
#include "core/plan/server_config.hpp"
#include "core/record/server_stats.hpp"
#include "net/base/supervisor.hpp"
#include "net/base/worker_pool.hpp"
#include "net/http/collector_link.hpp"
#include "net/http/http_service.hpp"
#include "net/tls/tls_context.hpp"

namespace c1m::net {

using ojson = nlohmann::ordered_json;

class ServerService {
 public:
  // tls: the context --tls made (null: plain TCP); the workers inherit it.
  ServerService(ServerConfig config, tls::SslCtxPtr tls);
  ~ServerService();
  // Forks the workers and serves until a signal or --duration, then prints (and writes, with --json)
  // the final stats. `admin_fd`: the --admin socket, open, or -1. The exit status: 1 when a worker
  // could not listen, the workers could not start, or the stats could not be written.
  int run(int admin_fd);

 private:
  void open_first_listeners();
  bool spawn_workers(int admin_fd);
  void on_message(uint32_t w, MessageType type, const void* payload, size_t size);
  void on_worker_lost(size_t w);
  ServerCounters total() const { return sum_counters<ServerCounters>(latest_); }
  ServerStats stats();
  bool serve_admin(int admin_fd);
  void tell_collector(const std::string& path, ojson body, int budget_s);
  void report_run(const std::string& why);
  int finish();

  const ServerConfig c_;
  tls::SslCtxPtr tls_;
  const procfs::KernelSnapshot kernel_at_start_;
  const ojson context_;  // what the stats say of where the server runs: listen, limits, host, sysctls
  WorkerPool pool_;
  std::unique_ptr<Supervisor> sup_;
  std::unique_ptr<HttpService> http_;
  // Every worker's first listeners, opened here in worker order (see open_first_listeners).
  std::vector<std::vector<int>> first_listeners_;
  std::vector<ServerCounters> latest_;
  uint64_t peak_ = 0;
  // The ramp's CPU, as the floor probe measures its own: from the first accepted connection to the
  // moment all --expect are held (each read on the worker report that shows it).
  std::optional<procfs::CpuTime> cpu_at_first_accept_;
  std::optional<procfs::CpuTime> ramp_cpu_;
  // A worker that died took its connections with it (the kernel closed them): they are no longer
  // held, and the stats say which worker went and how many it held.
  ojson workers_lost_ = ojson::array();
  bool fatal_ = false;
  std::optional<CollectorLink> link_;
  std::string participant_;
  std::thread reporting_;
  bool reported_ = false;
};

}  // namespace c1m::net
