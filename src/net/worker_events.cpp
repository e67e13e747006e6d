#include "net/worker_events.hpp"

#include <signal.h>
#include <sys/socket.h>

namespace c1m::net {

WorkerEvents::WorkerEvents(event_base* base, int control_fd, timeval report_every, Report report, void* owner)
    : base_(base), report_(report), owner_(owner) {
  events_.emplace_back(event_new(base, -1, EV_PERSIST, &WorkerEvents::on_report, this));
  event_add(events_.back().get(), &report_every);
  events_.emplace_back(event_new(base, control_fd, EV_READ | EV_PERSIST, &WorkerEvents::on_control, this));
  event_add(events_.back().get(), nullptr);
  for (int sig : {SIGTERM, SIGINT}) {
    events_.emplace_back(evsignal_new(base, sig, &WorkerEvents::on_stop, this));
    event_add(events_.back().get(), nullptr);
  }
}

void WorkerEvents::on_report(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<WorkerEvents*>(arg);
  self->report_(self->owner_);
}

void WorkerEvents::on_control(evutil_socket_t fd, short, void* arg) {
  char byte;
  if (::recv(fd, &byte, 1, MSG_DONTWAIT) == 0) event_base_loopbreak(static_cast<WorkerEvents*>(arg)->base_);
}

void WorkerEvents::on_stop(evutil_socket_t, short, void* arg) {
  event_base_loopbreak(static_cast<WorkerEvents*>(arg)->base_);
}

}  // namespace c1m::net
