#include "core/plan/server_config.hpp"

#include "core/plan/plan.hpp"
#include "core/usage.hpp"

namespace c1m {

ServerConfig resolve_server(const ServerOptions& o, uint64_t nofile, const NameResolver& resolve) {
  ServerConfig c;
  c.listen = require(parse_endpoint_list(o.listen, resolve), "--listen", o.listen);
  c.listen_text = o.listen;
  c.expect = require(parse_count(o.expect), "--expect", o.expect);
  c.duration_ns = require(parse_duration_ns(o.duration), "--duration", o.duration);
  if (!o.admin.empty()) c.admin = single_endpoint("--admin", o.admin, resolve);
  if (!o.report_to.empty()) c.report_to = single_endpoint("--report-to", o.report_to, resolve);
  if (c.report_to && o.run_id.empty())
    throw UsageError("--report-to needs --run-id: the run the server's report belongs to");
  c.json = o.json, c.run_id = o.run_id, c.run_token = o.run_token;
  c.spread = o.spread, c.sched = o.sched, c.live_sched = o.live_sched;
  c.backlog = o.backlog, c.echo = !o.no_echo, c.share_ports = o.share_ports;
  c.nofile = nofile;
  const TlsSettings plain_tcp;
  if (!o.tls.on && (!o.tls.cert_file.empty() || !o.tls.key_file.empty() || o.tls.tickets != plain_tcp.tickets ||
                    o.tls.held != plain_tcp.held || o.tls.group != plain_tcp.group || o.tls.cipher != plain_tcp.cipher))
    throw UsageError("--tls-cert, --tls-key, --tls-tickets, --tls-held, --tls-group and --tls-cipher are for --tls");
  c.tls = o.tls;
  c.capacity = o.max_per_worker.empty() ? worker_capacity(nofile)
                                        : require(parse_count(o.max_per_worker), "--max-per-worker", o.max_per_worker);
  if (c.capacity == 0) throw UsageError("--max-per-worker must be at least 1");
  c.workers = o.workers ? o.workers : workers_needed(c.expect, c.capacity, kReusePortHeadroom);
  if (c.workers > kMaxWorkers)
    throw UsageError("--expect " + o.expect + " needs " + std::to_string(c.workers) + " workers at " +
                     std::to_string(c.capacity) + " connections each; more than " + std::to_string(kMaxWorkers));
  return c;
}

}  // namespace c1m
