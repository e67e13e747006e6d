// `c1m meter`: the server side of a run whose server is not c1m's (the lab's TARGET=): from outside
// the server, once a second, its network namespace's established count (/proc/PID/net/snmp) and its
// cgroup's memory and CPU (version 1 or 2). It joins the run at the collector as its server, and
// reports when stopped (SIGTERM/SIGINT), when the server has gone, or at --duration, so the record
// carries the server's peak, CPU over the ramp and bytes a connection, user and kernel apart.
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "app/cli.hpp"
#include "core/host/atomic_file.hpp"
#include "core/host/cgroup.hpp"
#include "core/host/clock.hpp"
#include "core/host/process_tree.hpp"
#include "core/host/procfs.hpp"
#include "core/record/record.hpp"   // tcpext_delta
#include "core/record/summary.hpp"  // format_figure
#include "core/record/target_meter.hpp"
#include "net/http/collector_link.hpp"

namespace c1m::app {
namespace {

struct MeterOptions {
  int pid = 0;
  std::string expect = "0";
  std::string listen;
  std::string report_to, run_id, run_token;
  std::string name = "target";
  std::string interval = "1s";
  std::string duration = "30m";
  std::string json;
};

volatile sig_atomic_t g_stop = 0;

// The server's cgroup, which must be readable here with its network namespace; else why not.
procfs::CgroupPaths server_cgroup(int pid) {
  const std::string proc = "/proc/" + std::to_string(pid);
  auto text = procfs::read_text(proc + "/cgroup");
  if (pid <= 0 || !text) throw UsageError("--pid " + std::to_string(pid) + ": no such process");
  auto at = procfs::parse_proc_cgroup(*text);
  if (!at) throw UsageError("--pid " + std::to_string(pid) + ": its cgroup is neither version 1 nor 2");
  if (!procfs::read_cgroup(*at) || !procfs::established_in_namespace(proc))
    throw UsageError("--pid " + std::to_string(pid) + ": its cgroup (" + at->memory_dir +
                     ") or network namespace cannot be read here (run as root, on the server's host)");
  return *at;
}

// What the report keeps beside the figures: where it listens, its processes' file limit (a server
// that holds about that many is bound by its files), and where and how it was read.
ojson meter_context(const MeterOptions& o, const procfs::CgroupPaths& at,
                    const std::optional<procfs::CgroupUsage>& usage, const TargetMeter& meter) {
  const std::string proc = "/proc/" + std::to_string(o.pid);
  const auto nofile = procfs::parse_limits_nofile(procfs::read_text(proc + "/limits").value_or(""));
  return {
      {"listen", o.listen.empty() ? ojson(nullptr) : ojson::array({o.listen})},
      {"limits",
       {{"nofile_soft", nofile ? ojson(*nofile) : ojson(nullptr)}, {"processes", procfs::process_tree(o.pid).size()}}},
      {"meter",
       {{"pid", o.pid},
        {"cgroup", {{"version", at.version}, {"path", at.path}, {"memory_dir", at.memory_dir}}},
        {"socket_accounting", usage ? ojson(procfs::socket_accounting(at, *usage)) : ojson(nullptr)},
        {"readings", meter.readings()},
        {"cpu_series", meter.cpu_series()}}}};
}

int run_meter(const MeterOptions& o) {
  const uint64_t expect = require(parse_count(o.expect), "--expect", o.expect);
  const int64_t interval_ns = require(parse_duration_ns(o.interval), "--interval", o.interval);
  const int64_t duration_ns = require(parse_duration_ns(o.duration), "--duration", o.duration);
  if (interval_ns < 100'000'000) throw UsageError("--interval " + o.interval + ": at least 100ms");
  const std::string proc = "/proc/" + std::to_string(o.pid);
  const procfs::CgroupPaths at = server_cgroup(o.pid);
  std::unique_ptr<net::CollectorLink> link;
  if (!o.report_to.empty()) {
    if (o.run_id.empty()) throw UsageError("--report-to needs --run-id: the run the server takes part in");
    link = std::make_unique<net::CollectorLink>(single_endpoint("--report-to", o.report_to), o.run_token);
  }
  const ojson who = {{"participant", o.name}, {"name", o.name}, {"role", "server"}, {"run", o.run_id}};
  std::string why;
  if (link && !link->post("/hello", who, 5000, 0, &why))
    std::fprintf(stderr, "c1m meter: warning: the collector did not take the hello: %s\n", why.c_str());
  signal(SIGTERM, [](int) { g_stop = 1; });
  signal(SIGINT, [](int) { g_stop = 1; });

  TargetMeter meter(expect);
  const auto kernel_before = procfs::take_kernel_snapshot(procfs::SlabDetail::without_caches, proc);
  auto kernel_now = kernel_before;
  std::string ended = "it ran for --duration " + o.duration;
  std::optional<procfs::CgroupUsage> usage;
  for (const int64_t start = monotonic_ns(); monotonic_ns() - start < duration_ns;) {
    auto established = procfs::established_in_namespace(proc);
    usage = procfs::read_cgroup(at);
    if (!established || !usage) {
      ended = "the server's process " + std::to_string(o.pid) + " has gone";
      break;
    }
    meter.add({monotonic_ns(), unix_ms(), *established, *usage});
    kernel_now = procfs::take_kernel_snapshot(procfs::SlabDetail::without_caches, proc);
    if (g_stop) {
      ended = "the lab stopped it: every client had ended";
      break;
    }
    timespec pause{static_cast<time_t>(interval_ns / 1'000'000'000), static_cast<long>(interval_ns % 1'000'000'000)};
    nanosleep(&pause, nullptr);  // a signal cuts it short: the next reading is the last
  }
  ServerStats report = meter.report(meter_context(o, at, usage, meter));
  report.tcpext_since_start = tcpext_delta(kernel_before, kernel_now);
  report.ended_because = ended;
  ojson body = to_json(report);
  if (o.json == "-") std::printf("%s\n", body.dump(2).c_str());
  if (!o.json.empty() && o.json != "-")
    if (std::string e = write_file_atomically(o.json, body.dump(2) + "\n"); !e.empty())
      std::fprintf(stderr, "c1m meter: the report was not written to %s: %s\n", o.json.c_str(), e.c_str());
  std::fprintf(stderr,
               "c1m meter: %s: peak %llu connections, ramp CPU %s s, %s user and %s kernel bytes a connection\n",
               ended.c_str(), static_cast<unsigned long long>(report.connections_peak),
               format_figure(report.ramp_cpu_seconds, "%.2f").c_str(),
               format_figure(report.user_bytes_per_connection, "%.0f").c_str(),
               format_figure(report.kernel_bytes_per_connection, "%.0f").c_str());
  if (link) {
    body.update(who);
    if (!link->post("/record", body, 5000, 15, &why)) {
      std::fprintf(stderr, "c1m meter: the collector did not take the report: %s\n", why.c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace

Command add_meter_command(CLI::App& root) {
  auto o = std::make_shared<MeterOptions>();
  CLI::App* c = root.add_subcommand(
      "meter", "measure a server that is not c1m's from outside (its cgroup and network namespace), as a run's server");
  c->add_option("--pid", o->pid, "a process of the server (a container's: docker inspect -f '{{.State.Pid}}')")
      ->required();
  c->add_option("--expect", o->expect,
                "the connections the run holds when all are in: the ramp ends there (0: at the peak)")
      ->capture_default_str();
  c->add_option("--listen", o->listen, "where the server listens, for the record (ADDRESS:PORT)");
  c->add_option("--report-to", o->report_to, "ADDRESS:PORT of a collector: hello at start, the report at the end");
  c->add_option("--run-id", o->run_id, "with --report-to: the run the server takes part in");
  c->add_option("--run-token", o->run_token, "with --report-to: the collector's token (its --run-token)")
      ->envname("C1M_RUN_TOKEN");
  c->add_option("--name", o->name, "its participant name at the collector")->capture_default_str();
  c->add_option("--interval", o->interval, "a reading this often")->capture_default_str();
  c->add_option("--duration", o->duration, "stop by itself after this long")->capture_default_str();
  c->add_option("--json", o->json, "write the report here too (- for stdout)");
  return {c, [o] { return run_meter(*o); }};
}

}  // namespace c1m::app
