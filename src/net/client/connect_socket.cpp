#include "net/client/connect_socket.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

#include "net/base/event_loop.hpp"
#include "net/base/sockaddr.hpp"

namespace c1m::net {

int start_connect(const Ipv4* src, uint16_t port, const Endpoint& target, size_t fd_limit, int& fd) {
  UniqueFd s(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!s) return errno;
  if (static_cast<size_t>(s.get()) >= fd_limit) return EMFILE;
  int one = 1;
  // Many sockets share a source port, each to a different target: allowed with SO_REUSEADDR. The
  // kernel's own pick (port 0) takes it too, so that its port, which other targets' connections are
  // planned on, does not refuse their binds; the spare ports (ConnectPlan::spare_port) keep it rare.
  setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // Without this, bind() would reserve a port for all destinations and exhaust the range early.
  if (port == 0 && src) setsockopt(s.get(), SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  if (src || port != 0) {
    sockaddr_in from = sockaddr_of(src ? *src : Ipv4{0}, port);
    if (bind(s.get(), reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) return errno;
  }
  sockaddr_in dst = sockaddr_of(target.ip, target.port);
  if (connect(s.get(), reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0 && errno != EINPROGRESS) return errno;
  fd = s.release();
  return 0;
}

void reset_on_close(int fd) {
  linger abort{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
}

}  // namespace c1m::net
