// --find-limit's answer: how many the target held and what bound it, from what the run counted. Pure,
// so every cause reads as a sentence a test can check (tests/unit/limit_found_test.cpp); the runner
// (net/client/client_runner) writes it as the record's reason and topology.target.limit.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/plan/counters.hpp"

namespace c1m {

struct LimitFound {
  uint64_t held = 0;     // open when the run ended: the capacity found
  uint64_t asked = 0;    // --connections: the ceiling the ramp would have stopped at
  std::string bound_by;  // an error class's name, "stall", "slo" (--slo-p99), or "none" (the ceiling was reached)
  uint64_t count = 0;    // how many of that class
  std::string line;      // "redis 7.0.15 held 100 of the 300 asked: the server said no in its protocol ..."
};

// `ramp_limit`: RunPhases::limit() ("errors", a stall's "no connection added for ...", or "").
// `who`: what the server said it is, or the name the user gave it, or its address. `stall_evidence`:
// the silent limit the runner read for a stall (conntrack full, ...), or "".
LimitFound describe_limit(const std::string& ramp_limit, const ErrorCounts& errors, uint64_t held, uint64_t asked,
                          const std::string& who, const std::string& stall_evidence);

nlohmann::ordered_json limit_json(const LimitFound& limit);

// What a record's topology.target is called in a sentence: what the server said it is, else the name
// the user gave it, its image, or its address.
std::string target_called(const nlohmann::ordered_json& target);

}  // namespace c1m
