// Runs the c1m binary as a child for integration tests: arguments, an optional open-files limit,
// output captured to files, signals, and a bounded wait.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

namespace c1m::test {

class Process {
 public:
  // Starts C1M_BINARY with args; nofile > 0 lowers the child's open-files limit first.
  explicit Process(std::vector<std::string> args, unsigned long nofile = 0);
  ~Process();  // kills the child if it still runs
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  void signal(int sig) const;
  pid_t pid() const { return pid_; }
  // Exit status, or -1 if it did not exit within timeout_ms (then it is killed), or 128+N for signal N.
  int wait(int timeout_ms);
  bool running();
  std::string out() const;
  std::string err() const;

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::string out_path_, err_path_;
};

std::string read_file(const std::string& path);
std::string temp_dir();
// Polls GET path on 127.0.0.1:port until it answers 200 or timeout; returns the body or "".
std::string http_get_local(int port, const std::string& path, int timeout_ms);

}  // namespace c1m::test
