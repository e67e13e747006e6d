#include "net/http/http_service.hpp"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>

#include <nlohmann/json.hpp>

#include "core/collector/http_request.hpp"
#include "net/server/server_worker.hpp"

namespace c1m::net {

struct HttpService::Connection {
  HttpService* service = nullptr;
  bufferevent* bev = nullptr;
  event* deadline = nullptr;
  event* next_turn = nullptr;  // serves its next pipelined request after the loop's other work
  bool in_request = false;     // some of a request has come, not all of it
  bool closing = false;        // the last reply is on its way out; close once it is
  bool paused = false;         // its answers lie unread: no more of its requests are read until they go
  uint64_t idle_since = 0;     // the service's activity_ when its last request was answered
  std::optional<RequestHead> head;
};

namespace {

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 202:
      return "Accepted";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    case 507:
      return "Insufficient Storage";
    default:
      return status < 400 ? "OK" : "Error";
  }
}

HttpReply error_reply(int status, const std::string& why) {
  return {status, "application/json", nlohmann::json{{"error", why}}.dump()};
}

std::string response_text(const HttpReply& r, bool keep_alive) {
  return "HTTP/1.1 " + std::to_string(r.status) + " " + reason_phrase(r.status) +
         "\r\nContent-Type: " + r.content_type + "\r\nContent-Length: " + std::to_string(r.body.size()) +
         "\r\nConnection: " + (keep_alive ? "keep-alive" : "close") + "\r\n\r\n" + r.body;
}

}  // namespace

HttpService::HttpService(event_base* base, HttpLimits limits) : base_(base), limits_(limits) {}

HttpService::~HttpService() {
  while (!connections_.empty()) close(connections_.begin()->first);
  if (listener_) evconnlistener_free(listener_);
}

void HttpService::route(const std::string& method, const std::string& path, Handler handler, Access access) {
  routes_[method + " " + path] = Route{std::move(handler), access};
}

int HttpService::open_socket(const Endpoint& at) { return open_listener(at, 128, false); }

