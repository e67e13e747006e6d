// How a participant (a client or the server) speaks to the collector: the lab's token in every
// request's head (checked before the body is read), its own participant key in every body (bound by
// its first message, so nobody else can replace what it sent), and a message tried again, with
// backoff, while the collector says "later" (no answer, 503 busy, 507 cannot keep it).
#pragma once
#include <signal.h>

#include <nlohmann/json.hpp>
#include <string>

#include "core/plan/endpoints.hpp"

namespace c1m::net {

class CollectorLink {
 public:
  using ojson = nlohmann::ordered_json;
  CollectorLink(Endpoint at, std::string token);
  const Endpoint& at() const { return at_; }

  // Posts body (its participant_key added). Tries again 1, 2, 4, ... s apart while the answer is
  // "later", until budget_s has passed or *stop is set; each attempt waits at most timeout_ms. False
  // when it was never taken, with the last answer in *why.
  bool post(const std::string& path, ojson body, int timeout_ms, int budget_s, std::string* why,
            const volatile sig_atomic_t* stop = nullptr) const;

 private:
  Endpoint at_;
  std::string token_;
  std::string key_;  // random, made once per process
};

}  // namespace c1m::net
