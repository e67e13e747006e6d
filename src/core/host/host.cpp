#include "core/host/host.hpp"
#include <sys/random.h>
#include <time.h>
#include <cstdio>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "core/host/procfs.hpp"

namespace c1m {
namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t i = s.find_first_not_of(" \t");
  return i == std::string::npos ? std::string() : s.substr(i);
}

std::string os_pretty_name() {
  auto t = procfs::read_text("/etc/os-release");
  if (!t) return "unknown";
  size_t pos = t->find("PRETTY_NAME=");
  if (pos == std::string::npos) return "unknown";
  std::string v = t->substr(pos + 12, t->find('\n', pos) - pos - 12);
  if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
  return v;
}

std::string cpu_model() {
  auto t = procfs::read_text("/proc/cpuinfo");
  if (!t) return "unknown";
  size_t pos = t->find("model name");
  if (pos == std::string::npos) return "unknown";
  size_t colon = t->find(':', pos);
  return trim(t->substr(colon + 1, t->find('\n', colon) - colon - 1));
}

ojson sysctl_value(const std::string& name) {
  std::string v = read_sysctl(name);
  if (v.empty()) return nullptr;
  for (auto& c : v)
    if (c == '\t') c = ' ';
  return v;
}

}  // namespace

std::string read_sysctl(const std::string& dotted) {
  std::string path = "/proc/sys/" + dotted;
  for (size_t i = 10; i < path.size(); ++i)
    if (path[i] == '.') path[i] = '/';
  auto t = procfs::read_text(path);
  return t ? trim(*t) : std::string();
}

ojson host_fingerprint() {
  struct utsname u {};
  uname(&u);
  ojson h;
  h["hostname"] = u.nodename;
  h["kernel"] = u.release;
  h["arch"] = u.machine;
  h["os"] = os_pretty_name();
  h["cpu_model"] = cpu_model();
  h["cpus"] = sysconf(_SC_NPROCESSORS_ONLN);
  auto mem = procfs::parse_meminfo(procfs::read_text("/proc/meminfo").value_or(""));
  h["mem_total_bytes"] = mem.count("MemTotal") ? ojson(mem["MemTotal"]) : ojson(nullptr);
  // This host's own IPv4 addresses (loopback aside): in the lab, each client container's one address.
  ojson addresses = ojson::array();
  ifaddrs* ifs = nullptr;
  if (getifaddrs(&ifs) == 0) {
    for (ifaddrs* i = ifs; i; i = i->ifa_next) {
      if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
      char buf[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, buf, sizeof buf);
      if (std::string(buf).rfind("127.", 0) != 0) addresses.push_back(buf);
    }
    freeifaddrs(ifs);
  }
  h["addresses"] = addresses;
  // The lab sets these in each container; natively they are absent.
  const char* runtime = std::getenv("C1M_CONTAINER_RUNTIME");
  const char* compose = std::getenv("C1M_COMPOSE_VERSION");
  h["container_runtime"] = runtime ? ojson(runtime) : ojson(nullptr);
  h["compose_version"] = compose ? ojson(compose) : ojson(nullptr);
  // The swarm lab hands each task its node ({{.Node.ID}}, {{.Node.Hostname}}): the container's own
  // hostname is the task's, and two nodes may share a machine name.
  const char* node_id = std::getenv("C1M_NODE_ID");
  const char* node_hostname = std::getenv("C1M_NODE_HOSTNAME");
  if (node_id && *node_id)
    h["node"] = {{"id", node_id}, {"hostname", node_hostname ? ojson(node_hostname) : ojson(nullptr)}};
  return h;
}

namespace {
// The CPU weight of this process's cgroup, read back: cgroup v2's cpu.weight, or v1's cpu.shares. A
// container sees its own cgroup at the root of the mount; a host process finds its own by
// /proc/self/cgroup. The key names which it is; null where neither can be read.
std::pair<std::string, ojson> cgroup_cpu_weight() {
  auto number = [](const std::string& path) -> ojson {
    std::ifstream in(path);
    uint64_t v = 0;
    return in >> v ? ojson(v) : ojson(nullptr);
  };
  std::string own_v1, own_v2;
  std::ifstream cg("/proc/self/cgroup");
  for (std::string line; std::getline(cg, line);) {
    size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (controllers.empty()) own_v2 = path;
    if (("," + controllers + ",").find(",cpu,") != std::string::npos) own_v1 = path;
  }
  for (const std::string& p : {"/sys/fs/cgroup" + own_v2 + "/cpu.weight", std::string("/sys/fs/cgroup/cpu.weight")})
    if (ojson v = number(p); !v.is_null()) return {"cpu_weight", v};
  for (const std::string& p :
       {"/sys/fs/cgroup/cpu" + own_v1 + "/cpu.shares", std::string("/sys/fs/cgroup/cpu/cpu.shares")})
    if (ojson v = number(p); !v.is_null()) return {"cpu_shares", v};
  return {"cpu_shares", nullptr};
}
}  // namespace

