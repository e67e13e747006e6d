// --target-pid's readings: a process and its descendants found by their parents in a /proc laid out
// in a temporary directory, their memory and CPU added up; a command name with ") (" in it parsed.
#include "core/host/process_tree.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace c1m::procfs {
namespace {

namespace fs = std::filesystem;

class FakeProc : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("c1m-proc-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    // pid, comm, parent, utime and stime in ticks, resident pages
    add(1, "init", 0, 5, 5, 10);
    add(100, "nginx", 1, 100, 50, 1000);
    add(101, "nginx", 100, 300, 100, 2000);
    add(102, "odd) (name", 100, 0, 0, 500);
    add(200, "redis-server", 1, 7, 7, 7);
    add(300, "nginx", 102, 1, 1, 100);       // a grandchild
    fs::create_directories(root_ / "self");  // not a pid: skipped
  }
  void TearDown() override { fs::remove_all(root_); }
  void add(int pid, const std::string& comm, int ppid, int utime, int stime, int pages) {
    fs::path dir = root_ / std::to_string(pid);
    fs::create_directories(dir);
    std::ofstream(dir / "stat") << pid << " (" << comm << ") S " << ppid << " 1 1 0 -1 4194560 10 0 0 0 " << utime
                                << " " << stime << " 0 0 20 0 1 0 100 1000 " << pages << "\n";
    std::ofstream(dir / "statm") << pages * 2 << " " << pages << " 0 0 0 0 0\n";
    std::ofstream(dir / "comm") << comm << "\n";
  }
  fs::path root_;
};

TEST_F(FakeProc, TheTreeIsTheRootAndEveryDescendant) {
  std::vector<int> tree = process_tree(100, root_.string());
  std::sort(tree.begin() + 1, tree.end());
  EXPECT_EQ(tree, (std::vector<int>{100, 101, 102, 300}));
  EXPECT_EQ(process_tree(200, root_.string()), std::vector<int>{200});
  EXPECT_TRUE(process_tree(999, root_.string()).empty());
}

TEST_F(FakeProc, UsageAddsTheTreesMemoryAndCpu) {
  auto u = tree_usage(100, root_.string());
  ASSERT_TRUE(u);
  const auto page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const auto tick_ns = 1'000'000'000u / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
  EXPECT_EQ(u->processes, 4u);
  EXPECT_EQ(u->rss_bytes, (1000u + 2000 + 500 + 100) * page);
  EXPECT_EQ(u->cpu.total_ns, (150u + 400 + 0 + 2) * tick_ns);
  EXPECT_EQ(u->cpu.user_ns, (100u + 300 + 0 + 1) * tick_ns);  // utime alone
  EXPECT_EQ(u->command, "nginx");
  EXPECT_FALSE(tree_usage(999, root_.string()));
}

TEST(ProcessTree, TheParentIsReadAfterTheCommandsLastParenthesis) {
  EXPECT_EQ(parse_stat_ppid("102 (odd) (name) S 100 1 1"), 100);
  EXPECT_EQ(parse_stat_ppid("1 (init) S 0 1 1"), 0);
  EXPECT_FALSE(parse_stat_ppid("garbage"));
  EXPECT_FALSE(parse_stat_ppid("5 (x) S"));
}

}  // namespace
}  // namespace c1m::procfs

namespace c1m::procfs {
TEST(ProcessTree, TheOpenFilesLimitIsTheSoftOne) {
  EXPECT_EQ(parse_limits_nofile("Limit                     Soft Limit           Hard Limit           Units\n"
                                "Max processes             95000                95000                processes\n"
                                "Max open files            20000                40000                files\n"),
            20000u);
  EXPECT_FALSE(parse_limits_nofile("Max open files            unlimited            unlimited            files\n"));
  EXPECT_FALSE(parse_limits_nofile(""));
}
}  // namespace c1m::procfs
