#include "net/http/collector_link.hpp"

#include <sys/random.h>
#include <time.h>

#include <algorithm>
#include <cstdio>

#include "core/host/clock.hpp"
#include "net/http/http_client.hpp"

namespace c1m::net {

CollectorLink::CollectorLink(Endpoint at, std::string token) : at_(at), token_(std::move(token)) {
  unsigned char b[16] = {};
  if (getrandom(b, sizeof b, 0) != static_cast<ssize_t>(sizeof b)) {
    uint64_t t = monotonic_ns();
    for (size_t i = 0; i < sizeof b; ++i)
      b[i] = static_cast<unsigned char>(t >> ((i % 8) * 8)) ^ static_cast<unsigned char>(i * 37);
  }
  char hex[33];
  for (size_t i = 0; i < sizeof b; ++i) std::snprintf(hex + 2 * i, 3, "%02x", b[i]);
  key_ = hex;
}

bool CollectorLink::post(const std::string& path, ojson body, int timeout_ms, int budget_s, std::string* why,
                         const volatile sig_atomic_t* stop) const {
  body["participant_key"] = key_;
  const std::string text = body.dump();
  const int64_t give_up_ns = monotonic_ns() + int64_t{budget_s} * 1'000'000'000;
  for (int pause_s = 1;; pause_s = std::min(pause_s * 2, 8)) {
    HttpResult res = http_post(at_, path, text, timeout_ms, token_);
    if (res.status == 200) return true;
    if (why) *why = res.status ? std::to_string(res.status) + " " + res.body : res.error;
    bool later = res.status == 0 || res.status == 503 || res.status == 507;
    if (!later || (stop && *stop) || monotonic_ns() + int64_t{pause_s} * 1'000'000'000 > give_up_ns) return false;
    timespec pause{pause_s, 0};
    nanosleep(&pause, nullptr);  // a signal cuts it short, and *stop then says so
    if (stop && *stop) return false;
  }
}

}  // namespace c1m::net
