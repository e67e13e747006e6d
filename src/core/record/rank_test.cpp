#include "core/record/rank_test.hpp"

#include <algorithm>
#include <cmath>

namespace c1m {
namespace {
double min_of(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }
double max_of(const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); }
}  // namespace

std::optional<double> median(std::vector<double> v) {
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// One-sided exact Mann-Whitney: the chance, when nothing changed, that `against` or fewer of the
// n x m (base, new) pairs lie against the direction seen (ties counted half, rounded up: cautious).
// The counts of orderings by U, by the recurrence f(n, m, u) = f(n-1, m, u-m) + f(n, m-1, u).
double exact_rank_p(size_t n, size_t m, double against) {
  const size_t most = n * m, limit = std::min(most, static_cast<size_t>(std::ceil(against)));
  // f[i][j][u] for i <= n, j <= m, kept as rows over j for each i.
  std::vector<std::vector<std::vector<double>>> f(n + 1, std::vector<std::vector<double>>(m + 1));
  for (size_t i = 0; i <= n; ++i)
    for (size_t j = 0; j <= m; ++j) {
      f[i][j].assign(i * j + 1, 0.0);
      if (i == 0 || j == 0) {
        f[i][j][0] = 1;
        continue;
      }
      for (size_t u = 0; u <= i * j; ++u)
        f[i][j][u] = (u >= j && u - j < f[i - 1][j].size() ? f[i - 1][j][u - j] : 0.0) +
                     (u < f[i][j - 1].size() ? f[i][j - 1][u] : 0.0);
    }
  double total = 0, below = 0;
  for (size_t u = 0; u <= most; ++u) {
    total += f[n][m][u];
    if (u <= limit) below += f[n][m][u];
  }
  return below / total;
}
// How far apart same-code repetitions land: (max - min) / |median|; what a gate's threshold must clear.
std::optional<double> spread(const std::vector<double>& v) {
  if (v.size() < 2) return std::nullopt;
  std::optional<double> m = median(v);
  if (!m || *m == 0) return std::nullopt;
  return (max_of(v) - min_of(v)) / std::fabs(*m);
}

double mann_whitney_p(const std::vector<double>& a, const std::vector<double>& b) {
  size_t n1 = a.size(), n2 = b.size(), n = n1 + n2;
  if (n1 == 0 || n2 == 0) return 1.0;
  std::vector<std::pair<double, int>> all;
  for (double x : a) all.push_back({x, 0});
  for (double x : b) all.push_back({x, 1});
  std::sort(all.begin(), all.end());
  double rank_sum_a = 0, tie_term = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && all[j].first == all[i].first) ++j;
    double rank = (static_cast<double>(i) + static_cast<double>(j) + 1) / 2;  // average of ranks i+1..j
    for (size_t k = i; k < j; ++k)
      if (all[k].second == 0) rank_sum_a += rank;
    double t = static_cast<double>(j - i);
    tie_term += t * t * t - t;
    i = j;
  }
  double u = rank_sum_a - static_cast<double>(n1 * (n1 + 1)) / 2;
  double mu = static_cast<double>(n1 * n2) / 2;
  double nn = static_cast<double>(n);
  double sigma = std::sqrt(static_cast<double>(n1 * n2) / 12.0 * ((nn + 1) - tie_term / (nn * (nn - 1))));
  if (sigma == 0) return 1.0;  // every value equal
  double z = (std::fabs(u - mu) - 0.5) / sigma;
  return std::min(1.0, std::erfc(std::max(z, 0.0) / std::sqrt(2.0)));
}

}  // namespace c1m
