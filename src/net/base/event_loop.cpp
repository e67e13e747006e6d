#include "net/base/event_loop.hpp"

#include <string>

namespace c1m::net {

EventPtr new_event(event_base* base, evutil_socket_t fd, short what, event_callback_fn cb, void* arg,
                   const char* what_for) {
  EventPtr ev(what & EV_SIGNAL ? evsignal_new(base, fd, cb, arg) : event_new(base, fd, what, cb, arg));
  if (!ev) throw std::runtime_error(std::string("event_new failed for ") + what_for);
  return ev;
}

void add_event(event* ev, const timeval* timeout, const char* what_for) {
  if (event_add(ev, timeout) != 0) throw std::runtime_error(std::string("event_add failed for ") + what_for);
}

EventLoop::EventLoop() : base_(make_event_base()) {
  if (!base_) throw std::runtime_error("cannot create an event base");
}

EventLoop::Callback& EventLoop::add(std::unique_ptr<Callback> cb, int fd, short what, const timeval* when,
                                    const char* what_for) {
  Callback* c = cb.get();
  c->ev = new_event(base_.get(), fd, what, &EventLoop::fire, c, what_for);
  add_event(c->ev.get(), when, what_for);
  callbacks_.push_back(std::move(cb));
  return *c;
}

void EventLoop::fire(evutil_socket_t fd, short, void* arg) {
  auto* c = static_cast<Callback*>(arg);
  if (c->signal_fn) return c->signal_fn(static_cast<int>(fd));
  c->fn();
}

void EventLoop::every(timeval period, std::function<void()> fn) {
  auto cb = std::make_unique<Callback>();
  cb->fn = std::move(fn);
  add(std::move(cb), -1, EV_PERSIST, &period, "a timer");
}

void EventLoop::after(timeval delay, std::function<void()> fn) {
  auto cb = std::make_unique<Callback>();
  cb->fn = std::move(fn);
  add(std::move(cb), -1, 0, &delay, "a timeout");
}

void EventLoop::on_signal(std::function<void(int)> fn) {
  for (int sig : {SIGINT, SIGTERM}) {
    auto cb = std::make_unique<Callback>();
    cb->signal_fn = fn;
    add(std::move(cb), sig, EV_SIGNAL | EV_PERSIST, nullptr, "a signal");
  }
}

size_t EventLoop::on_readable(int fd, std::function<void()> fn) {
  auto cb = std::make_unique<Callback>();
  cb->fn = std::move(fn);
  add(std::move(cb), fd, EV_READ | EV_PERSIST, nullptr, "a descriptor");
  return callbacks_.size() - 1;
}

void EventLoop::stop_watching(size_t handle) {
  if (handle < callbacks_.size() && callbacks_[handle]->ev) event_del(callbacks_[handle]->ev.get());
}

void EventLoop::run() {
  if (event_base_dispatch(base_.get()) < 0) throw std::runtime_error("the event loop failed");
}

void EventLoop::break_loop() { event_base_loopbreak(base_.get()); }

}  // namespace c1m::net
