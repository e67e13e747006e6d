// `c1m plot RECORD... -o FILE.svg`: the ramp and the connect-latency distribution of each record.
#include <cstdio>
#include <memory>

#include "app/cli.hpp"
#include "core/host/atomic_file.hpp"
#include "core/record/plot.hpp"
#include "core/record/record_file.hpp"
#include "core/record/run_record.hpp"

namespace c1m::app {
namespace {

struct PlotOptions {
  std::vector<std::string> files;
  std::string out;
};

int run_plot(const PlotOptions& o) {
  if (!o.out.ends_with(".svg")) throw UsageError("-o '" + o.out + "': expected a file name ending in .svg");
  std::vector<PlotSeries> series;
  for (const auto& f : o.files) {
    std::string err;
    auto j = read_record(f, err);
    if (!err.empty()) throw UsageError(err);
    std::optional<RunRecord> r = RunRecord::from_json(j, err);  // read_record has checked it: this reads
    if (!r) throw UsageError(f + ": " + err);
    std::string label = f.substr(f.rfind('/') + 1);
    if (label.ends_with(".json")) label.resize(label.size() - 5);
    series.push_back({label, std::move(*r)});
  }
  std::string e = write_file_atomically(o.out, render_svg(series));
  if (!e.empty()) throw UsageError("-o " + o.out + ": " + e);
  std::fprintf(stderr, "c1m plot: %zu record(s) -> %s\n", series.size(), o.out.c_str());
  return 0;
}

}  // namespace

Command add_plot_command(CLI::App& root) {
  auto o = std::make_shared<PlotOptions>();
  CLI::App* c = root.add_subcommand("plot", "draw the ramp and the connect-latency distribution of records as SVG");
  c->add_option("records", o->files, "RECORD [RECORD...]")->required();
  c->add_option("-o,--output", o->out, "the SVG file to write")->required();
  return {c, [o] { return run_plot(*o); }};
}

}  // namespace c1m::app
