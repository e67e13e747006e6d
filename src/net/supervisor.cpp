#include "net/supervisor.hpp"

#include <signal.h>

#include <memory>

namespace c1m::net {

Supervisor::Supervisor(WorkerPool& pool, OnMessage on_message)
    : pool_(pool), on_message_(std::move(on_message)), base_(make_event_base()) {
  auto& workers = pool_.workers();
  ctx_.reserve(workers.size());
  for (size_t i = 0; i < workers.size(); ++i) {
    ctx_.push_back({this, i});
    events_.emplace_back(event_new(base_.get(), workers[i].control_fd, EV_READ | EV_PERSIST, &Supervisor::on_control, &ctx_.back()));
    event_add(events_.back().get(), nullptr);
  }
  // Reap exited workers every 200 ms so a lost one is noticed even if its socket stays quiet.
  every({0, 200000}, [this] {
    pool_.reap_exited();
    check_done();
  });
}

void Supervisor::every(timeval period, std::function<void()> fn) {
  auto holder = std::make_unique<std::function<void()>>(std::move(fn));
  auto cb = [](evutil_socket_t, short, void* arg) { (*static_cast<std::function<void()>*>(arg))(); };
  events_.emplace_back(event_new(base_.get(), -1, EV_PERSIST, cb, holder.get()));
  event_add(events_.back().get(), &period);
  timer_fns_.push_back(std::move(holder));
}

void Supervisor::on_signal(std::function<void(int)> fn) {
  on_signal_ = std::move(fn);
  auto cb = [](evutil_socket_t sig, short, void* arg) {
    auto* self = static_cast<Supervisor*>(arg);
    if (self->on_signal_) self->on_signal_(static_cast<int>(sig));
  };
  for (int sig : {SIGINT, SIGTERM}) {
    events_.emplace_back(evsignal_new(base_.get(), sig, cb, this));
    event_add(events_.back().get(), nullptr);
  }
}

void Supervisor::run() { event_base_dispatch(base_.get()); }

void Supervisor::stop(int grace_ms) {
  if (stopping_) return;
  stopping_ = true;
  pool_.signal_all(SIGTERM);
  timeval grace{grace_ms / 1000, (grace_ms % 1000) * 1000};
  event_base_once(base_.get(), -1, EV_TIMEOUT, [](evutil_socket_t, short, void* arg) {
    event_base_loopbreak(static_cast<Supervisor*>(arg)->base_.get());
  }, this, &grace);
  check_done();
}

void Supervisor::on_control(evutil_socket_t, short, void* arg) {
  auto* ctx = static_cast<Ctx*>(arg);
  ctx->self->drain(ctx->index);
}

void Supervisor::drain(size_t i) {
  Worker& w = pool_.workers()[i];
  alignas(16) static unsigned char payload[kMaxMessage];
  while (true) {
    MessageHeader h{};
    ssize_t n = receive_message(w.control_fd, h, payload, sizeof payload);
    if (n == kEndOfStream) {  // the worker is gone, and everything it sent has been read
      w.end_of_stream = true;
      event_del(events_[i].get());
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
  event_base_loopbreak(base_.get());
}

}  // namespace c1m::net
