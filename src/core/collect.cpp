#include "core/collect.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <map>

#include "build_info.hpp"
#include "core/histogram.hpp"
#include "core/host.hpp"
#include "core/record.hpp"

namespace c1m {
namespace {

// "2026-11-24T09:00:00.123Z" -> unix ms; -1 if malformed.
int64_t parse_iso_ms(const std::string& s) {
  tm t{};
  int ms = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &t.tm_year, &t.tm_mon, &t.tm_mday, &t.tm_hour, &t.tm_min, &t.tm_sec, &ms) != 7)
    return -1;
  t.tm_year -= 1900;
  t.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&t)) * 1000 + ms;
}

double num(const ojson& j, const char* pointer, double fallback = 0) {
  ojson::json_pointer p(pointer);
  return j.contains(p) && j.at(p).is_number() ? j.at(p).get<double>() : fallback;
}

Histogram histogram_of(const ojson& h) {
  Histogram out;
  if (!h.is_object() || !h.contains("buckets")) return out;
  std::vector<std::pair<int, uint64_t>> buckets;
  for (const auto& b : h["buckets"])
    if (b.is_array() && b.size() == 2 && b[0].is_number_integer() && b[1].is_number_unsigned())
      buckets.emplace_back(b[0].get<int>(), b[1].get<uint64_t>());
  Histogram::from_sparse(buckets, h.value("sum", uint64_t{0}), h.value("min", uint64_t{0}), h.value("max", uint64_t{0}), out);
  return out;
}

// The ramp, summed over clients on one wall-clock axis, a point a second. Each client samples once a
// second from its own start, so its samples fall at other fractions of a second than another's:
// at each second of the axis every client counts once, with its latest sample, and only while it
// ran (before its first sample and after its last it holds nothing we know of).
ojson merged_series(const std::vector<const ojson*>& recs, int64_t start_ms) {
  struct Sample {
    int64_t at_ms;
    uint64_t established;
    double rate;
  };
  std::vector<std::vector<Sample>> clients;
  int64_t last_ms = 0;
  for (auto* r : recs) {
    int64_t offset_ms = parse_iso_ms((*r)["started_at"]) - start_ms;
    std::vector<Sample> samples;
    for (const auto& p : r->value("series", ojson::array()))
      samples.push_back({offset_ms + static_cast<int64_t>(std::llround(p["t_s"].get<double>() * 1000)),
                         p["established"].get<uint64_t>(), p["connect_rate_per_s"].get<double>()});
    if (samples.empty()) continue;
    last_ms = std::max(last_ms, samples.back().at_ms);
    clients.push_back(std::move(samples));
  }
  ojson series = ojson::array();
  for (int64_t second = 1; second * 1000 <= last_ms; ++second) {
    int64_t at_ms = second * 1000;
    uint64_t established = 0;
    double rate = 0;
    for (const auto& samples : clients) {
      if (at_ms < samples.front().at_ms || at_ms > samples.back().at_ms) continue;
      auto it = std::upper_bound(samples.begin(), samples.end(), at_ms, [](int64_t t, const Sample& s) { return t < s.at_ms; });
      established += std::prev(it)->established;
      rate += std::prev(it)->rate;
    }
    series.push_back({{"t_s", static_cast<double>(second)}, {"established", established}, {"connect_rate_per_s", rate}});
  }
  return series;
}

}  // namespace