bool HttpService::serve(int fd) {
  // Backlog 0: the socket listens already (open_socket).
  listener_ =
      evconnlistener_new(base_, &HttpService::on_accept, this, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
  if (!listener_) {
    ::close(fd);
    return false;
  }
  evconnlistener_set_error_cb(listener_, &HttpService::on_accept_error);
  return true;
}

void HttpService::say(const char* kind, const std::string& line) {
  auto& [last, count] = said_[kind];
  ++count;
  timeval now{};
  event_base_gettimeofday_cached(base_, &now);
  if (last != 0 && now.tv_sec - last < 10) return;
  last = now.tv_sec;
  std::fprintf(stderr, "c1m: %s (%llu so far)\n", line.c_str(), static_cast<unsigned long long>(count));
}

void HttpService::on_accept(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* arg) {
  auto* self = static_cast<HttpService*>(arg);
  // Idle keep-alive connections cost a peer nothing to hold: at the cap, the oldest of them goes, so
  // a crowd of idle peers cannot keep out the participants that have something to say.
  if (self->connections_.size() >= self->limits_.max_connections && !self->evict_idle()) {
    // Past the cap: one short answer (best effort: the socket's buffer is empty) and the door shut.
    std::string busy =
        response_text(error_reply(503, "this service holds " + std::to_string(self->limits_.max_connections) +
                                           " connections already: try again shortly"),
                      false);
    (void)!::send(fd, busy.data(), busy.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    ::close(fd);
    self->say("cap", "HTTP connection refused: " + std::to_string(self->limits_.max_connections) +
                         " open already (the service's cap)");
    return;
  }
  bufferevent* bev = bufferevent_socket_new(self->base_, fd, BEV_OPT_CLOSE_ON_FREE);
  if (!bev) {
    ::close(fd);
    return;
  }
  auto c = std::make_unique<Connection>();
  c->service = self;
  c->bev = bev;
  c->deadline = event_new(self->base_, -1, 0, &HttpService::on_deadline, c.get());
  c->next_turn = event_new(self->base_, -1, 0, &HttpService::on_next_turn, c.get());
  if (!c->deadline || !c->next_turn) {
    if (c->deadline) event_free(c->deadline);
    if (c->next_turn) event_free(c->next_turn);
    bufferevent_free(bev);
    return;
  }
  c->idle_since = ++self->activity_;
  bufferevent_setcb(bev, &HttpService::on_read, &HttpService::on_written, &HttpService::on_event, c.get());
  // Input is bounded by the largest request: past it libevent stops reading until requests are served.
  bufferevent_setwatermark(bev, EV_READ, 0, self->limits_.max_head_bytes + self->limits_.max_body_bytes + 4096);
  timeval write_timeout{self->limits_.request_timeout_s, 0};  // a peer that never reads its answer
  bufferevent_set_timeouts(bev, nullptr, &write_timeout);
  bufferevent_enable(bev, EV_READ);
  Connection* raw = c.get();
  self->connections_[raw] = std::move(c);
  self->arm(raw, self->limits_.request_timeout_s);  // a connection is opened to ask something soon
}

// accept() failed for a reason that does not pass by itself (out of file descriptors): the socket
// stays readable, and the listener would call accept again at once, forever. Pause accepting for a
// moment instead, say so at most every 10 s, and accept again when files free up.
void HttpService::on_accept_error(evconnlistener* listener, void* arg) {
  auto* self = static_cast<HttpService*>(arg);
  int err = errno;
  evconnlistener_disable(listener);
  timeval pause{0, 200000};
  event_base_once(
      self->base_, -1, EV_TIMEOUT,
      [](evutil_socket_t, short, void* l) { evconnlistener_enable(static_cast<evconnlistener*>(l)); }, listener,
      &pause);
  self->say("accept", std::string("HTTP accept failed (") + std::strerror(err) +
                          "); pausing accepts 200 ms at a time until it passes");
}

bool HttpService::evict_idle() {
  Connection* oldest = nullptr;
  for (const auto& [c, _] : connections_) {
    bool idle = !c->in_request && !c->closing && !c->head && evbuffer_get_length(bufferevent_get_output(c->bev)) == 0;
    if (idle && (!oldest || c->idle_since < oldest->idle_since)) oldest = c;
  }
  if (!oldest) return false;
  say("evict", "HTTP connection cap (" + std::to_string(limits_.max_connections) +
                   ") reached: closed the connection idle the longest");
  close(oldest);
  return true;
}

void HttpService::arm(Connection* c, int seconds) {
  timeval t{seconds, 0};
  event_add(c->deadline, &t);
}

void HttpService::on_read(bufferevent*, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  c->service->serve_requests(c);
}

void HttpService::on_next_turn(evutil_socket_t, short, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  c->service->serve_requests(c);
}

void HttpService::serve_requests(Connection* c) {
  evbuffer* in = bufferevent_get_input(c->bev);
  while (!c->closing) {
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) > limits_.max_unread_reply_bytes) {
      // Pipelined requests from a peer that does not read: wait for it (on_written) before serving more.
      c->paused = true;
      bufferevent_disable(c->bev, EV_READ);
      return;
    }
    if (!c->head) {
      size_t have = evbuffer_get_length(in);
      if (have == 0) return;
      if (!c->in_request) {  // the first byte of a request starts its clock
        c->in_request = true;
        arm(c, limits_.request_timeout_s);
      }
      evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, nullptr);
      size_t head_bytes = end.pos < 0 ? 0 : static_cast<size_t>(end.pos) + 4;
      if ((end.pos < 0 && have > limits_.max_head_bytes) || head_bytes > limits_.max_head_bytes) {
        send(c, error_reply(431, "a request head is at most " + std::to_string(limits_.max_head_bytes) + " bytes"),
             false);
        break;
      }
      if (end.pos < 0) return;  // the rest of the head is still on its way
      std::string text(head_bytes, '\0');
      evbuffer_remove(in, text.data(), head_bytes);
      RequestHead head = parse_request_head(text, limits_.max_body_bytes);
      if (head.status != 0) {
        send(c, error_reply(head.status, head.why), false);
        break;
      }
      if (!allowed(head)) {
        send(c, error_reply(403, "token: missing or wrong (this route needs Authorization: Bearer TOKEN)"), false);
        break;
      }
      c->head = std::move(head);
    }
    if (evbuffer_get_length(in) < c->head->content_length) return;  // the body is still coming
    std::string body(c->head->content_length, '\0');
    if (!body.empty()) evbuffer_remove(in, body.data(), body.size());
    RequestHead head = std::move(*c->head);
    c->head.reset();
    c->in_request = false;
    c->idle_since = ++activity_;
    arm(c, limits_.idle_timeout_s);
    send(c, dispatch(head.method, head.path, std::move(body)), head.keep_alive);
    if (!c->closing && evbuffer_get_length(in) > 0) {
      // One request a turn: a peer that pipelines thousands must not keep the loop from everyone
      // else. A zero timeout runs after the loop has polled the other sockets again.
      const timeval now{0, 0};
      event_add(c->next_turn, &now);
      return;
    }
  }
  evbuffer_drain(in, evbuffer_get_length(in));  // closing: what else came is not read
}

