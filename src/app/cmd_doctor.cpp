// `c1m doctor`: can this host hold N connections? `c1m host-tune`: apply what it needs (only when
// asked, and saying each change).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>

#include "app/cli.hpp"
#include "core/host/doctor.hpp"
#include "core/host/host.hpp"

namespace c1m::app {
namespace {

struct DoctorOptions {
  std::string connections = "1m";
  bool both_ends_here = false;
  bool in_containers = false;
  bool untracked = false;
  uint64_t pairs = kDefaultPairs;
  std::string client_port_range;
  uint64_t stats_pollers = 1;
  bool quiet = false;
  bool print_max = false;
  bool dry_run = false;
  std::string tls = "none";
};

uint64_t parse_connections(const DoctorOptions& o) {
  uint64_t n = require(parse_count(o.connections), "--connections", o.connections);
  if (n == 0) throw UsageError("--connections must be at least 1");
  return n;
}

RunShape shape_of(const DoctorOptions& o) {
  RunShape s{parse_connections(o), o.both_ends_here, o.in_containers, o.pairs,
             std::nullopt,         o.stats_pollers,  o.untracked,     o.tls == "none" ? "" : o.tls};
  if (!o.client_port_range.empty()) {
    s.client_port_range = parse_port_range(o.client_port_range);
    if (!s.client_port_range)
      throw UsageError("--client-port-range '" + o.client_port_range + "': expected 'LOW HIGH', e.g. '1024 65535'");
  }
  return s;
}

int run_doctor(const DoctorOptions& o) {
  RunShape shape = shape_of(o);
  uint64_t n = shape.connections;
  DoctorReport r = diagnose(read_host_facts(), shape);
  if (o.print_max) {
    std::printf("%llu %s\n", static_cast<unsigned long long>(r.max_connections), r.limited_by.c_str());
    return 0;
  }
  std::printf("c1m doctor: %s connections, %s\n", format_count(static_cast<double>(n)).c_str(),
              o.both_ends_here ? "client and server on this host (2 sockets each)" : "this side only (1 socket each)");
  for (const auto& f : r.findings) {
    if (o.quiet && f.ok) continue;
    std::printf("  %-5s %-34s have %s; need %s\n", f.ok ? "ok" : (f.limits ? "FAIL" : "warn"), f.name.c_str(),
                f.have.c_str(), f.need.c_str());
    if (!f.ok && !f.fix.empty()) std::printf("        fix: %s\n", f.fix.c_str());
  }
  std::printf("verdict: this host can hold about %s connections: limited by %s (each limit less a %.0f%% margin). %s\n",
              format_count(static_cast<double>(r.max_connections)).c_str(), r.limited_by.c_str(), kMarginShare * 100,
              r.ready ? "Ready." : "Not ready for this run: fix the FAIL lines (make host-tune applies them).");
  return r.ready ? 0 : 1;
}

// Writes one sysctl; empty on success, else why not (read-only /proc/sys in a container, no root).
std::string write_sysctl(const std::string& name, const std::string& value) {
  std::string path = "/proc/sys/" + name;
  for (size_t i = 10; i < path.size(); ++i)
    if (path[i] == '.') path[i] = '/';
  std::ofstream out(path);
  if (!out) return std::strerror(errno);
  out << value << "\n";
  out.close();
  if (!out) return std::strerror(errno);
  return {};
}

int run_host_tune(const DoctorOptions& o) {
  uint64_t n = parse_connections(o);
  auto changes = tuning_for(read_host_facts(), n, o.both_ends_here);
  if (changes.empty()) {
    std::printf("c1m host-tune: nothing to change for %s connections\n", format_count(static_cast<double>(n)).c_str());
    return 0;
  }
  if (o.dry_run) {
    for (const auto& [name, value] : changes)
      std::printf("  would set  %s: %s -> %s\n", name.c_str(), read_sysctl(name).c_str(), value.c_str());
    return 0;
  }
  int failed = 0;
  for (const auto& [name, value] : changes) {
    std::string before = read_sysctl(name);
    std::string err = write_sysctl(name, value);
    if (err.empty()) {
      std::printf("  set  %s: %s -> %s\n", name.c_str(), before.c_str(), read_sysctl(name).c_str());
    } else {
      ++failed;
      std::printf("  FAIL %s: cannot set to %s (%s): needs root on the host, outside any container\n", name.c_str(),
                  value.c_str(), err.c_str());
    }
  }
  std::printf(
      "c1m host-tune: %zu changed, %d could not be; these last until reboot (put them in /etc/sysctl.d to keep them)\n",
      changes.size() - static_cast<size_t>(failed), failed);
  return failed ? 1 : 0;
}

void add_flags(CLI::App* c, DoctorOptions& o) {
  c->add_option("--connections,-n", o.connections, "connections the run will hold")->capture_default_str();
  c->add_flag("--both-ends-here", o.both_ends_here, "client and server share this kernel (loopback or a one-host lab)");
}

// How the run is laid out, for the doctor's verdict (host-tune sizes for the worst case anyway).
void add_shape_flags(CLI::App* c, DoctorOptions& o) {
  c->add_flag("--in-containers", o.in_containers,
              "each side in its own network namespace (the lab): the server's namespace tracks every connection");
  c->add_option("--pairs", o.pairs, "(source, target) pairs the connections spread over")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  c->add_option("--client-port-range", o.client_port_range,
                "'LOW HIGH': the clients' own ephemeral range (the lab sets it per container)");
  c->add_flag("--untracked", o.untracked,
              "the run's namespaces track no connection (the lab's C1M_CONNTRACK=off): conntrack does not limit it");
  c->add_option("--stats-pollers", o.stats_pollers, "client processes polling the server's /stats once a second")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  c->add_option("--tls", o.tls,
                "the run speaks TLS: keys (each side holds keys only, ~200 B a connection) or library (the server "
                "keeps the library's object, ~14 KB)")
      ->check(CLI::IsMember({"none", "keys", "library"}))
      ->capture_default_str();
}

}  // namespace

Command add_doctor_command(CLI::App& root) {
  auto o = std::make_shared<DoctorOptions>();
  CLI::App* c = root.add_subcommand("doctor", "check that this host can hold N connections, and say what limits it");
  add_flags(c, *o);
  add_shape_flags(c, *o);
  c->add_flag("--quiet,-q", o->quiet, "print only what is not ok, and the verdict");
  c->add_flag("--print-max", o->print_max, "print only the most connections this host can hold, and what limits it");
  return {c, [o] { return run_doctor(*o); }};
}

Command add_host_tune_command(CLI::App& root) {
  auto o = std::make_shared<DoctorOptions>();
  CLI::App* c =
      root.add_subcommand("host-tune", "apply the host sysctls a run of N connections needs (root; says each change)");
  add_flags(c, *o);
  c->add_flag("--dry-run", o->dry_run, "say what would change, change nothing");
  return {c, [o] { return run_host_tune(*o); }};
}

}  // namespace c1m::app