std::string check_mergeable(const ojson& r) {
  if (!r.is_object()) return "/: expected an object";
  auto at = [&](const char* pointer) -> const ojson* {
    ojson::json_pointer p(pointer);
    return r.contains(p) ? &r.at(p) : nullptr;
  };
  // A count or size that fits the merge's integers with room: at most 1e12.
  auto count = [&](const char* pointer, bool required) -> std::string {
    const ojson* v = at(pointer);
    if (!v || v->is_null()) return required ? std::string(pointer) + ": missing" : "";
    if (!v->is_number() || !(v->get<double>() >= 0 && v->get<double>() <= 1e12)) return std::string(pointer) + ": expected a count from 0 to 1e12";
    return {};
  };
  auto seconds = [&](const ojson* v, const std::string& where) -> std::string {
    if (!v || !v->is_number() || !(v->get<double>() >= 0 && v->get<double>() <= 366.0 * 86400)) return where + ": expected seconds from 0 to a year";
    return {};
  };
  auto date = [&](const char* pointer, bool required) -> std::string {
    const ojson* v = at(pointer);
    if (!v) return required ? std::string(pointer) + ": missing" : "";
    int64_t ms = v->is_string() ? parse_iso_ms(v->get<std::string>()) : -1;
    if (ms < 946684800000LL || ms > 7258118400000LL) return std::string(pointer) + ": expected a UTC time like 2026-11-25T01:00:00.000Z";
    return {};
  };
  for (std::string e : {date("/started_at", true), date("/ended_at", false), count("/config/connections", false),
                        count("/results/established_peak_client", true), count("/results/attempted", false),
                        count("/results/connected_total", false), count("/results/errors_total", false),
                        count("/results/pongs_received", false)})
    if (!e.empty()) return e;
  if (!r["status"].is_string()) return "/status: expected a string";
  const ojson& res = r["results"];
  if (!res.is_object()) return "/results: expected an object";
  if (const ojson* t = at("/results/time_to_target_s"); t && !t->is_null())
    if (std::string e = seconds(t, "/results/time_to_target_s"); !e.empty()) return e;
  if (const ojson* d = at("/results/kernel_tcp_inuse_delta"); d && !d->is_null() && !(d->is_number_integer() && std::llabs(d->get<int64_t>()) <= 1'000'000'000'000LL))
    return "/results/kernel_tcp_inuse_delta: expected an integer within 1e12";
  for (const char* table : {"errors", "tcpext_delta"}) {
    if (!res.contains(table)) continue;
    if (!res[table].is_object()) return std::string("/results/") + table + ": expected an object";
    for (const auto& [k, v] : res[table].items())
      if (!v.is_number_integer() || std::llabs(v.get<int64_t>()) > 1'000'000'000'000LL || (std::string(table) == "errors" && v.get<int64_t>() < 0))
        return std::string("/results/") + table + "/" + k + ": expected a count within 1e12";
  }
  if (r.contains("memory")) {
    if (!r["memory"].is_object()) return "/memory: expected an object";
    for (const char* k : {"kernel_bytes_per_socket", "user_bytes_per_connection_client"})
      if (r["memory"].contains(k) && !r["memory"][k].is_null() && !r["memory"][k].is_number()) return std::string("/memory/") + k + ": expected a number";
  }
  if (r.contains("series")) {
    if (!r["series"].is_array() || r["series"].size() > 366 * 86400) return "/series: expected an array of at most a year of seconds";
    for (size_t i = 0; i < r["series"].size(); ++i) {
      const ojson& p = r["series"][i];
      std::string where = "/series/" + std::to_string(i);
      if (!p.is_object()) return where + ": expected an object";
      if (std::string e = seconds(p.contains("t_s") ? &p["t_s"] : nullptr, where + "/t_s"); !e.empty()) return e;
      if (!p.contains("established") || !p["established"].is_number_unsigned() || p["established"].get<uint64_t>() > 1'000'000'000'000ULL)
        return where + "/established: expected a count within 1e12";
      if (!p.contains("connect_rate_per_s") || !p["connect_rate_per_s"].is_number()) return where + "/connect_rate_per_s: expected a number";
    }
  }
  if (r.contains("server") && !r["server"].is_null()) {
    if (!r["server"].is_object()) return "/server: expected an object";
    if (r["server"].contains("connections_peak") && !r["server"]["connections_peak"].is_number_unsigned())
      return "/server/connections_peak: expected a count";
  }
  if (r.contains("host") && !r["host"].is_object()) return "/host: expected an object";
  if (r.contains("host") && r["host"].contains("addresses") && !r["host"]["addresses"].is_array()) return "/host/addresses: expected an array";
  for (const char* k : {"limits", "sysctls", "config", "topology"})
    if (r.contains(k) && !r[k].is_null() && !r[k].is_object()) return std::string("/") + k + ": expected an object";
  return {};
}

