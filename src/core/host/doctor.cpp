#include "core/host/doctor.hpp"

#include <algorithm>
#include <limits>

#include "core/units.hpp"

namespace c1m {
namespace {

std::string num(uint64_t v) { return std::to_string(v); }

// Both ends on one host in containers means two network namespaces, each tracking its own end:
// two entries per connection in the one global table (natively on loopback it is one).
uint64_t conntrack_buckets_for(uint64_t n, bool both) { return n * (both ? 2 : 1); }

}  // namespace

uint64_t child_ehash_entries_for(uint64_t n) {
  uint64_t buckets = 128;  // the kernel's least
  while (buckets < n && buckets < (uint64_t{1} << 24)) buckets *= 2;
  return buckets;
}

uint64_t conntrack_overhead(const RunShape& shape) { return shape.stats_pollers * 2 + kAdminConntrackEntries; }

namespace {

// The report as it is built: each limit says what it allows at most, less the margin; the lowest
// one is what limits the run.
struct Diagnosis {
  const HostFacts& f;
  const RunShape& shape;
  uint64_t n = shape.connections;
  uint64_t per_conn_sockets = shape.both_ends_here ? 2 : 1;
  uint64_t best = std::numeric_limits<uint64_t>::max();
  DoctorReport r{};

  void limit(Finding fi, uint64_t allows_at_most) {
    uint64_t allows = static_cast<uint64_t>(static_cast<double>(allows_at_most) * (1.0 - kMarginShare));
    fi.limits = true;
    fi.ok = allows >= n;
    if (allows < best) {
      best = allows;
      r.limited_by = fi.name;
    }
    r.findings.push_back(std::move(fi));
  }
  void advice(Finding fi) { r.findings.push_back(std::move(fi)); }
};

// What TLS adds to a connection's user memory on this host: each side here holds its keys, or the
// server its library object.
uint64_t tls_bytes(const RunShape& shape, uint64_t sides) {
  if (shape.tls.empty()) return 0;
  if (shape.tls == "library") return kTlsLibraryServerBytes + (sides - 1) * kTlsKeysBytesPerSide;
  return sides * kTlsKeysBytesPerSide;
}

void check_memory_and_files(Diagnosis& d) {
  const HostFacts& f = d.f;
  const uint64_t n = d.n;
  const uint64_t tls = tls_bytes(d.shape, d.per_conn_sockets);
  uint64_t socket_bytes = kEstimatedKernelBytesPerSocket * d.per_conn_sockets + tls;
  d.limit({"memory", format_count(static_cast<double>(f.mem_available_bytes) / 1e9) + " GB available",
           format_count(static_cast<double>(n * socket_bytes) / 1e9) + " GB (" + num(socket_bytes) +
               (tls ? " B a connection: kernel memory and " + num(tls) + " B of TLS state)"
                    : " B kernel memory per connection)"),
           true, true, "a host with more memory, or fewer connections"},
          f.mem_available_bytes * 9 / 10 / socket_bytes);
  uint64_t files_free = f.file_max > f.files_allocated ? f.file_max - f.files_allocated : 0;
  d.limit({"fs.file-max", num(f.file_max) + " (" + num(files_free) + " free)", num(n * d.per_conn_sockets + 1000), true,
           true, "sysctl -w fs.file-max=" + num(n * d.per_conn_sockets * 11 / 10 + 100000)},
          files_free / d.per_conn_sockets);
}

void check_conntrack(Diagnosis& d) {
  const HostFacts& f = d.f;
  const RunShape& shape = d.shape;
  const uint64_t n = d.n;
  if (f.conntrack_max && shape.untracked) {
    d.advice({"net.netfilter.nf_conntrack_max", num(*f.conntrack_max) + " per namespace",
              "- (the lab's connections are untracked)", true, false, ""});
  } else if (f.conntrack_max) {
    // Counted per network namespace against one host-wide cap. Natively every connection shares the
    // host's namespace with whatever it already tracks; in the lab the server's namespace is new and
    // holds one entry per connection. Either way the stats polls' TIME_WAIT entries sit beside them.
    uint64_t used = shape.in_containers ? 0 : f.conntrack_count.value_or(0);
    uint64_t overhead = conntrack_overhead(shape);
    uint64_t room = *f.conntrack_max > used + overhead ? *f.conntrack_max - used - overhead : 0;
    std::string where = shape.in_containers ? "in the server's network namespace" : "in this network namespace";
    d.limit({"net.netfilter.nf_conntrack_max", num(*f.conntrack_max) + " per namespace (" + num(used) + " in use here)",
             num(n) + " + " + num(overhead) + " for stats polls and admin " + where, true, true,
             "sysctl -w net.netfilter.nf_conntrack_max=" + num(n * 12 / 10 + used + overhead) +
                 "  (past it, SYNs are dropped silently)"},
            room);
  } else {
    d.advice({"net.netfilter.nf_conntrack_max", "no connection tracking", "-", true, false, ""});
  }
}

// Epoll watches and ports (the findings keep the order the doctor prints them in).
void check_watches_and_ports(Diagnosis& d) {
  const HostFacts& f = d.f;
  const uint64_t n = d.n;
  if (f.epoll_max_user_watches)
    d.limit({"fs.epoll.max_user_watches", num(*f.epoll_max_user_watches), num(n * d.per_conn_sockets), true, true,
             "sysctl -w fs.epoll.max_user_watches=" + num(n * d.per_conn_sockets * 11 / 10)},
            *f.epoll_max_user_watches / d.per_conn_sockets);
  const RunShape& shape = d.shape;
  std::optional<PortRange> ports = shape.client_port_range ? shape.client_port_range : f.port_range;
  if (!ports) return;
  uint64_t pairs = std::max<uint64_t>(shape.pairs, 1);
  uint64_t per_pair = (n + pairs - 1) / pairs;
  std::string whose = shape.client_port_range ? ", the clients' own" : "";
  d.limit({"net.ipv4.ip_local_port_range",
           num(ports->low) + "-" + num(ports->high) + whose + " (" + num(ports->size()) + " ports)",
           num(per_pair) + " ports per (source, target) pair over " + num(pairs) + " pairs", true, true,
           shape.client_port_range ? "a wider range for the clients, or more (source, target) pairs"
                                   : "sysctl -w net.ipv4.ip_local_port_range=\"1024 65535\""},
          ports->size() * pairs);
}

// Advice: these slow a ramp or reset a few connections, but do not cap the count.
void advise(Diagnosis& d) {
  const HostFacts& f = d.f;
  const uint64_t n = d.n;
  const bool both = d.shape.both_ends_here;
  if (f.conntrack_max && f.conntrack_buckets && !d.shape.untracked)
    d.advice(
        {"net.netfilter.nf_conntrack_buckets", num(*f.conntrack_buckets),
         ">= " + num(conntrack_buckets_for(n, both)) + " (a bucket per tracked connection: every SYN walks its chain)",
         *f.conntrack_buckets >= conntrack_buckets_for(n, both), false,
         "sysctl -w net.netfilter.nf_conntrack_buckets=" + num(conntrack_buckets_for(n, both))});
  if (d.shape.in_containers && f.tcp_child_ehash_entries) {
    // A namespace made after this is set (each container of the next lab-up) gets a table of its own;
    // sharing the host's, a million connections' two ends walk chains of 2M / its buckets a packet.
    const uint64_t want = child_ehash_entries_for(n);
    const std::string shared = "0 (the containers share the host's " +
                               (f.tcp_ehash_entries ? num(*f.tcp_ehash_entries) + " buckets)" : "table)");
    d.advice(
        {"net.ipv4.tcp_child_ehash_entries", *f.tcp_child_ehash_entries ? num(*f.tcp_child_ehash_entries) : shared,
         ">= " + num(want) + " (each container its own TCP lookup table: " + num(want * 8 / 1048576) + " MiB each)",
         *f.tcp_child_ehash_entries >= want, false, "sysctl -w net.ipv4.tcp_child_ehash_entries=" + num(want)});
  }
  if (d.shape.in_containers) {
    d.advice({"accept and SYN queues", "set in the server's container by the lab",
              "nothing from the host (somaxconn, tcp_max_syn_backlog, tcp_migrate_req are per namespace)", true, false,
              ""});
  } else {
    if (f.somaxconn)
      d.advice({"net.core.somaxconn", num(*f.somaxconn), ">= 65535 (accept queue per listener)", *f.somaxconn >= 65535,
                false, "sysctl -w net.core.somaxconn=65535"});
    if (f.tcp_max_syn_backlog)
      d.advice({"net.ipv4.tcp_max_syn_backlog", num(*f.tcp_max_syn_backlog), ">= 65535 (SYN queue)",
                *f.tcp_max_syn_backlog >= 65535, false, "sysctl -w net.ipv4.tcp_max_syn_backlog=65535"});
    if (f.tcp_migrate_req)
      d.advice({"net.ipv4.tcp_migrate_req", num(*f.tcp_migrate_req),
                "1 (a full server worker's queue moves to a sibling, not reset)", *f.tcp_migrate_req == 1, false,
                "sysctl -w net.ipv4.tcp_migrate_req=1"});
  }
  uint64_t capacity = worker_capacity(f.nofile_hard);
  d.advice({"nofile (hard, this process)", num(f.nofile_hard),
            num(workers_needed(n, capacity)) + " worker processes per side at " + num(capacity) + " connections each",
            true, false, ""});
}

}  // namespace

DoctorReport diagnose(const HostFacts& f, const RunShape& shape) {
  Diagnosis d{f, shape};
  check_memory_and_files(d);
  check_conntrack(d);
  check_watches_and_ports(d);
  advise(d);
  d.r.max_connections = d.best;
  d.r.ready =
      std::all_of(d.r.findings.begin(), d.r.findings.end(), [](const Finding& fi) { return fi.ok || !fi.limits; });
  return d.r;
}

std::vector<std::pair<std::string, std::string>> tuning_for(const HostFacts& f, uint64_t n, bool both) {
  uint64_t sockets = n * (both ? 2 : 1);
  std::vector<std::pair<std::string, std::string>> out;
  auto at_least = [&](const std::string& name, std::optional<uint64_t> have, uint64_t want) {
    if (have && *have < want) out.emplace_back(name, num(want));
  };
  at_least("fs.file-max", f.file_max, sockets * 11 / 10 + 100000);
  at_least("fs.nr_open", f.nr_open, 1048576);
  if (f.conntrack_max)
    at_least("net.netfilter.nf_conntrack_max", f.conntrack_max, n * 12 / 10 + f.conntrack_count.value_or(0));
  if (f.conntrack_max)
    at_least("net.netfilter.nf_conntrack_buckets", f.conntrack_buckets, conntrack_buckets_for(n, both));
  at_least("fs.epoll.max_user_watches", f.epoll_max_user_watches, sockets * 11 / 10);
  if (f.port_range && f.port_range->size() < 64512) out.emplace_back("net.ipv4.ip_local_port_range", "1024 65535");
  at_least("net.core.somaxconn", f.somaxconn, 65535);
  at_least("net.ipv4.tcp_max_syn_backlog", f.tcp_max_syn_backlog, 65535);
  if (f.tcp_migrate_req && *f.tcp_migrate_req != 1) out.emplace_back("net.ipv4.tcp_migrate_req", "1");
  // Only the lab's containers, made after this, use it (a namespace's table; the host's is set at boot).
  if (both) at_least("net.ipv4.tcp_child_ehash_entries", f.tcp_child_ehash_entries, child_ehash_entries_for(n));
  return out;
}

}  // namespace c1m
