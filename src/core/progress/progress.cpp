#include "core/progress/progress.hpp"

#include <cstdio>

#include "core/record/run_record.hpp"
#include "core/units.hpp"

namespace c1m {
namespace {

uint64_t u64(const nlohmann::ordered_json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() && it->get<int64_t>() >= 0 ? it->get<uint64_t>() : 0;
}

std::string count(uint64_t n) { return format_count(static_cast<double>(n)); }

}  // namespace

LabProgress summarize_lab(const std::vector<nlohmann::ordered_json>& statuses,
                          std::optional<uint64_t> server_connections, uint64_t clients_expected, uint64_t target) {
  LabProgress p;
  p.target = target;
  p.clients_expected = clients_expected;
  uint64_t ramping = 0, waiting = 0, holding = 0;
  for (const auto& s : statuses) {
    if (!s.is_object()) continue;
    ++p.clients_heard;
    p.established_clients += u64(s, "established");
    p.errors += u64(s, "errors");
    if (auto r = s.find("connect_rate_per_s"); r != s.end() && r->is_number()) p.connect_rate_per_s += r->get<double>();
    auto status = s.find("status");
    if (status != s.end() && status->is_string()) {
      ++p.clients_done;
      if (*status != "complete") {
        ++p.clients_failed;
        if (p.first_failure.empty()) p.first_failure = text_of(s, "reason", status->get<std::string>());
      }
      continue;
    }
    std::string phase = text_of(s, "phase", "");
    ramping += phase == "ramp";
    waiting += phase == "wait";
    holding += phase == "hold" || phase == "live";
  }
  p.established_server = server_connections;
  uint64_t silent = clients_expected > p.clients_heard ? clients_expected - p.clients_heard : 0;
  if (p.clients_done == clients_expected && clients_expected > 0) {
    p.phase = "done";
  } else if (ramping > 0 || (p.clients_heard == 0)) {
    p.phase = p.clients_heard == 0 ? "start" : "ramp";
    p.waiting_for = p.clients_heard == 0 ? "the clients to start" : count(ramping) + " client(s) ramping";
  } else if (waiting > 0) {
    p.phase = "wait";
    p.waiting_for = "the server to hold all " + count(target) + " (" + count(waiting) + " client(s) waiting)";
  } else {
    p.phase = holding > 0 ? "hold" : "stop";
    p.waiting_for = holding > 0 ? count(holding) + " client(s) holding" : "the clients to write their records";
  }
  if (silent > 0 && p.clients_heard > 0) p.waiting_for += "; " + count(silent) + " client(s) not heard from";
  return p;
}

std::string progress_line(const LabProgress& p, double elapsed_s) {
  char line[512];
  const bool at_peak = p.phase == "done" && p.server_peak_seen;
  const std::optional<uint64_t>& server = at_peak ? p.server_peak_seen : p.established_server;
  std::snprintf(line, sizeof line,
                "%-5s client %s  server %s%s of %s  %s/s  errors %llu  clients done %llu/%llu%s  %.0fs%s%s",
                p.phase.c_str(), count(p.established_clients).c_str(), at_peak ? "peak " : "",
                server ? count(*server).c_str() : "n/a", count(p.target).c_str(),
                format_count(p.connect_rate_per_s).c_str(), static_cast<unsigned long long>(p.errors),
                static_cast<unsigned long long>(p.clients_done), static_cast<unsigned long long>(p.clients_expected),
                p.clients_failed ? (" (" + std::to_string(p.clients_failed) + " failed)").c_str() : "", elapsed_s,
                p.waiting_for.empty() ? "" : "  waiting for ", p.waiting_for.c_str());
  return line;
}

std::string client_progress_line(const ClientNow& now, const SeriesPoint& p) {
  char rtt[96] = "";
  if (p.ping_rtt_us.count() > 0)  // the last second's answers: a stall shows here as it happens
    std::snprintf(rtt, sizeof rtt, "  rtt p99 %.1f ms max %.1f ms (%s answers)",
                  static_cast<double>(p.ping_rtt_us.quantile(0.99)) / 1000.0,
                  static_cast<double>(p.ping_rtt_us.max()) / 1000.0, count(p.ping_rtt_us.count()).c_str());
  std::string server = p.server_connections ? "  server " + count(*p.server_connections) : "";
  char line[320];
  std::snprintf(line, sizeof line, "%-5s %s/%s established  %s/s  in-flight %llu  errors %llu  %s%s%s", now.phase,
                count(p.established).c_str(), count(now.target).c_str(), format_count(p.connect_rate_per_s).c_str(),
                static_cast<unsigned long long>(now.in_flight), static_cast<unsigned long long>(now.errors),
                format_duration_ns(static_cast<int64_t>(p.t_s * 1e9)).c_str(), server.c_str(), rtt);
  return line;
}

nlohmann::ordered_json client_status_json(const ClientNow& now, const SeriesPoint& p) {
  using ojson = nlohmann::ordered_json;
  return {{"phase", now.phase},
          {"established", p.established},
          {"target", now.target},
          {"connect_rate_per_s", p.connect_rate_per_s},
          {"in_flight", now.in_flight},
          {"errors", p.errors.value_or(0)},
          {"t_s", p.t_s},
          {"server_connections", p.server_connections ? ojson(*p.server_connections) : ojson(nullptr)},
          {"status", now.status ? ojson(*now.status) : ojson(nullptr)},
          {"reason", now.status && !now.reason.empty() ? ojson(now.reason) : ojson(nullptr)}};
}

}  // namespace c1m
