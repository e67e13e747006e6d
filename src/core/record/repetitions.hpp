// `c1m client --repeat N`: the experiment N times, one record. The last repetition's record carries
// every repetition's compared figures (`repetitions[]`), which is what `c1m compare`'s U test reads,
// and a status that is the worst of them. Pure: records in, record out.
#pragma once
#include <cstddef>
#include <vector>

#include <nlohmann/json.hpp>

namespace c1m {

// `asked`: the repetitions asked for; `stopped`: a signal between repetitions ended the series.
// Fewer records than asked (or stopped) makes the whole interrupted, saying how many ran.
nlohmann::ordered_json merge_repetitions(const std::vector<nlohmann::ordered_json>& records, size_t asked,
                                         bool stopped);

}  // namespace c1m
