// The events every worker process has besides its work: a periodic report to the parent, its
// control socket (EOF means the parent is gone), and SIGTERM/SIGINT. The last two end the loop, after
// which the worker sends its final report.
#pragma once
#include <vector>

#include "net/base/event_loop.hpp"

namespace c1m::net {

class WorkerEvents {
 public:
  using Report = void (*)(void* owner);
  WorkerEvents(event_base* base, int control_fd, timeval report_every, Report report, void* owner);

 private:
  static void on_report(evutil_socket_t, short, void* self);
  static void on_control(evutil_socket_t fd, short, void* self);
  static void on_stop(evutil_socket_t, short, void* self);

  event_base* base_;
  Report report_;
  void* owner_;
  std::vector<EventPtr> events_;
};

}  // namespace c1m::net
