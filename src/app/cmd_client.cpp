// `c1m client`: open N connections from one or more source addresses to one or more targets, at a
// rate, hold them, ping them, and write the run record. The flags are core/plan/client_config.hpp's
// ClientOptions, resolved against this host (read here) into a ClientConfig; net/client/client_runner runs it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>

#include "app/cli.hpp"
#include "core/host/atomic_file.hpp"
#include "core/host/host.hpp"
#include "core/host/process_tree.hpp"
#include "core/plan/client_config.hpp"
#include "core/record/record.hpp"
#include "core/record/repetitions.hpp"
#include "core/record/summary.hpp"
#include "net/base/event_loop.hpp"
#include "net/base/sockaddr.hpp"
#include "net/client/client_runner.hpp"
#include "net/http/collector_link.hpp"
#include "net/http/http_client.hpp"
#include "net/tls/tls_context.hpp"

namespace c1m::app {
namespace {

// The host as resolve() sees it. Raising the open-files limit is the one change made here: the
// workers inherit it, and the configuration is sized from what it became.
HostProbe probe_this_host() {
  HostProbe h;
  h.resolve = resolve_host_name;
  h.bind_error = [](Ipv4 ip) -> std::string {
    net::UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    int one = 1;
    setsockopt(fd.get(), SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    sockaddr_in a = net::sockaddr_of(ip, 0);
    if (bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return std::strerror(errno);
    return {};
  };
  // A UDP connect() sends nothing, and getsockname() then says which local address the route picked.
  h.route_source = [](const Endpoint& target) -> std::optional<Ipv4> {
    net::UniqueFd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in dst = net::sockaddr_of(target.ip, target.port);
    if (!fd || connect(fd.get(), reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) return std::nullopt;
    sockaddr_in local{};
    socklen_t len = sizeof local;
    if (getsockname(fd.get(), reinterpret_cast<sockaddr*>(&local), &len) != 0) return std::nullopt;
    return Ipv4{ntohl(local.sin_addr.s_addr)};
  };
  h.write_error = [](const std::string& dir) -> std::string {
    return access(dir.c_str(), W_OK) == 0 ? "" : std::strerror(errno);
  };
  h.ephemeral_ports = parse_port_range(read_sysctl("net.ipv4.ip_local_port_range"));
  h.nofile = raise_nofile_to_hard();
  auto number = [](const std::string& text) {
    return text.empty() ? std::nullopt : std::optional<uint64_t>(std::stoull(text));
  };
  h.conntrack_max = number(read_sysctl("net.netfilter.nf_conntrack_max"));
  h.conntrack_count = number(read_sysctl("net.netfilter.nf_conntrack_count"));
  getrandom(&h.random, sizeof h.random, 0);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  h.hostname = host;
  h.stderr_is_tty = isatty(STDERR_FILENO);
  return h;
}

void print_summary(const ojson& rec, const std::string& json_path) {
  std::string why;
  if (auto r = RunRecord::from_json(rec, why))
    std::fputs(client_summary(*r, json_path).c_str(), stderr);
  else
    std::fprintf(stderr, "c1m client: its own record does not read back (%s)\n", why.c_str());
}

volatile sig_atomic_t g_stop_between_runs = 0;

void stop_on_signals() {
  signal(SIGINT, [](int) { g_stop_between_runs = 1; });
  signal(SIGTERM, [](int) { g_stop_between_runs = 1; });
}

// The collector hears from a client twice: when it starts (so a client that dies is still named) and
// with its record. The hello goes from a child process, so a collector that does not answer costs the
// ramp nothing; the record is tried again while the collector says "later", for up to 45 s, and a
// signal ends the tries. A failure costs a warning; false when the record was never taken.
constexpr int kRecordBudgetS = 45;

pid_t say_hello(const std::optional<net::CollectorLink>& link, const ojson& hello) {
  if (!link) return -1;
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid != 0) return pid;  // the parent, or -1: no hello (the record still names the client)
  std::string why;
  if (!link->post("/hello", hello, 5000, 0, &why))
    std::fprintf(stderr, "c1m client: warning: POST /hello to the collector %s failed: %s\n", link->at().str().c_str(),
                 why.c_str());
  _exit(0);
}

bool send_record(const std::optional<net::CollectorLink>& link, const ojson& record) {
  if (!link) return true;
  std::string why;
  if (link->post("/record", record, 10000, kRecordBudgetS, &why, &g_stop_between_runs)) return true;
  std::fprintf(stderr, "c1m client: warning: POST /record to the collector %s failed: %s%s\n", link->at().str().c_str(),
               why.c_str(), g_stop_between_runs ? " (stopped by a signal)" : "");
  return false;
}

int run_client(const ClientOptions& o) {
  ClientConfig c = resolve(o, probe_this_host());
  if (c.tls.on) {  // said now, not as a failed record: the settings are the user's to fix
    std::string why;
    if (!tls::make_client_context(c.tls, why)) throw UsageError("--tls: " + why);
  }
  if (c.target_pid > 0 && !procfs::tree_usage(c.target_pid))
    throw UsageError("--target-pid " + std::to_string(c.target_pid) + ": no such process (start the server first)");
  // Before the workers fork: they inherit it. The record's limits say what was in force.
  if (std::string why = set_sched_policy(c.sched); !why.empty()) c.warnings.push_back(why);
  ojson host = host_fingerprint();
  // Unique among clients on one host (the same hostname) and across containers (the same pid, 1),
  // and over time (a pid comes back): a one-off client's name is its run's id.
  std::string participant =
      host["hostname"].get<std::string>() + "-" + std::to_string(getpid()) + "-" + new_run_id().substr(0, 8);
  std::optional<net::CollectorLink> link;
  if (c.report_to) link.emplace(*c.report_to, c.run_token);
  // The lab's run this client is part of; without one, the collector makes the client a run of its own.
  const ojson run = c.run_id.empty() ? ojson::object()
                                     : ojson{{"run", c.run_id}, {"role", "client"}, {"expect_clients", c.run_clients}};
  ojson hello = {{"name", participant}, {"addresses", host["addresses"]}, {"connections", c.plan.connections}};
  hello.update(run);
  const pid_t hello_pid = say_hello(link, hello);
  std::vector<ojson> records;
  for (size_t k = 0; k < c.repeat; ++k) {
    if (k > 0) {
      stop_on_signals();  // a signal between repetitions stops the series; the record says so
      sleep(2);           // let the last repetition's sockets go before measuring the next
      if (g_stop_between_runs) break;
      std::fprintf(stderr, "c1m client: repetition %zu of %zu\n", k + 1, c.repeat);
    }
    records.push_back(net::run_client_once(c));
    if (records.back()["status"] == "interrupted") break;
  }
  // The run is over: a signal from here on (waiting on the hello, the record's tries) ends the tries
  // and the client, as interrupted (130), with what it measured.
  stop_on_signals();
  ojson record = merge_repetitions(records, c.repeat, g_stop_between_runs);
  bool written = true;
  if (c.json == "-") {
    std::printf("%s\n", record.dump(2).c_str());
  } else if (!c.json.empty()) {
    if (std::string e = write_file_atomically(c.json, record.dump(2) + "\n"); !e.empty()) {
      std::fprintf(stderr, "c1m client: the record was not written: %s\n", e.c_str());
      written = false;
    }
  }
  record["participant"] = participant;
  record.update(run);
  if (hello_pid > 0) waitpid(hello_pid, nullptr, 0);  // its answer came long ago, or within 5 s
  bool reported = send_record(link, record);
  print_summary(record, written ? c.json : "");
  if (c.repeat > 1) std::fprintf(stderr, "  repetitions  %zu of %zu\n", records.size(), c.repeat);
  // In a container, --json is the container's own copy; the run's record is the collector's, under
  // the run's id (a one-off client's run is named after it).
  if (reported && link)
    std::fprintf(stderr, "  collector    run %s: its record is GET http://%s/runs/%s\n",
                 (c.run_id.empty() ? participant : c.run_id).c_str(), link->at().str().c_str(),
                 (c.run_id.empty() ? participant : c.run_id).c_str());
  if (!reported && c.json.empty()) {
    std::fprintf(stderr, "c1m client: the collector never took the record and there is no --json copy: exit %d\n",
                 g_stop_between_runs ? 130 : 1);
    return g_stop_between_runs ? 130 : 1;
  }
  if (!written) return 1;  // a run whose record is lost is not a success, whatever it measured
  if (g_stop_between_runs) return 130;
  if (record["status"] == "complete") return 0;
  return record["status"] == "interrupted" ? 130 : 1;
}

}  // namespace

// How a client takes part in a run of many (the lab's): where it reports, which run, what it waits for.
void add_run_options(CLI::App* c, ClientOptions& opts) {
  ClientOptions* o = &opts;
  c->add_option("--report-to", o->report_to,
                "ADDRESS:PORT of a collector (c1m collect --listen) to push the record to");
  // Also from the environment: compose passes an empty one for a one-off client, which a flag cannot carry.
  c->add_option("--run-id", o->run_id,
                "with --report-to: the run this client is part of (the lab's); default: a run of its own")
      ->envname("C1M_JOIN_RUN");
  c->add_option("--run-token", o->run_token, "with --report-to: the collector's token (its --run-token)")
      ->envname("C1M_RUN_TOKEN");
  c->add_option("--run-asked-connections", o->run_asked_connections,
                "with --run-id: what the run was asked to hold, all clients together, where a wrapper cut it (for "
                "the record)")
      ->envname("C1M_RUN_ASKED");
  c->add_option("--run-cut-by", o->run_cut_by, "with --run-id: why the run holds less than asked (for the record)")
      ->envname("C1M_RUN_CUT_BY");
  c->add_option("--run-clients", o->run_clients, "with --run-id: how many clients that run has")
      ->check(CLI::Range(1, 100000))
      ->envname("C1M_RUN_CLIENTS")
      ->capture_default_str();
  c->add_option("--hold-until-server", o->hold_until_server,
                "count --hold from when the server holds this many (one of many clients; bounded by --ramp-timeout)");
}

// The server measured: its protocol, its name and process, and finding its limit.
void add_target_options(CLI::App* c, ClientOptions& o) {
  c->add_option("--protocol", o.protocol,
                "what a held connection speaks: raw (connect and hold, any listener), echo (c1m server), redis "
                "(PING, +PONG), http (keep-alive GET of --http-path), mqtt (3.1.1 CONNECT, then PINGREQ), websocket "
                "(upgrade at --http-path, then ping frames)")
      ->envname("C1M_PROTOCOL")
      ->capture_default_str();
  c->add_option("--http-path", o.http_path, "--protocol http: the path each ping GETs; websocket: the upgrade's")
      ->envname("C1M_HTTP_PATH")
      ->capture_default_str();
  c->add_option("--target-name", o.target_name,
                "what you call the server measured (\"nginx 1.22, 4 workers\"): the record's topology.target.name, "
                "which compare shows beside the host")
      ->envname("C1M_TARGET_NAME")
      ->capture_default_str();
  c->add_option("--target-image", o.target_image,
                "the container image the server runs from (the lab's TARGET): the record's topology.target.image")
      ->envname("C1M_TARGET_IMAGE");
  c->add_option("--target-pid", o.target_pid,
                "the server's process id: its CPU and resident memory (with its children's, read from /proc) "
                "become the record's server figures, for a server without c1m's /stats")
      ->capture_default_str();
  c->add_option("--slo-p99", o.slo_p99,
                "with --find-limit and --ping-interval: the ramp's pings answered in a second whose p99 passes this "
                "for 3 s in a row is the limit too (\"50ms\")")
      ->envname("C1M_SLO_P99");
  c->add_flag("--find-limit", o.find_limit,
              "ramp towards --connections until the first sustained errors (1% of connects) or a stall, then hold "
              "what was reached: the run is complete with the capacity (results.limit_connections) and what bound "
              "it (topology.target.limit, and the reason)")
      ->envname("C1M_FIND_LIMIT")
      ->capture_default_str();
}

Command add_client_command(CLI::App& root) {
  auto o = std::make_shared<ClientOptions>();  // core/plan/client_config.hpp
  CLI::App* c = root.add_subcommand("client", "open, hold and measure N connections");
  c->add_option("--target", o->target, "ADDRESS:PORT, ADDRESS:PORT1-PORT2 or a comma list")->capture_default_str();
  c->add_option("--source", o->source, "source ADDRESS or ADDRESS1-ADDRESS2 (default: the kernel picks)");
  c->add_option("--connections,-n", o->connections, "connections to open (1m, 50k, ...)")->capture_default_str();
  c->add_option("--rate", o->rate, "connects per second, all workers together (0: as fast as in-flight allows)")
      ->envname("C1M_RATE")
      ->capture_default_str();
  c->add_option("--max-in-flight", o->max_in_flight, "connects in flight, all workers together (0: 200 per worker)")
      ->capture_default_str();
  c->add_option("--connect-timeout", o->connect_timeout, "give up on one connect after this long")
      ->capture_default_str();
  c->add_option("--hold", o->hold, "hold the connections this long after the ramp")->capture_default_str();
  c->add_option("--live", o->live,
                "after the hold, hold this long more with every connection pinged once a --ping-interval (30s "
                "unless given): the live hold")
      ->capture_default_str();
  c->add_option("--start-delay", o->start_delay,
                "wait this long before the ramp (the lab adds rules to each container's namespace meanwhile)")
      ->capture_default_str();
  c->add_option("--start-file", o->start_file,
                "then wait (at most 5 min) until this file exists before the ramp: the lab creates it once every "
                "client container runs, so all start together")
      ->envname("C1M_START_FILE");
  c->add_option("--ping-interval", o->ping_interval, "ping every connection this often (0: no pings)")
      ->capture_default_str();
  add_target_options(c, *o);
  add_tls_options(c, o->tls, false);
  add_run_options(c, *o);
  c->add_option("--ramp-timeout", o->ramp_timeout, "fail the run if the ramp has not settled by then")
      ->capture_default_str();
  c->add_option(
       "--stall-timeout", o->stall_timeout,
       "fail the run when it adds no connection for this long short of the target, or the server adds none while "
       "this client waits for it (0: never)")
      ->capture_default_str();
  c->add_option("--status-file", o->status_file,
                "rewrite this JSON file every second with the run's progress ({hostname} is replaced)");
  c->add_option("--workers", o->workers, "worker processes (default: from --connections and the open-files limit)");
  c->add_option("--repeat", o->repeat, "run the experiment N times; the record keeps every repetition")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  // Also from the environment: the lab passes none (an empty one) when its server is not c1m's.
  c->add_option("--server-stats", o->server_stats, "the server's --admin ADDRESS:PORT, read for its side of the count")
      ->envname("C1M_SERVER_STATS");
  c->add_option("--json", o->json, "write the run record here (- for stdout; {hostname} is replaced)");
  c->add_option("--approach", o->approach, "label for the record")
      ->check(CLI::IsMember({"auto", "multi-ip", "multi-port", "custom"}))
      ->capture_default_str();
  c->add_option("--progress", o->progress, "live status line")
      ->check(CLI::IsMember({"auto", "tty", "plain", "off"}))
      ->capture_default_str();
  c->add_option("--source-ports", o->source_ports,
                "planned: the client names each source port (fast at any fill); kernel: connect() searches")
      ->check(CLI::IsMember({"planned", "kernel"}))
      ->capture_default_str();
  c->add_option("--sched", o->sched, kSchedHelp)->check(CLI::IsMember({"batch", "normal"}))->capture_default_str();
  c->add_option("--live-sched", o->live_sched, kLiveSchedHelp)
      ->check(CLI::IsMember({"batch", "normal"}))
      ->capture_default_str();
  c->add_flag("--allow-any-target", o->allow_any_target, "allow targets outside 127.0.0.0/8 and 198.18.0.0/15");
  return {c, [o] { return run_client(*o); }};
}

}  // namespace c1m::app