bool HttpService::allowed(const RequestHead& head) const {
  const Route* route = find_route(head.method, head.path);
  if (!route || route->access == Access::open) return true;
  auto token = [this](Access a) {
    auto it = tokens_.find(a);
    return it == tokens_.end() ? std::string() : it->second;
  };
  std::string needed = token(route->access);
  if (needed.empty() && route->access == Access::admin) needed = token(Access::participant);
  return needed.empty() || head.bearer == needed;
}

const HttpService::Route* HttpService::find_route(const std::string& method, const std::string& path) const {
  std::string key = method + " " + path;
  auto it = routes_.find(key);
  for (auto r = routes_.begin(); it == routes_.end() && r != routes_.end(); ++r)
    if (r->first.ends_with('*') && key.starts_with(std::string_view(r->first).substr(0, r->first.size() - 1))) it = r;
  return it == routes_.end() ? nullptr : &it->second;
}

HttpReply HttpService::dispatch(const std::string& method, const std::string& path, std::string body) {
  const std::string key = method + " " + path;
  const Route* route = find_route(method, path);
  if (!route) {
    std::string known;
    for (const auto& [k, _] : routes_) known += (known.empty() ? "" : ", ") + k;
    return error_reply(404, "routes: " + known);
  }
  try {
    return route->handler(HttpRequest{path, std::move(body)});
  } catch (const std::exception& e) {  // a handler's bug costs its request, never the service
    say("handler", "HTTP handler for " + key + " failed: " + e.what());
    return error_reply(500, std::string("the handler failed: ") + e.what());
  }
}

void HttpService::send(Connection* c, const HttpReply& reply, bool keep_alive) {
  std::string text = response_text(reply, keep_alive);
  bufferevent_write(c->bev, text.data(), text.size());
  if (!keep_alive) {
    c->closing = true;
    bufferevent_disable(c->bev, EV_READ);
  }
}

void HttpService::on_written(bufferevent*, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  if (c->closing) {
    c->service->close(c);
  } else if (c->paused) {  // its answers are read: its waiting requests are served
    c->paused = false;
    bufferevent_enable(c->bev, EV_READ);
    c->service->serve_requests(c);
  }
}

void HttpService::on_event(bufferevent* bev, short what, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  // The peer closed its side after asking: its answer still goes out, then the connection closes.
  if ((what & BEV_EVENT_EOF) && evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
    c->closing = true;
    bufferevent_disable(bev, EV_READ);
    return;
  }
  c->service->close(c);
}

void HttpService::on_deadline(evutil_socket_t, short, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  HttpService* self = c->service;
  if (c->in_request && !c->closing) {
    self->say("timeout", "HTTP request not whole within " + std::to_string(self->limits_.request_timeout_s) +
                             " s: answered 408 and closed");
    self->send(c,
               error_reply(408, "the request did not arrive whole within " +
                                    std::to_string(self->limits_.request_timeout_s) + " s"),
               false);
    return;
  }
  self->close(c);  // idle past the idle timeout, or an answer nobody reads
}

void HttpService::close(Connection* c) {
  event_free(c->deadline);
  event_free(c->next_turn);
  bufferevent_free(c->bev);
  connections_.erase(c);
}

}  // namespace c1m::net
