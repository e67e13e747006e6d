#include "net/base/worker_events.hpp"

#include <signal.h>
#include <sys/socket.h>

namespace c1m::net {

WorkerEvents::WorkerEvents(event_base* base, int control_fd, timeval report_every, Report report, void* owner)
    : base_(base), report_(report), owner_(owner) {
  events_.push_back(new_event(base, -1, EV_PERSIST, &WorkerEvents::on_report, this, "the counter reports"));
  add_event(events_.back().get(), &report_every, "the counter reports");
  events_.push_back(
      new_event(base, control_fd, EV_READ | EV_PERSIST, &WorkerEvents::on_control, this, "the control socket"));
  add_event(events_.back().get(), nullptr, "the control socket");
  for (int sig : {SIGTERM, SIGINT}) {
    events_.push_back(new_event(base, sig, EV_SIGNAL | EV_PERSIST, &WorkerEvents::on_stop, this, "a stop signal"));
    add_event(events_.back().get(), nullptr, "a stop signal");
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
