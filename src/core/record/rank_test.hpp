// The statistics compare decides by: medians, the spread of same-code repetitions, and the
// Mann-Whitney U test, exact for few repetitions a side and by its normal approximation for many.
#pragma once
#include <cstddef>
#include <optional>
#include <vector>

namespace c1m {

std::optional<double> median(std::vector<double> v);  // empty: none

// How far apart same-code repetitions land: (max - min) / |median|; what a gate's threshold must clear.
std::optional<double> spread(const std::vector<double>& v);

// Two-sided p-value of the Mann-Whitney U test (normal approximation with tie correction).
double mann_whitney_p(const std::vector<double>& a, const std::vector<double>& b);

// One-sided exact Mann-Whitney: the chance, when nothing changed, that `against` or fewer of the
// n x m (base, new) pairs lie against the direction seen (ties counted half, rounded up: cautious).
double exact_rank_p(size_t n, size_t m, double against);

}  // namespace c1m