ojson merge_client_records(const CollectRequest& req) {
  std::vector<const ojson*> recs;
  std::vector<std::string> problems;
  for (const auto& p : req.clients) {
    if (p.record.is_object()) recs.push_back(&p.record);
    else problems.push_back(p.name + ": " + (p.problem.empty() ? "no record" : p.problem));
  }
  int64_t start_ms = INT64_MAX, end_ms = 0;
  for (auto* r : recs) {
    start_ms = std::min(start_ms, parse_iso_ms((*r)["started_at"].get<std::string>()));
    end_ms = std::max(end_ms, parse_iso_ms(r->value("ended_at", std::string())));
  }
  if (recs.empty()) {  // nobody reported: the run is dated by the collector
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    start_ms = end_ms = static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1'000'000;
  }

  int64_t kernel_inuse = 0;
  bool kernel_inuse_known = false;
  uint64_t connections = 0, established = 0, attempted = 0, connected = 0, errors_total = 0, pongs = 0;
  std::map<std::string, uint64_t> errors;
  std::map<std::string, int64_t> tcpext;
  Histogram connect_us, rtt_us;
  double user_growth = 0;
  uint64_t server_peak = 0;
  bool have_server = false, all_reached = !recs.empty();
  int64_t reached_ms = 0;
  ojson server = nullptr, kernel_per_socket = nullptr;
  double best_alloc_delta = -1;
  std::vector<std::string> statuses;
  ojson participants = ojson::array();
  const bool server_reported = req.server && req.server->record.is_object() && req.server->record.contains("connections_peak") &&
                               req.server->record["connections_peak"].is_number_unsigned();
  if (server_reported) {
    have_server = true;
    server_peak = req.server->record["connections_peak"].get<uint64_t>();
    server = req.server->record;
  }
  for (const auto& p : req.clients) {
    ojson part = {{"name", p.name}, {"role", "client"}, {"record_file", p.file.empty() ? ojson(nullptr) : ojson(p.file)}};
    // The lab maps each client's hostname to its container name.
    if (req.lab.is_object() && req.lab.contains("containers") && req.lab["containers"].contains(p.name))
      part["container"] = req.lab["containers"][p.name];
    if (!p.record.is_object()) {
      part["status"] = "missing";
      part["problem"] = p.problem.empty() ? "no record" : p.problem;
      participants.push_back(part);
      continue;
    }
    const ojson& r = p.record;
    const ojson& res = r["results"];
    part["status"] = r["status"];
    part["reason"] = r.value("reason", ojson(nullptr));
    part["addresses"] = r.contains("host") ? r["host"].value("addresses", ojson::array()) : ojson::array();
    part["established_peak_client"] = res["established_peak_client"];
    part["errors_total"] = res.value("errors_total", 0);
    part["kernel_tcp_inuse_delta"] = res.value("kernel_tcp_inuse_delta", ojson(nullptr));
    part["time_to_target_s"] = res.value("time_to_target_s", ojson(nullptr));
    part["limits"] = r.value("limits", ojson(nullptr));
    part["sysctls"] = r.contains("sysctls") ? r["sysctls"].value("namespaced", ojson(nullptr)) : ojson(nullptr);
    participants.push_back(part);
    statuses.push_back(r["status"].get<std::string>());

    connections += static_cast<uint64_t>(num(r, "/config/connections"));
    uint64_t est = static_cast<uint64_t>(num(r, "/results/established_peak_client"));
    established += est;
    attempted += static_cast<uint64_t>(num(r, "/results/attempted"));
    connected += static_cast<uint64_t>(num(r, "/results/connected_total"));
    errors_total += static_cast<uint64_t>(num(r, "/results/errors_total"));
    if (res.contains("kernel_tcp_inuse_delta") && res["kernel_tcp_inuse_delta"].is_number()) {
      kernel_inuse += res["kernel_tcp_inuse_delta"].get<int64_t>();
      kernel_inuse_known = true;
    }
    pongs += static_cast<uint64_t>(num(r, "/results/pongs_received"));
    if (res.contains("errors"))
      for (auto& [k, v] : res["errors"].items()) errors[k] += v.get<uint64_t>();
    if (res.contains("tcpext_delta"))
      for (auto& [k, v] : res["tcpext_delta"].items()) tcpext[k] += v.get<int64_t>();
    connect_us.merge(histogram_of(res.value("connect_latency_histogram", ojson(nullptr))));
    rtt_us.merge(histogram_of(res.value("ping_rtt_histogram", ojson(nullptr))));
    user_growth += num(r, "/memory/user_bytes_per_connection_client") * static_cast<double>(est);
    // The server counts its own joint peak (all clients at once); each client's record carries the
    // server's stats as that client last saw them, so the latest of those has the run's peak. The
    // server's own report, when it sent one, stands.
    const ojson& seen = r.contains("server") ? r["server"] : ojson(nullptr);
    if (!server_reported && seen.is_object() && seen.contains("connections_peak") && seen["connections_peak"].is_number()) {
      have_server = true;
      if (seen["connections_peak"].get<uint64_t>() >= server_peak) {
        server_peak = seen["connections_peak"].get<uint64_t>();
        server = seen;
      }
    }
    // Slab and sockstat's alloc are host-wide: the client whose window saw the most sockets appear
    // measured everyone's, so its figure stands for the run.
    double alloc_delta = num(r, "/results/sockstat_at_peak/TCP.alloc") - num(r, "/results/sockstat_before/TCP.alloc");
    const ojson per_socket = r.contains("memory") ? r["memory"].value("kernel_bytes_per_socket", ojson(nullptr)) : ojson(nullptr);
    if (alloc_delta > best_alloc_delta && per_socket.is_number()) {
      best_alloc_delta = alloc_delta;
      kernel_per_socket = per_socket;
    }
    if (const ojson ttt = res.value("time_to_target_s", ojson(nullptr)); ttt.is_number())
      reached_ms = std::max(reached_ms, parse_iso_ms(r["started_at"]) + static_cast<int64_t>(std::llround(ttt.get<double>() * 1000)));
    else
      all_reached = false;
  }

  std::string status = "complete", reason;
  if (std::find(statuses.begin(), statuses.end(), "interrupted") != statuses.end()) status = "interrupted";
  else if (!problems.empty() || std::any_of(statuses.begin(), statuses.end(), [](const std::string& s) { return s != "complete"; }))
    status = "failed";
  for (const auto& p : problems) reason += (reason.empty() ? "" : "; ") + p;
  // Every client reached its share, but not necessarily at the same moment: the server's joint peak says.
  if (have_server && server_peak < connections && status == "complete") {
    status = "failed";
    reason += (reason.empty() ? "" : "; ") + std::string("the server never held all ") + std::to_string(connections) +
              " at once (its peak: " + std::to_string(server_peak) + "): clients left before the last one was in";
  }
  for (const auto& p : participants)
    if (p["status"] != "complete" && p["status"] != "missing")
      reason += (reason.empty() ? "" : "; ") + p["name"].get<std::string>() + ": " + p["status"].get<std::string>() +
                (p["reason"].is_string() ? " (" + p["reason"].get<std::string>() + ")" : "");

  ojson out;
  out["schema_version"] = kSchemaVersion;
  out["run_id"] = req.run_id.empty() ? new_run_id() : req.run_id;
  out["status"] = status;
  out["reason"] = reason.empty() ? ojson(nullptr) : ojson(reason);
  out["tool"] = {{"name", "c1m"}, {"version", kVersion}, {"git_sha", kGitSha}};
  out["started_at"] = iso8601_utc(start_ms);
  out["ended_at"] = iso8601_utc(end_ms);
  out["duration_s"] = static_cast<double>(end_ms - start_ms) / 1000.0;
  out["approach"] = req.approach;
  out["config"] = {{"connections", connections}, {"clients", req.clients.size()},
                   {"per_client", recs.empty() ? ojson(nullptr) : recs[0]->value("config", ojson(nullptr))}};
  ojson sources = ojson::array();
  for (const auto& p : participants)
    for (const auto& a : p.value("addresses", ojson::array())) sources.push_back(a);
  out["topology"] = {{"clients", req.clients.size()},
                     {"client_addresses", sources},
                     {"targets", recs.empty() || !recs[0]->contains("topology") ? ojson(nullptr) : (*recs[0])["topology"].value("targets", ojson(nullptr))},
                     {"server_listen", server.is_object() ? server.value("listen", ojson(nullptr)) : ojson(nullptr)}};
  out["host"] = host_fingerprint();
  out["lab"] = req.lab;
  out["limits"] = {{"clients", recs.empty() ? ojson(nullptr) : recs[0]->value("limits", ojson(nullptr))},
                   {"server", server.is_object() ? server.value("limits", ojson(nullptr)) : ojson(nullptr)}};
  out["sysctls"] = {{"host", host_sysctls()},
                    {"server_namespaced", server.is_object() && server.contains("sysctls") ? server["sysctls"].value("namespaced", ojson(nullptr)) : ojson(nullptr)}};

  double ttt = all_reached && reached_ms > 0 ? static_cast<double>(reached_ms - start_ms) / 1000.0 : -1;
  ojson res;
  res["established_peak_client"] = established;
  res["established_peak_server"] = have_server ? ojson(server_peak) : ojson(nullptr);
  // The kernel's own count (sockstat TCP inuse) in each client's namespace, summed: in the lab each
  // client container counts its own sockets; natively one namespace holds both ends.
  res["kernel_tcp_inuse_delta_clients"] = kernel_inuse_known ? ojson(kernel_inuse) : ojson(nullptr);
  res["attempted"] = attempted;
  res["connected_total"] = connected;
  res["time_to_target_s"] = ttt >= 0 ? ojson(ttt) : ojson(nullptr);
  res["connect_rate_per_s"] = ttt > 0 ? ojson(static_cast<double>(connected) / ttt) : ojson(nullptr);
  res["connect_latency_ms"] = latency_summary_ms(connect_us);
  res["ping_rtt_ms"] = latency_summary_ms(rtt_us);
  res["pongs_received"] = pongs;
  res["errors"] = errors;
  res["errors_total"] = errors_total;
  res["tcpext_delta_clients"] = tcpext;
  // The server's namespace: where ListenOverflows and SYN cookies show.
  res["tcpext_delta_server"] = server.is_object() ? server.value("tcpext_since_start", ojson(nullptr)) : ojson(nullptr);
  res["connect_latency_histogram"] = histogram_json(connect_us);
  res["ping_rtt_histogram"] = histogram_json(rtt_us);
  out["results"] = res;
  out["memory"] = {{"kernel_bytes_per_socket", kernel_per_socket},
                   {"user_bytes_per_connection_client", established ? ojson(user_growth / static_cast<double>(established)) : ojson(nullptr)},
                   {"user_bytes_per_connection_server", server.is_object() ? server.value("user_bytes_per_connection", ojson(nullptr)) : ojson(nullptr)}};

  out["series"] = merged_series(recs, start_ms);
  if (req.server) {
    bool reported = req.server->record.is_object();
    participants.push_back({{"name", req.server->name}, {"role", "server"}, {"status", reported ? "reported" : "missing"},
                            {"problem", reported ? ojson(nullptr) : ojson(req.server->problem)}});
  }
  out["participants"] = participants;
  out["server"] = server;
  return out;
}

}  // namespace c1m
