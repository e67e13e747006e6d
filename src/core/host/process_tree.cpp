#include "core/host/process_tree.hpp"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <map>

#include "core/host/procfs.hpp"

namespace c1m::procfs {

std::optional<int> parse_stat_ppid(std::string_view text) {
  size_t close = text.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(close + 1);  // " S 1234 ..."
  size_t at = rest.find_first_not_of(' ');
  if (at == std::string_view::npos) return std::nullopt;
  at = rest.find(' ', at);  // past the state
  if (at == std::string_view::npos) return std::nullopt;
  rest.remove_prefix(at + 1);
  int ppid = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), ppid);
  if (ec != std::errc() || end == rest.data()) return std::nullopt;
  return ppid;
}

std::optional<uint64_t> parse_limits_nofile(std::string_view text) {
  size_t at = text.find("Max open files");
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(at + 14);
  rest.remove_prefix(std::min(rest.find_first_not_of(' '), rest.size()));
  uint64_t soft = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), soft);
  if (ec != std::errc() || end == rest.data()) return std::nullopt;
  return soft;
}

std::vector<int> process_tree(int root, const std::string& proc_root) {
  if (!read_text(proc_root + "/" + std::to_string(root) + "/stat")) return {};
  std::multimap<int, int> children;  // parent -> child, for every process listed
  if (DIR* d = ::opendir(proc_root.c_str())) {
    while (dirent* e = ::readdir(d)) {
      int pid = 0;
      std::string_view name(e->d_name);
      auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
      if (ec != std::errc() || end != name.data() + name.size()) continue;
      if (auto stat = read_text(proc_root + "/" + std::string(name) + "/stat"))
        if (auto ppid = parse_stat_ppid(*stat)) children.emplace(*ppid, pid);
    }
    ::closedir(d);
  }
  std::vector<int> tree{root};
  for (size_t i = 0; i < tree.size() && tree.size() < 100000; ++i) {
    auto [from, to] = children.equal_range(tree[i]);
    for (auto it = from; it != to; ++it) tree.push_back(it->second);
  }
  return tree;
}

std::optional<TreeUsage> tree_usage(int root, const std::string& proc_root) {
  std::vector<int> tree = process_tree(root, proc_root);
  if (tree.empty()) return std::nullopt;
  TreeUsage u;
  const auto page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const auto ticks = static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
  for (int pid : tree) {
    const std::string dir = proc_root + "/" + std::to_string(pid);
    auto stat = read_text(dir + "/stat");
    auto statm = read_text(dir + "/statm");
    if (!stat || !statm) continue;  // it ended between the listing and now
    u.cpu += parse_stat_cpu(*stat, ticks).value_or(CpuTime{0, 0});
    u.rss_bytes += parse_statm_rss_bytes(*statm, page).value_or(0);
    ++u.processes;
  }
  if (auto comm = read_text(proc_root + "/" + std::to_string(root) + "/comm")) {
    u.command = *comm;
    while (!u.command.empty() && (u.command.back() == '\n' || u.command.back() == ' ')) u.command.pop_back();
  }
  return u;
}

}  // namespace c1m::procfs
