#include "net/base/supervisor.hpp"

#include <signal.h>

#include <memory>

namespace c1m::net {

Supervisor::Supervisor(WorkerPool& pool, OnMessage on_message) : pool_(pool), on_message_(std::move(on_message)) {
  auto& workers = pool_.workers();
  for (size_t i = 0; i < workers.size(); ++i)
    control_watch_.push_back(loop_.on_readable(workers[i].control_fd, [this, i] { drain(i); }));
  // Reap exited workers every 200 ms so a lost one is noticed even if its socket stays quiet.
  every({0, 200000}, [this] {
    pool_.reap_exited();
    check_done();
  });
}

void Supervisor::run() { loop_.run(); }

void Supervisor::stop(int grace_ms) {
  if (stopping_) return;
  stopping_ = true;
  pool_.signal_all(SIGTERM);
  loop_.after({grace_ms / 1000, (grace_ms % 1000) * 1000}, [this] { loop_.break_loop(); });
  check_done();
}

void Supervisor::drain(size_t i) {
  Worker& w = pool_.workers()[i];
  alignas(16) static unsigned char payload[kMaxMessage];
  while (true) {
    MessageHeader h{};
    ssize_t n = receive_message(w.control_fd, h, payload, sizeof payload);
    if (n == kEndOfStream) {  // the worker is gone, and everything it sent has been read
      w.end_of_stream = true;
      loop_.stop_watching(control_watch_[i]);
      if (!w.final_received && on_lost_) on_lost_(i);
      check_done();
      return;
    }
    if (n < 0) break;
    if (h.type == MessageType::final_done) w.final_received = true;
    on_message_(static_cast<uint32_t>(i), h.type, payload, static_cast<size_t>(n));
  }
  check_done();
}

void Supervisor::check_done() {
  if (!stopping_) return;
  // Reaped is not enough: a worker's last messages may still wait in its socket.
  for (const Worker& w : pool_.workers())
    if (!w.final_received && !w.end_of_stream) return;
  loop_.break_loop();
}

}  // namespace c1m::net
