#include "core/host/procfs.hpp"

#include <dirent.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <vector>

namespace c1m::procfs {
namespace {

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::vector<std::string_view> words_of(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

std::optional<uint64_t> to_u64(std::string_view w) {
  if (w.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : w) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

}  // namespace

std::optional<std::string> read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return ss.str();
}

std::map<std::string, uint64_t> parse_meminfo(std::string_view text) {
  std::map<std::string, uint64_t> out;
  for (auto line : lines_of(text)) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    auto w = words_of(line.substr(colon + 1));
    if (w.empty()) continue;
    auto v = to_u64(w[0]);
    if (!v) continue;
    uint64_t scale = (w.size() > 1 && w[1] == "kB") ? 1024 : 1;
    out[std::string(line.substr(0, colon))] = *v * scale;
  }
  return out;
}

std::map<std::string, SlabCache> parse_slabinfo(std::string_view text) {
  std::map<std::string, SlabCache> out;
  for (auto line : lines_of(text)) {
    if (line.empty() || line[0] == '#' || line.starts_with("slabinfo")) continue;
    auto w = words_of(line);
    if (w.size() < 4) continue;
    auto active = to_u64(w[1]), num = to_u64(w[2]), size = to_u64(w[3]);
    if (!active || !num || !size) continue;
    out[std::string(w[0])] = {*active, *num, *size};
  }
  return out;
}

std::map<std::string, uint64_t> parse_sockstat(std::string_view text) {
  std::map<std::string, uint64_t> out;
  for (auto line : lines_of(text)) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string proto(line.substr(0, colon));
    auto w = words_of(line.substr(colon + 1));
    for (size_t i = 0; i + 1 < w.size(); i += 2)
      if (auto v = to_u64(w[i + 1])) out[proto + "." + std::string(w[i])] = *v;
  }
  return out;
}

std::map<std::string, uint64_t> parse_netstat(std::string_view text) {
  std::map<std::string, uint64_t> out;
  auto lines = lines_of(text);
  for (size_t i = 0; i + 1 < lines.size(); i += 2) {
    auto names = words_of(lines[i]), values = words_of(lines[i + 1]);
    if (names.empty() || values.empty() || names[0] != values[0] || names.size() != values.size()) continue;
    std::string prefix(names[0].substr(0, names[0].size() - 1));  // "TcpExt:" -> "TcpExt"
    for (size_t k = 1; k < names.size(); ++k)
      if (auto v = to_u64(values[k])) out[prefix + "." + std::string(names[k])] = *v;
  }
  return out;
}

std::optional<uint64_t> parse_statm_rss_bytes(std::string_view text, uint64_t page_size) {
  auto w = words_of(text.substr(0, text.find('\n')));
  if (w.size() < 2) return std::nullopt;
  auto pages = to_u64(w[1]);
  if (!pages) return std::nullopt;
  return *pages * page_size;
}

std::optional<uint64_t> parse_statm_anon_bytes(std::string_view text, uint64_t page_size) {
  auto w = words_of(text.substr(0, text.find('\n')));
  if (w.size() < 3) return std::nullopt;
  auto resident = to_u64(w[1]), shared = to_u64(w[2]);
  if (!resident || !shared) return std::nullopt;
  return (*resident - std::min(*resident, *shared)) * page_size;
}

KernelSnapshot take_kernel_snapshot(SlabDetail detail, const std::string& root) {
  KernelSnapshot s;
  if (auto t = read_text(root + "/meminfo")) {
    auto m = parse_meminfo(*t);
    if (m.count("Slab")) s.slab_bytes = m["Slab"];
    if (m.count("MemAvailable")) s.mem_available_bytes = m["MemAvailable"];
  }
  if (detail == SlabDetail::without_caches) {
    // leave caches empty
  } else if (auto t = read_text(root + "/slabinfo")) {
    s.slabinfo_readable = true;
    auto all = parse_slabinfo(*t);
    for (const char* name : kSocketCaches)
      if (all.count(name)) s.caches[name] = all[name];
  }
  if (auto t = read_text(root + "/net/sockstat")) s.sockstat = parse_sockstat(*t);
  if (auto t = read_text(root + "/net/netstat")) {
    auto all = parse_netstat(*t);
    for (const char* name : kTcpExtCounters) {
      std::string key = std::string("TcpExt.") + name;
      if (all.count(key)) s.tcpext[name] = all[key];
    }
  }
  auto number = [&](const char* file) -> std::optional<uint64_t> {
    auto t = read_text(root + "/sys/net/netfilter/" + file);
    if (!t || t->empty() || !std::isdigit(static_cast<unsigned char>((*t)[0]))) return std::nullopt;
    return std::stoull(*t);
  };
  s.conntrack_count = number("nf_conntrack_count");
  s.conntrack_max = number("nf_conntrack_max");
  return s;
}

