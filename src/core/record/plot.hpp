// Pictures of runs, for people: the ramp (established connections over time, a line per record) and
// the connect-latency distribution (cumulative, log time axis), as one SVG with axes, units and a
// legend. Pure: typed records in (RunRecord: its series and histograms, never a key), SVG text out.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "core/record/run_record.hpp"

namespace c1m {

struct PlotSeries {
  std::string label;
  RunRecord record;
};

std::string render_svg(const std::vector<PlotSeries>& series);

// Axis ticks: about `want` round numbers (1, 2, 5 x 10^k) covering [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int want);

}  // namespace c1m
