#include "core/record/plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/record/histogram.hpp"
#include "core/record/run_record.hpp"
#include "core/units.hpp"

namespace c1m {
namespace {

constexpr const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                   "#9467bd", "#8c564b", "#e377c2", "#17becf"};
constexpr double kWidth = 900, kPanelHeight = 320, kLeft = 80, kRight = 20, kTop = 40, kGap = 90;

std::string esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}

std::string label_of(double v) {
  char b[32];
  if (std::fabs(v) >= 1e6)
    std::snprintf(b, sizeof b, "%gM", v / 1e6);
  else if (std::fabs(v) >= 1e3)
    std::snprintf(b, sizeof b, "%gk", v / 1e3);
  else
    std::snprintf(b, sizeof b, "%g", v);
  return b;
}

struct Panel {
  double x0, y0, w, h;  // plot area in SVG units
  double xmin, xmax, ymin, ymax;
  bool xlog = false;
  double px(double x) const {
    if (xlog) return x0 + (std::log10(x) - std::log10(xmin)) / (std::log10(xmax) - std::log10(xmin)) * w;
    return x0 + (x - xmin) / (xmax - xmin) * w;
  }
  double py(double y) const { return y0 + h - (y - ymin) / (ymax - ymin) * h; }
};

std::string axes(const Panel& p, const std::string& title, const std::string& xlabel, const std::string& ylabel,
                 const std::vector<double>& xticks, const std::vector<double>& yticks, bool ypercent) {
  std::string s = "<g class=\"axes\">\n";
  s += "<text x=\"" + num(p.x0) + "\" y=\"" + num(p.y0 - 12) + "\" font-size=\"15\" font-weight=\"bold\">" +
       esc(title) + "</text>\n";
  s += "<rect x=\"" + num(p.x0) + "\" y=\"" + num(p.y0) + "\" width=\"" + num(p.w) + "\" height=\"" + num(p.h) +
       "\" fill=\"none\" stroke=\"#444\"/>\n";
  for (double t : xticks) {
    double x = p.px(t);
    s += "<line x1=\"" + num(x) + "\" y1=\"" + num(p.y0) + "\" x2=\"" + num(x) + "\" y2=\"" + num(p.y0 + p.h) +
         "\" stroke=\"#ddd\"/>\n";
    s += "<text x=\"" + num(x) + "\" y=\"" + num(p.y0 + p.h + 16) + "\" font-size=\"11\" text-anchor=\"middle\">" +
         label_of(t) + "</text>\n";
  }
  for (double t : yticks) {
    double y = p.py(t);
    s += "<line x1=\"" + num(p.x0) + "\" y1=\"" + num(y) + "\" x2=\"" + num(p.x0 + p.w) + "\" y2=\"" + num(y) +
         "\" stroke=\"#ddd\"/>\n";
    s += "<text x=\"" + num(p.x0 - 6) + "\" y=\"" + num(y + 4) + "\" font-size=\"11\" text-anchor=\"end\">" +
         (ypercent ? label_of(t * 100) + "%" : label_of(t)) + "</text>\n";
  }
  s += "<text x=\"" + num(p.x0 + p.w / 2) + "\" y=\"" + num(p.y0 + p.h + 36) +
       "\" font-size=\"12\" text-anchor=\"middle\">" + esc(xlabel) + "</text>\n";
  s += "<text transform=\"translate(" + num(p.x0 - 58) + "," + num(p.y0 + p.h / 2) +
       ") rotate(-90)\" font-size=\"12\" text-anchor=\"middle\">" + esc(ylabel) + "</text>\n</g>\n";
  return s;
}

