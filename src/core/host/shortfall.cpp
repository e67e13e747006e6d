#include "core/host/shortfall.hpp"

#include "core/units.hpp"

namespace c1m {

std::string explain_shortfall(const ClientCounters& t, const std::map<std::string, int64_t>& tcpext) {
  std::string out = std::to_string(t.established_peak) + " of " + std::to_string(t.quota) + " established";
  std::string errs;
  for (size_t i = 0; i < kErrorClassCount; ++i)
    if (t.errors.by_class[i])
      errs += (errs.empty() ? "" : ", ") + std::to_string(t.errors.by_class[i]) + " " +
              error_class_name(static_cast<ErrorClass>(i));
  if (!errs.empty()) out += "; errors: " + errs;
  static const std::pair<const char*, const char*> hints[] = {
      {"ListenOverflows",
       "the server's accept queue overflowed (raise somaxconn / --backlog, or the server is too slow)"},
      {"SyncookiesSent", "the SYN queue overflowed (raise tcp_max_syn_backlog)"},
      {"TCPAbortOnMemory", "TCP ran out of memory (tcp_mem)"},
      {"TCPSynRetrans", "SYNs were retransmitted (dropped SYNs: queue full or conntrack table full)"},
  };
  for (const auto& [name, hint] : hints) {
    auto it = tcpext.find(name);
    if (it != tcpext.end() && it->second > 0)
      out += std::string("; TcpExt ") + name + " +" + std::to_string(it->second) + ": " + hint;
  }
  if (t.errors[ErrorClass::eaddrnotavail])
    out += "; EADDRNOTAVAIL: source ports ran out (widen ip_local_port_range, add --source addresses or target ports)";
  if (t.errors[ErrorClass::emfile_enfile]) out += "; EMFILE/ENFILE: a file limit was hit (nofile, fs.file-max)";
  return out;
}

bool conntrack_full(const NamespaceReading& r) {
  return r.conntrack_count && r.conntrack_max && *r.conntrack_max > 0 &&
         *r.conntrack_count >= *r.conntrack_max - *r.conntrack_max / 100;
}

std::string silent_limit_reached(const std::vector<NamespaceReading>& readings) {
  std::string out;
  for (const NamespaceReading& r : readings) {
    if (!conntrack_full(r)) continue;
    append_clause(out, "conntrack table of " + r.whose + " full: " + format_thousands(*r.conntrack_count) + " of " +
                           format_thousands(*r.conntrack_max) +
                           " entries (net.netfilter.nf_conntrack_max, counted per network namespace; past it SYNs are "
                           "dropped silently: "
                           "make host-tune raises it)");
  }
  return out;
}

}  // namespace c1m
