// `c1m server`: listen on one or more ports, hold every connection, echo pings, serve stats.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "app/cli.hpp"
#include "core/host/atomic_file.hpp"
#include "core/host/host.hpp"
#include "core/plan/server_config.hpp"
#include "net/http/http_service.hpp"
#include "net/server/server_service.hpp"
#include "net/server/server_worker.hpp"
#include "net/tls/tls_context.hpp"

namespace c1m::app {
namespace {

int run_server(const ServerOptions& o) {
  const uint64_t nofile = raise_nofile_to_hard();
  ServerConfig c = resolve_server(o, nofile);
  // Said now, not after the run: a stats file that cannot be written is bad input.
  if (!c.json.empty() && c.json != "-" && access(directory_of(c.json).c_str(), W_OK) != 0)
    throw UsageError("--json " + c.json + ": directory " + directory_of(c.json) +
                     " is not writable: " + std::strerror(errno));
  // Before the workers fork: they inherit it. The record's limits say what was in force.
  if (std::string why = set_sched_policy(c.sched); !why.empty())
    std::fprintf(stderr, "c1m server: warning: %s\n", why.c_str());
  // Refuse a port we cannot have before forking anything (the workers open their own listeners).
  // Tried without SO_REUSEPORT first: a port another server's listeners hold would otherwise be
  // joined silently, and the kernel would split the connections between the two servers.
  for (const Endpoint& e : c.listen) {
    int fd = net::open_listener(e, c.backlog, c.share_ports);
    if (fd < 0 && errno == EADDRINUSE && !c.share_ports)
      throw UsageError("--listen " + e.str() +
                       ": another process already listens there (pass --share-ports to split its connections with it)");
    if (fd < 0) throw UsageError("--listen " + e.str() + ": cannot listen: " + std::strerror(errno));
    ::close(fd);
  }
  int admin_fd = -1;
  if (c.admin) {
    admin_fd = net::HttpService::open_socket(*c.admin);
    if (admin_fd < 0) throw UsageError("--admin cannot listen on " + c.admin->str() + ": " + std::strerror(errno));
  }
  tls::SslCtxPtr tls;
  if (c.tls.on) {
    std::string why;
    tls = tls::make_server_context(c.tls, why);
    if (!tls) throw UsageError("--tls: " + why);
  }
  net::ServerService service(std::move(c), std::move(tls));
  return service.run(admin_fd);
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
  add_tls_options(s, o->tls, true);
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