std::string polyline(const std::vector<std::pair<double, double>>& pts, const char* color, const std::string& series) {
  std::string s = "<polyline class=\"series\" data-series=\"" + esc(series) + "\" fill=\"none\" stroke=\"" + color +
                  "\" stroke-width=\"2\" points=\"";
  for (auto [x, y] : pts) s += num(x) + "," + num(y) + " ";
  return s + "\"/>\n";
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int want) {
  std::vector<double> out;
  if (!(hi > lo) || want < 1) return {lo};
  double raw = (hi - lo) / want, mag = std::pow(10, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
    out.push_back(std::fabs(t) < step * 1e-9 ? 0 : t);
  return out;
}

namespace {

// Each record's histogram (connect_us or rtt_us) as a cumulative curve: (ms, share done within it).
std::vector<std::vector<std::pair<double, double>>> cdfs_of(const std::vector<PlotSeries>& all,
                                                            Histogram RunResults::*which) {
  std::vector<std::vector<std::pair<double, double>>> cdfs;
  for (const auto& p : all) {
    std::vector<std::pair<double, double>> cdf;
    const Histogram& h = p.record.results.*which;
    const auto total = static_cast<double>(h.count());
    double seen = 0;
    for (int b = 0; b < Histogram::kBuckets && total > 0; ++b) {
      if (h.buckets()[static_cast<size_t>(b)] == 0) continue;
      seen += static_cast<double>(h.buckets()[static_cast<size_t>(b)]);
      cdf.push_back({static_cast<double>(Histogram::bucket_high(b)) / 1000.0, seen / total});
    }
    cdfs.push_back(cdf);
  }
  return cdfs;
}

// A panel of cumulative latency curves on a log time axis, one per record, at height y0.
std::string cdf_panel(const std::vector<std::vector<std::pair<double, double>>>& cdfs, double y0,
                      const std::string& title, const std::string& xlabel, const std::string& ylabel,
                      const std::string& series_prefix, const std::vector<PlotSeries>& all) {
  double lmin = 1e9, lmax = 0;
  for (const auto& cdf : cdfs)
    for (auto [ms, _] : cdf) lmin = std::min(lmin, ms), lmax = std::max(lmax, ms);
  if (lmax <= 0) lmin = 0.01, lmax = 1;
  double lo = std::pow(10, std::floor(std::log10(std::max(lmin, 0.001)))),
         hi = std::pow(10, std::ceil(std::log10(lmax)));
  if (hi <= lo) hi = lo * 10;
  Panel lat{kLeft, y0, kWidth - kLeft - kRight, kPanelHeight - 60, lo, hi, 0, 1, true};
  std::vector<double> decades;
  for (double d = lo; d <= hi * 1.0001; d *= 10) decades.push_back(d);
  std::string s = axes(lat, title, xlabel, ylabel, decades, {0, 0.25, 0.5, 0.75, 1.0}, true);
  for (size_t i = 0; i < cdfs.size(); ++i) {
    std::vector<std::pair<double, double>> pts;
    for (auto [ms, f] : cdfs[i]) pts.push_back({lat.px(std::clamp(ms, lo, hi)), lat.py(f)});
    if (!pts.empty()) s += polyline(pts, kColors[i % 8], series_prefix + all[i].label);
  }
  return s;
}

// Each second's ping round-trip p99 over the run, one line per record that pinged: where a live
// hold's tail came from, in time (a whole-hold histogram cannot say).
std::string rtt_by_second_panel(const std::vector<PlotSeries>& all, double y0) {
  std::vector<std::vector<std::pair<double, double>>> lines;
  double tmax = 1, ymax = 1;
  for (const auto& p : all) {
    std::vector<std::pair<double, double>> line;
    for (const SeriesPoint& pt : p.record.series)
      if (pt.ping_rtt_us.count() > 0) {
        line.push_back({pt.t_s, static_cast<double>(pt.ping_rtt_us.quantile(0.99)) / 1000.0});
        tmax = std::max(tmax, line.back().first);
        ymax = std::max(ymax, line.back().second);
      }
    lines.push_back(line);
  }
  Panel panel{kLeft, y0, kWidth - kLeft - kRight, kPanelHeight - 60, 0, tmax, 0, ymax * 1.05};
  std::string s = axes(panel, "Ping round trip by second: the p99 of the pings answered in each second",
                       "time since the ramp started (s)", "round-trip p99 (ms)", nice_ticks(0, tmax, 8),
                       nice_ticks(0, ymax * 1.05, 5), false);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::vector<std::pair<double, double>> pts;
    for (auto [t, ms] : lines[i]) pts.push_back({panel.px(t), panel.py(ms)});
    if (!pts.empty()) s += polyline(pts, kColors[i % 8], "rtt-by-second:" + all[i].label);
  }
  return s;
}

}  // namespace

