#include "net/base/hold_set.hpp"

#include <sys/epoll.h>

namespace c1m::net {

namespace {
constexpr int kBatch = 256;
constexpr int kBatchesPerWake = 8;  // then yield to the rest of the loop (timers, new connects)
}  // namespace

HoldSet::HoldSet(event_base* base, OnReady on_ready, void* owner)
    : epoll_fd_(epoll_create1(EPOLL_CLOEXEC)), on_ready_(on_ready), owner_(owner) {
  if (!epoll_fd_) return;
  // ok() stays false when any of it fails: the owner says why and stops.
  watch_.reset(event_new(base, epoll_fd_.get(), EV_READ | EV_PERSIST, &HoldSet::on_set_ready, this));
  if (watch_ && event_add(watch_.get(), nullptr) != 0) watch_.reset();
}

static_assert(HoldSet::kHoldEvents == (EPOLLIN | EPOLLRDHUP));
static_assert(HoldSet::kConnectEvents == (EPOLLOUT | EPOLLIN | EPOLLRDHUP | EPOLLET));

bool HoldSet::add(int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  return epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &ev) == 0;
}

void HoldSet::on_set_ready(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<HoldSet*>(arg);
  epoll_event ready[kBatch];
  for (int round = 0; round < kBatchesPerWake; ++round) {
    int n = epoll_wait(self->epoll_fd_.get(), ready, kBatch, 0);
    for (int i = 0; i < n; ++i) self->on_ready_(self->owner_, ready[i].data.fd, ready[i].events);
    if (n < kBatch) return;
  }
}

}  // namespace c1m::net
