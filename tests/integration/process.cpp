#include "process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace c1m::test {

namespace {
int counter = 0;
}

std::string temp_dir() {
  char tmpl[] = "/tmp/c1m-test-XXXXXX";
  return mkdtemp(tmpl);
}

PortBlock::PortBlock(int count) {
  static std::vector<std::pair<int, int>> given;  // [first, last] of every block this process handed out
  static std::mt19937 pick(
      static_cast<unsigned>(getpid() ^ std::chrono::steady_clock::now().time_since_epoch().count()));
  auto free_now = [](int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    if (fd >= 0) close(fd);
    return ok;
  };
  for (int attempt = 0; attempt < 1000; ++attempt) {
    int first = 20000 + static_cast<int>(pick() % 30000);
    int last = first + count - 1;
    bool clash = false;
    for (auto [a, b] : given) clash = clash || !(last < a || first > b);
    for (int p = first; !clash && p <= last; ++p) clash = !free_now(p);
    if (clash) continue;
    given.emplace_back(first, last);
    first_ = first;
    return;
  }
  throw std::runtime_error("no block of " + std::to_string(count) + " free ports on 127.0.0.1 in 1000 tries");
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Process::Process(std::vector<std::string> args, unsigned long nofile) {
  static std::string dir = temp_dir();
  ++counter;
  out_path_ = dir + "/p" + std::to_string(counter) + ".out";
  err_path_ = dir + "/p" + std::to_string(counter) + ".err";
  pid_ = fork();
  if (pid_ == 0) {
    if (nofile) {
      rlimit r{nofile, nofile};
      setrlimit(RLIMIT_NOFILE, &r);
    }
    int o = open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(o, 1);
    dup2(e, 2);
    setpgid(0, 0);  // a signal to the test runner's group must not reach it
    std::vector<char*> argv;
    std::string bin = C1M_BINARY;
    argv.push_back(bin.data());
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
}

Process::~Process() {
  if (!reaped_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

void Process::signal(int sig) const { kill(pid_, sig); }

bool Process::running() {
  if (reaped_) return false;
  pid_t r = waitpid(pid_, &status_, WNOHANG);
  if (r == pid_) reaped_ = true;
  return !reaped_;
}

int Process::wait(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (running()) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status_, 0);
      reaped_ = true;
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
}

std::string Process::out() const { return read_file(out_path_); }
std::string Process::err() const { return read_file(err_path_); }

int connect_local(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return fd;
  if (fd >= 0) close(fd);
  return -1;
}

std::string read_until_closed(int fd, int timeout_ms) {
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string resp;
  char buf[8192];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) resp.append(buf, static_cast<size_t>(n));
  return resp;
}

std::string http_get_local(int port, const std::string& path, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (int fd = connect_local(port); fd >= 0) {
      std::string req = "GET " + path + " HTTP/1.0\r\n\r\n";
      send(fd, req.data(), req.size(), MSG_NOSIGNAL);
      std::string resp = read_until_closed(fd, 2000);
      close(fd);
      if (resp.find(" 200 ") != std::string::npos) return resp.substr(resp.find("\r\n\r\n") + 4);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return "";
}

}  // namespace c1m::test
