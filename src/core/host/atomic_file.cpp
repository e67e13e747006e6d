#include "core/host/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace c1m {

std::string directory_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
}

namespace {

std::string write_file(const std::string& path, const std::string& content, Durability durability, bool* existed) {
  auto fail = [](const std::string& what, const std::string& p) {
    return what + " " + p + ": " + std::strerror(errno);
  };
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail("cannot create", tmp);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string e = fail("cannot write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return e;
    }
    done += static_cast<size_t>(n);
  }
  bool synced = durability == Durability::synced;
  if ((synced && ::fsync(fd) != 0) || ::close(fd) != 0) {
    std::string e = fail("cannot sync", tmp);
    ::unlink(tmp.c_str());
    return e;
  }
  if (existed) {  // link() fails where rename() would replace
    *existed = false;
    if (::link(tmp.c_str(), path.c_str()) != 0) {
      *existed = errno == EEXIST;
      std::string e = *existed ? path + " exists already" : fail("cannot link onto", path);
      ::unlink(tmp.c_str());
      return e;
    }
    ::unlink(tmp.c_str());
  } else if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string e = fail("cannot rename onto", path);
    ::unlink(tmp.c_str());
    return e;
  }
  int dfd = synced ? ::open(directory_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

}  // namespace

std::string write_file_atomically(const std::string& path, const std::string& content, Durability durability) {
  return write_file(path, content, durability, nullptr);
}

std::string write_new_file(const std::string& path, const std::string& content, bool* existed) {
  bool ignored = false;
  return write_file(path, content, Durability::synced, existed ? existed : &ignored);
}

}  // namespace c1m
