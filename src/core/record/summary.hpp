// A record in a few lines, for a person: what `c1m client` prints on stderr as it ends and `c1m
// collect` on stdout once it has written a run. Read from the typed record, never by key; a figure
// that was not measured says n/a.
#pragma once
#include <optional>
#include <string>

#include "core/record/run_record.hpp"

namespace c1m {

// One client's run: status, established, ramp, connect and ping latency, CPU, memory, the record's path.
std::string client_summary(const RunRecord& r, const std::string& record_path);
// A run of many clients, as the collector merged it.
std::string collect_summary(const RunRecord& r, const std::string& record_path);

// "33.03 s", or "not reached" for a run that never held its whole target.
std::string format_time_to_target(const std::optional<double>& seconds);
// A figure printf-formatted (times scale), or "n/a" where it was not measured.
std::string format_figure(const std::optional<double>& value, const char* printf_format, double scale = 1);

}  // namespace c1m