ojson process_limits() {
  struct rlimit r {};
  getrlimit(RLIMIT_NOFILE, &r);
  ojson l;
  l["nofile_soft"] = static_cast<uint64_t>(r.rlim_cur);
  l["nofile_hard"] = static_cast<uint64_t>(r.rlim_max);
  l["sched_policy"] = sched_policy_name();
  auto [key, weight] = cgroup_cpu_weight();
  l[key] = weight;
  return l;
}

ojson namespaced_sysctls() {
  ojson s;
  for (const char* n : {"net.ipv4.ip_local_port_range", "net.core.somaxconn", "net.ipv4.tcp_max_syn_backlog",
                        "net.ipv4.tcp_syncookies", "net.ipv4.tcp_tw_reuse", "net.ipv4.tcp_migrate_req",
                        // its namespace's TCP table: negative where it shares the host's (tcp_child_ehash_entries)
                        "net.ipv4.tcp_ehash_entries"})
    s[n] = sysctl_value(n);
  return s;
}

ojson host_sysctls() {
  ojson s;
  for (const char* n : {"fs.file-max", "fs.nr_open", "net.netfilter.nf_conntrack_max", "net.ipv4.tcp_mem",
                        "net.core.netdev_max_backlog", "fs.epoll.max_user_watches"})
    s[n] = sysctl_value(n);
  return s;
}

uint64_t raise_nofile_to_hard() {
  struct rlimit r {};
  getrlimit(RLIMIT_NOFILE, &r);
  if (r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
    getrlimit(RLIMIT_NOFILE, &r);
  }
  return r.rlim_cur;
}

std::string set_sched_policy(const std::string& name) {
  int policy = name == "batch" ? SCHED_BATCH : SCHED_OTHER;
  sched_param p{};
  if (sched_setscheduler(0, policy, &p) != 0)
    return "cannot set the scheduling policy to " + name + ": " + std::strerror(errno);
  return {};
}

std::string sched_policy_name(int pid) {
  switch (int p = sched_getscheduler(pid)) {
    case SCHED_OTHER:
      return "normal";
    case SCHED_BATCH:
      return "batch";
    case SCHED_IDLE:
      return "idle";
    case SCHED_FIFO:
      return "fifo";
    case SCHED_RR:
      return "rr";
    case -1:
      return std::string("unknown: ") + std::strerror(errno);
    default:
      return "other " + std::to_string(p);
  }
}

namespace {

std::optional<uint64_t> sysctl_u64(const std::string& name) {
  std::string v = read_sysctl(name);
  if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::stoull(v);
}

}  // namespace

HostFacts read_host_facts() {
  HostFacts f;
  auto mem = procfs::parse_meminfo(procfs::read_text("/proc/meminfo").value_or(""));
  f.mem_available_bytes = mem.count("MemAvailable") ? mem["MemAvailable"] : 0;
  f.file_max = sysctl_u64("fs.file-max").value_or(0);
  std::string nr = read_sysctl("fs.file-nr");
  f.files_allocated = nr.empty() ? 0 : std::stoull(nr.substr(0, nr.find_first_of(" \t")));
  f.nofile_hard = process_limits()["nofile_hard"].get<uint64_t>();
  f.nr_open = sysctl_u64("fs.nr_open");
  f.conntrack_max = sysctl_u64("net.netfilter.nf_conntrack_max");
  f.conntrack_count = sysctl_u64("net.netfilter.nf_conntrack_count");
  f.conntrack_buckets = sysctl_u64("net.netfilter.nf_conntrack_buckets");
  f.epoll_max_user_watches = sysctl_u64("fs.epoll.max_user_watches");
  f.port_range = parse_port_range(read_sysctl("net.ipv4.ip_local_port_range"));
  f.somaxconn = sysctl_u64("net.core.somaxconn");
  f.tcp_max_syn_backlog = sysctl_u64("net.ipv4.tcp_max_syn_backlog");
  f.tcp_migrate_req = sysctl_u64("net.ipv4.tcp_migrate_req");
  f.tcp_ehash_entries = sysctl_u64("net.ipv4.tcp_ehash_entries");
  f.tcp_child_ehash_entries = sysctl_u64("net.ipv4.tcp_child_ehash_entries");
  return f;
}

Parsed<Ipv4> resolve_host_name(const std::string& name) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(name.c_str(), nullptr, &hints, &found); rc != 0)
    return {"host name '" + name + "' does not resolve to an IPv4 address: " + gai_strerror(rc)};
  uint32_t addr = ntohl(reinterpret_cast<const sockaddr_in*>(found->ai_addr)->sin_addr.s_addr);
  freeaddrinfo(found);
  return {Ipv4{addr}};
}

std::string new_run_id() {
  unsigned char b[8] = {};
  if (getrandom(b, sizeof b, 0) != sizeof b) {
    timespec t{};
    clock_gettime(CLOCK_REALTIME, &t);
    for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(t.tv_nsec >> (i * 4));
  }
  char out[17];
  for (int i = 0; i < 8; ++i) std::snprintf(out + 2 * i, 3, "%02x", b[i]);
  return out;
}

}  // namespace c1m