std::optional<uint64_t> established_in_namespace(const std::string& proc_dir) {
  auto snmp = read_text(proc_dir + "/net/snmp");
  if (!snmp) return std::nullopt;
  auto all = parse_netstat(*snmp);
  auto it = all.find("Tcp.CurrEstab");
  return it == all.end() ? std::nullopt : std::optional(it->second);
}

uint64_t self_anon_rss_bytes() {
  auto t = read_text("/proc/self/statm");
  if (!t) return 0;
  return parse_statm_anon_bytes(*t, static_cast<uint64_t>(sysconf(_SC_PAGESIZE))).value_or(0);
}

uint64_t self_open_fds() {
  DIR* d = opendir("/proc/self/fd");
  if (!d) return 0;
  uint64_t n = 0;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n > 0 ? n - 1 : 0;  // the directory's own descriptor
}

}  // namespace c1m::procfs

namespace c1m::procfs {

CpuTime& CpuTime::operator+=(const CpuTime& o) {
  total_ns += o.total_ns;
  user_ns = user_ns && o.user_ns ? std::optional(*user_ns + *o.user_ns) : std::nullopt;
  return *this;
}

CpuTime CpuTime::since(const CpuTime& earlier) const {
  auto minus = [](uint64_t a, uint64_t b) { return a > b ? a - b : 0; };
  CpuTime d{minus(total_ns, earlier.total_ns), std::nullopt};
  if (user_ns && earlier.user_ns) d.user_ns = minus(*user_ns, *earlier.user_ns);
  return d;
}

std::optional<double> CpuTime::user_s() const {
  return user_ns ? std::optional(static_cast<double>(*user_ns) / 1e9) : std::nullopt;
}

std::optional<CpuTime> parse_stat_cpu(std::string_view text, uint64_t ticks_per_s) {
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  size_t close = text.rfind(')');
  if (close == std::string_view::npos || ticks_per_s == 0) return std::nullopt;
  auto w = words_of(text.substr(close + 1));
  if (w.size() < 13) return std::nullopt;  // fields 3..15
  auto utime = to_u64(w[11]), stime = to_u64(w[12]);
  if (!utime || !stime) return std::nullopt;
  const uint64_t ns_a_tick = 1'000'000'000u / ticks_per_s;
  return CpuTime{(*utime + *stime) * ns_a_tick, *utime * ns_a_tick};
}

CpuTime process_cpu(int pid) {
  auto t = read_text("/proc/" + std::to_string(pid) + "/stat");
  if (!t) return {0, 0};
  return parse_stat_cpu(*t, static_cast<uint64_t>(sysconf(_SC_CLK_TCK))).value_or(CpuTime{0, 0});
}

std::optional<MachineCpu> parse_machine_cpu(std::string_view text, uint64_t ticks_per_s) {
  auto w = words_of(text.substr(0, text.find('\n')));
  if (w.size() < 9 || w[0] != "cpu" || ticks_per_s == 0) return std::nullopt;
  uint64_t v[8];
  for (size_t i = 0; i < 8; ++i) {
    auto n = to_u64(w[i + 1]);
    if (!n) return std::nullopt;
    v[i] = *n * (1'000'000'000u / ticks_per_s);
  }
  // user nice system idle iowait irq softirq steal; then a "cpuN" line a core
  uint32_t cpus = 0;
  for (size_t at = text.find("\ncpu"); at != std::string_view::npos; at = text.find("\ncpu", at + 1))
    if (at + 4 < text.size() && text[at + 4] >= '0' && text[at + 4] <= '9') ++cpus;
  return MachineCpu{v[0] + v[1] + v[2] + v[5] + v[6], v[7], v[3] + v[4], cpus};
}

double busy_cores(const MachineCpu& start, const MachineCpu& end, double wall_s) {
  if (wall_s <= 0 || end.cpus == 0) return 0;
  if (end.busy_ns < start.busy_ns || end.idle_ns < start.idle_ns || end.steal_ns < start.steal_ns) return 0;
  double by_ticks = static_cast<double>(end.busy_ns - start.busy_ns) / 1e9 / wall_s;
  double away = static_cast<double>(end.idle_ns - start.idle_ns + end.steal_ns - start.steal_ns) / 1e9;
  return std::clamp(std::max(by_ticks, end.cpus - away / wall_s), 0.0, static_cast<double>(end.cpus));
}

double steal_cores(const MachineCpu& start, const MachineCpu& end, double wall_s) {
  if (wall_s <= 0 || end.steal_ns < start.steal_ns) return 0;
  return static_cast<double>(end.steal_ns - start.steal_ns) / 1e9 / wall_s;
}

std::optional<MachineCpu> machine_cpu() {
  auto t = read_text("/proc/stat");
  if (!t) return std::nullopt;
  return parse_machine_cpu(*t, static_cast<uint64_t>(sysconf(_SC_CLK_TCK)));
}

}  // namespace c1m::procfs
