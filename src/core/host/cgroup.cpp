#include "core/host/cgroup.hpp"

#include <charconv>

#include "core/host/procfs.hpp"

namespace c1m::procfs {
namespace {

std::optional<uint64_t> number_in(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  uint64_t v = 0;
  const char* at = text->data();
  while (at < text->data() + text->size() && *at == ' ') ++at;
  auto [end, ec] = std::from_chars(at, text->data() + text->size(), v);
  if (ec != std::errc() || end == at) return std::nullopt;
  return v;
}

bool names_controller(std::string_view controllers, std::string_view wanted) {
  while (!controllers.empty()) {
    size_t comma = controllers.find(',');
    if (controllers.substr(0, comma) == wanted) return true;
    if (comma == std::string_view::npos) break;
    controllers.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

std::optional<CgroupPaths> parse_proc_cgroup(std::string_view text, const std::string& root) {
  std::optional<CgroupPaths> v1;
  std::string cpu_dir, unified;
  bool has_unified = false;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    // "ID:CONTROLLERS:PATH"; the path may itself hold ':'.
    size_t first = line.find(':');
    size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    std::string_view controllers = line.substr(first + 1, second - first - 1);
    std::string path(line.substr(second + 1));
    if (path.empty() || path[0] != '/') continue;
    if (line.substr(0, first) == "0" && controllers.empty()) {
      has_unified = true;
      unified = path;
    } else if (names_controller(controllers, "memory")) {
      v1 = CgroupPaths{1, path, root + "/memory" + (path == "/" ? "" : path), ""};
    } else if (names_controller(controllers, "cpuacct")) {
      cpu_dir = root + "/" + std::string(controllers) + (path == "/" ? "" : path);
    }
  }
  if (v1) {
    v1->cpu_dir = cpu_dir;
    return v1;
  }
  if (!has_unified) return std::nullopt;
  std::string dir = root + (unified == "/" ? "" : unified);
  return CgroupPaths{2, unified, dir, dir};
}

std::string cgroup_not_its_own(const CgroupPaths& target, const std::optional<CgroupPaths>& mine) {
  if (target.path == "/") return "it is in the host's root cgroup, which holds every process on the host";
  if (mine && mine->version == target.version && mine->path == target.path)
    return "it shares this client's cgroup (" + target.path + "), which would count the client's kernel memory too";
  return "";
}

std::optional<CgroupPaths> own_cgroup_of(int pid, std::string& why_not) {
  auto text = read_text("/proc/" + std::to_string(pid) + "/cgroup");
  auto at = text ? parse_proc_cgroup(*text) : std::nullopt;
  if (!at) {
    why_not = "its /proc/" + std::to_string(pid) + "/cgroup names neither a version 1 memory cgroup nor version 2";
    return std::nullopt;
  }
  auto mine_text = read_text("/proc/self/cgroup");
  why_not = cgroup_not_its_own(*at, mine_text ? parse_proc_cgroup(*mine_text) : std::nullopt);
  if (why_not.empty() && !read_cgroup(*at)) why_not = "its cgroup's files (" + at->memory_dir + ") cannot be read here";
  if (!why_not.empty()) return std::nullopt;
  return at;
}

std::map<std::string, uint64_t> parse_flat_keyed(std::string_view text) {
  std::map<std::string, uint64_t> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    size_t space = line.find(' ');
    if (space == std::string_view::npos || space == 0) continue;
    uint64_t v = 0;
    std::string_view value = line.substr(space + 1);
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec == std::errc() && end != value.data()) out[std::string(line.substr(0, space))] = v;
  }
  return out;
}

std::optional<CgroupUsage> cgroup_usage_of(int version, const CgroupFiles& f) {
  auto memory = number_in(f.memory_usage);
  if (!memory || !f.memory_stat) return std::nullopt;
  const auto stat = parse_flat_keyed(*f.memory_stat);
  auto stat_of = [&stat](const char* key) -> std::optional<uint64_t> {
    auto it = stat.find(key);
    return it == stat.end() ? std::nullopt : std::optional(it->second);
  };
  CgroupUsage u;
  u.memory_bytes = *memory;
  if (version == 1) {
    u.user_bytes = stat_of("rss").value_or(0) + stat_of("rss_huge").value_or(0);
    u.kernel_bytes = number_in(f.kmem_usage);
    // Version 1 counts a cgroup's TCP buffers only once a limit is set on them: unlimited (the
    // default) reads "9223372036854771712" and a usage of 0 that means "not counted", not "none".
    auto limit = number_in(f.kmem_tcp_limit);
    if (limit && *limit < (uint64_t{1} << 62)) u.socket_bytes = number_in(f.kmem_tcp_usage);
    u.cpu = {number_in(f.cpu_usage).value_or(0), number_in(f.cpu_usage_user)};
    return u;
  }
  u.user_bytes = stat_of("anon").value_or(0);
  u.kernel_bytes = stat_of("kernel");
  if (!u.kernel_bytes && stat_of("slab"))
    u.kernel_bytes = stat_of("slab").value_or(0) + stat_of("sock").value_or(0) + stat_of("kernel_stack").value_or(0) +
                     stat_of("pagetables").value_or(0);
  u.socket_bytes = stat_of("sock");
  if (f.cpu_usage) {
    const auto cpu = parse_flat_keyed(*f.cpu_usage);
    if (auto it = cpu.find("usage_usec"); it != cpu.end()) u.cpu.total_ns = it->second * 1000;
    if (auto it = cpu.find("user_usec"); it != cpu.end()) u.cpu.user_ns = it->second * 1000;
  }
  return u;
}

std::optional<CgroupUsage> read_cgroup(const CgroupPaths& at) {
  CgroupFiles f;
  const std::string& m = at.memory_dir;
  if (at.version == 1) {
    f = {read_text(m + "/memory.usage_in_bytes"),          read_text(m + "/memory.stat"),
         read_text(m + "/memory.kmem.usage_in_bytes"),     read_text(m + "/memory.kmem.tcp.usage_in_bytes"),
         read_text(m + "/memory.kmem.tcp.limit_in_bytes"), read_text(at.cpu_dir + "/cpuacct.usage"),
         read_text(at.cpu_dir + "/cpuacct.usage_user")};
  } else {
    f.memory_usage = read_text(m + "/memory.current");
    f.memory_stat = read_text(m + "/memory.stat");
    f.cpu_usage = read_text(at.cpu_dir + "/cpu.stat");
  }
  return cgroup_usage_of(at.version, f);
}

std::string socket_accounting(const CgroupPaths& at, const CgroupUsage& u) {
  if (at.version == 2) return "cgroup v2: memory.stat sock is its socket buffers, counted always";
  if (u.socket_bytes) return "cgroup v1: memory.kmem.tcp.usage_in_bytes counts its TCP buffers (a limit is set)";
  return "cgroup v1: memory.kmem.tcp.* counts nothing until a limit is set on it (none is): socket_bytes is null; "
         "kernel_bytes is what the kernel charged this cgroup, beside the host's slab a socket in the record";
}

}  // namespace c1m::procfs