std::string render_svg(const std::vector<PlotSeries>& all) {
  // Two more panels, ping round trips and their p99 by second, when any record pinged its connections.
  auto rtts = cdfs_of(all, &RunResults::rtt_us);
  const bool pinged = std::any_of(rtts.begin(), rtts.end(), [](const auto& c) { return !c.empty(); });
  const double panels = pinged ? 4 : 2;
  double height = kTop + panels * kPanelHeight + (panels - 1) * kGap - 60 * (panels - 1) +
                  20.0 * static_cast<double>(all.size()) + 10;
  std::string s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                  num(kWidth) + "\" height=\"" + num(height) + "\" viewBox=\"0 0 " + num(kWidth) + " " + num(height) +
                  "\" font-family=\"sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";

  // Panel 1: the ramp.
  double tmax = 1, emax = 1;
  for (const auto& p : all)
    for (const SeriesPoint& pt : p.record.series) {
      tmax = std::max(tmax, pt.t_s);
      emax = std::max(emax, static_cast<double>(pt.established));
    }
  Panel ramp{kLeft, kTop, kWidth - kLeft - kRight, kPanelHeight - 60, 0, tmax, 0, emax * 1.05};
  s += axes(ramp, "Ramp: established connections over time", "time since the ramp started (s)",
            "established connections", nice_ticks(0, tmax, 8), nice_ticks(0, emax * 1.05, 5), false);
  for (size_t i = 0; i < all.size(); ++i) {
    std::vector<std::pair<double, double>> pts{{ramp.px(0), ramp.py(0)}};
    for (const SeriesPoint& pt : all[i].record.series)
      pts.push_back({ramp.px(pt.t_s), ramp.py(static_cast<double>(pt.established))});
    s += polyline(pts, kColors[i % 8], "ramp:" + all[i].label);
  }

  // Panel 2: connect latency; panel 3: ping round trips under the held load. Cumulative, from each
  // record's histogram.
  const double step = kPanelHeight + kGap - 60;
  s += cdf_panel(cdfs_of(all, &RunResults::connect_us), kTop + step,
                 "Connect latency: share of connects done within a time", "connect latency (ms, log scale)",
                 "share of connects", "latency:", all);
  if (pinged) {
    s += cdf_panel(rtts, kTop + 2 * step, "Ping round trip: share of pings answered within a time, connections held",
                   "ping round-trip time (ms, log scale)", "share of pings", "rtt:", all);
    s += rtt_by_second_panel(all, kTop + 3 * step);
  }

  // Legend.
  double ly = kTop + (panels - 1) * step + kPanelHeight - 60 + 60;
  for (size_t i = 0; i < all.size(); ++i) {
    const auto& r = all[i].record;
    std::string text = all[i].label + " (" + (r.approach.empty() ? "?" : r.approach) + ", " + r.status + ", " +
                       format_count(static_cast<double>(r.results.established_peak_client)) + " established)";
    s += "<g class=\"legend\"><rect x=\"" + num(kLeft) + "\" y=\"" + num(ly + 20.0 * i - 9) +
         "\" width=\"14\" height=\"4\" fill=\"" + kColors[i % 8] + "\"/><text x=\"" + num(kLeft + 22) + "\" y=\"" +
         num(ly + 20.0 * i) + "\" font-size=\"12\">" + esc(text) + "</text></g>\n";
  }
  return s + "</svg>\n";
}

}  // namespace c1m
