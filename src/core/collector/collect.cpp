#include "core/collector/collect.hpp"

#include <algorithm>
#include <map>

#include "build_info.hpp"
#include "core/plan/limit_found.hpp"
#include "core/record/run_record.hpp"
#include "core/record/server_stats.hpp"
#include "core/units.hpp"

namespace c1m {
namespace {

// A count in a section the record keeps as JSON (its config): a whole number >= 0.
std::optional<uint64_t> count_in(const ojson& section, const char* key) {
  if (!section.is_object() || !section.contains(key) || !section[key].is_number_integer() ||
      section[key].get<int64_t>() < 0)
    return std::nullopt;
  return section[key].get<uint64_t>();
}

// Where a participant ran and under what, as it read them: its kernel, its swarm node when it had
// one, its limits and its namespace's sysctls.
void add_where_it_ran(ojson& part, const ojson& host, const ojson& limits, const ojson& sysctls) {
  if (host.is_object()) {
    part["kernel"] = host.value("kernel", ojson(nullptr));
    if (host.contains("node")) part["node"] = host["node"];
  }
  part["limits"] = limits;
  part["sysctls"] = sysctls.is_object() ? sysctls.value("namespaced", ojson(nullptr)) : ojson(nullptr);
}

// The swarm nodes a run spanned, each with its participants by role; empty off a swarm.
ojson nodes_of(const ojson& participants) {
  ojson nodes = ojson::array();
  for (const auto& p : participants) {
    const ojson node = p.value("node", ojson(nullptr));
    if (!node.is_object() || !node.contains("id") || !node["id"].is_string()) continue;
    auto same = std::find_if(nodes.begin(), nodes.end(), [&](const ojson& n) { return n["id"] == node["id"]; });
    if (same == nodes.end()) {
      nodes.push_back({{"id", node["id"]},
                       {"hostname", node.value("hostname", ojson(nullptr))},
                       {"kernel", p.value("kernel", ojson(nullptr))},
                       {"servers", 0},
                       {"clients", 0}});
      same = nodes.end() - 1;
    }
    ojson& count = (*same)[p.value("role", "") == "server" ? "servers" : "clients"];
    count = count.get<int>() + 1;
  }
  return nodes;
}

}  // namespace

std::string check_mergeable(const ojson& record) {
  std::string error;
  RunRecord::from_json(record, error);
  return error;
}

namespace {

// The clients' records, read: each participant's line of the merged record, the records that read,
// and what was wrong with those that did not.
struct ClientsRead {
  ojson participants = ojson::array();
  std::vector<RunRecord> records;
  std::vector<std::string> problems;
};

ClientsRead read_clients(const CollectRequest& req) {
  ClientsRead in;
  for (const auto& p : req.clients) {
    ojson part = {
        {"name", p.name}, {"role", "client"}, {"record_file", p.file.empty() ? ojson(nullptr) : ojson(p.file)}};
    // The lab maps each client's hostname to its container name.
    if (req.lab.is_object() && req.lab.contains("containers") && req.lab["containers"].is_object() &&
        req.lab["containers"].contains(p.name))
      part["container"] = req.lab["containers"][p.name];
    std::string error;
    std::optional<RunRecord> r = p.record.is_object() ? RunRecord::from_json(p.record, error) : std::nullopt;
    if (!r) {
      std::string why = !p.problem.empty() ? p.problem : !error.empty() ? error : "no record";
      in.problems.push_back(p.name + ": " + why);
      part["status"] = "missing";
      part["problem"] = why;
      in.participants.push_back(part);
      continue;
    }
    const RunResults& res = r->results;
    part["status"] = r->status;
    part["reason"] = r->reason ? ojson(*r->reason) : ojson(nullptr);
    part["addresses"] = r->host.is_object() ? r->host.value("addresses", ojson::array()) : ojson::array();
    part["established_peak_client"] = res.established_peak_client;
    part["errors_total"] = res.errors_total;
    part["kernel_tcp_inuse_delta"] = res.kernel_tcp_inuse_delta ? ojson(*res.kernel_tcp_inuse_delta) : ojson(nullptr);
    part["time_to_target_s"] = res.time_to_target_s ? ojson(*res.time_to_target_s) : ojson(nullptr);
    add_where_it_ran(part, r->host, r->limits, r->sysctls);
    in.participants.push_back(part);
    in.records.push_back(std::move(*r));
  }
  return in;
}

// A server measured from outside (c1m meter) has no /stats for the clients to read its CPU from in
// the live hold: its readings, once a second on the wall clock, give it over the seconds every client
// was live (each client's live hold ends as its record does).
std::optional<double> live_cores_from_meter(const std::vector<RunRecord>& records, const ojson& report) {
  const ojson::json_pointer at("/meter/cpu_series");
  if (records.empty() || !report.is_object() || !report.contains(at) || !report[at].is_array()) return std::nullopt;
  int64_t from_ms = INT64_MIN, to_ms = INT64_MAX;
  for (const auto& r : records) {
    if (!r.results.live_hold_s || *r.results.live_hold_s <= 0) return std::nullopt;
    from_ms = std::max(from_ms, r.ended_unix_ms - static_cast<int64_t>(*r.results.live_hold_s * 1000));
    to_ms = std::min(to_ms, r.ended_unix_ms);
  }
  std::optional<std::pair<int64_t, double>> first, last;
  for (const auto& p : report[at]) {
    if (!p.is_array() || p.size() != 2 || !p[0].is_number_integer() || !p[1].is_number()) return std::nullopt;
    const std::pair<int64_t, double> point{p[0].get<int64_t>(), p[1].get<double>()};
    if (point.first < from_ms || point.first > to_ms) continue;
    if (!first) first = point;
    last = point;
  }
  if (!first || last->first - first->first < 1000 || last->second < first->second) return std::nullopt;
  return (last->second - first->second) / (static_cast<double>(last->first - first->first) / 1000.0);
}

// The server: its own report when it sent one, else the latest stats a client saw (each client's
// record carries the server's stats as that client last saw them; the server's peak is monotonic).
// Its figures go into `out`; the peak it held at once is returned (0 when nothing is known of it).
uint64_t add_server(const CollectRequest& req, const std::vector<RunRecord>& records, RunRecord& out,
                    std::optional<ServerStats>& stats) {
  stats = req.server ? server_stats_from_json(req.server->record) : std::nullopt;
  out.server = stats ? req.server->record : ojson(nullptr);
  if (!stats)
    for (const auto& r : records)
      if (auto seen = server_stats_from_json(r.server);
          seen && (!stats || seen->connections_peak >= stats->connections_peak)) {
        stats = seen;
        out.server = r.server;
      }
  if (!stats) return 0;
  if (req.one_off && !req.server) {
    // What the clients saw the server hold while they ran, not the peak of its whole life.
    uint64_t peak = 0;
    for (const auto& r : records) peak = std::max(peak, r.results.established_peak_server.value_or(0));
    out.results.established_peak_server = peak;
    out.warnings.push_back(
        "a one-off client's run: the server serves other runs too, so its peak is the most this run saw it hold, "
        "and its ramp CPU and memory a connection (its lifetime's) are left out");
    return peak;
  }
  out.results.established_peak_server = stats->connections_peak;
  out.results.tcpext_delta_server = stats->tcpext_since_start;
  out.results.ramp_cpu_server_s = stats->ramp_cpu();
  out.results.ramp_cpu_server_user_s = stats->ramp_cpu_user();
  out.memory.user_bytes_per_connection_server = stats->user_bytes_per_connection;
  out.memory.kernel_bytes_per_connection_server = stats->kernel_bytes_per_connection;
  out.memory.tls_library_bytes_per_connection_server = stats->tls_library_bytes_per_connection;
  if (!out.results.live_cpu_cores_server && req.server)
    out.results.live_cpu_cores_server = live_cores_from_meter(records, req.server->record);
  derive_per_unit_figures(out.results);  // with the server's own CPU
  return stats->connections_peak;
}

// The server measured, as the first client that named it did; with --find-limit, what all the
// clients held together and what bound most of them: an error class said with all the clients' errors
// (`errors`, merged), a stall or an objective in the words of a client it bound.
ojson merged_target(const std::vector<RunRecord>& records, const std::map<std::string, uint64_t>& errors) {
  ojson target = nullptr;
  uint64_t held = 0, asked = 0, count = 0;
  std::map<std::string, uint64_t> bound_by;
  std::vector<ojson> limits;
  for (const auto& r : records) {
    if (!r.topology.is_object() || !r.topology.contains("target") || !r.topology["target"].is_object()) continue;
    const ojson& t = r.topology["target"];
    if (target.is_null() || (!target["software"].is_string() && t.value("software", ojson(nullptr)).is_string()))
      target = t;  // the first that the server told what it is
    if (!t.contains("limit") || !t["limit"].is_object()) continue;
    const ojson& l = t["limit"];
    held += count_in(l, "held").value_or(0);
    asked += count_in(l, "asked").value_or(0);
    count += count_in(l, "count").value_or(0);
    if (l.contains("bound_by") && l["bound_by"].is_string()) ++bound_by[l["bound_by"].get<std::string>()];
    limits.push_back(l);
  }
  if (limits.size() < 2) return target;
  std::string most;
  for (const auto& [name, n] : bound_by)
    if (most.empty() || n > bound_by[most]) most = name;
  // A client that held some and was bound as most were says the cause best.
  std::string cause;
  for (int pass = 0; pass < 2 && cause.empty(); ++pass)
    for (const auto& l : limits)
      if (l.value("bound_by", ojson("")) == most && (pass == 1 || count_in(l, "held").value_or(0) > 0) &&
          l.value("said", ojson("")).is_string()) {
        const std::string said = l["said"].get<std::string>();
        if (size_t colon = said.find(": "); colon != std::string::npos) cause = said.substr(colon + 2);
        if (!cause.empty()) break;
      }
  const std::string who = target_called(target);
  ErrorCounts all;
  for (size_t k = 0; k < kErrorClassCount; ++k)
    if (auto it = errors.find(error_class_name(static_cast<ErrorClass>(k))); it != errors.end())
      all.by_class[k] = it->second;
  if (most != "stall" && most != "slo" && most != "none") {
    // The class all the clients counted most is what bound, said with their counts together.
    const LimitFound found = describe_limit("errors", all, held, asked, who, "");
    if (size_t colon = found.line.find(": "); colon != std::string::npos) cause = found.line.substr(colon + 2);
    most = found.bound_by;
    count = found.count;
  }
  target["limit"] = {
      {"held", held},
      {"asked", asked},
      {"bound_by", most.empty() ? ojson(nullptr) : ojson(most)},
      {"count", count},
      {"said", who + " held " + format_thousands(held) + " of the " + format_thousands(asked) + " asked by " +
                   std::to_string(limits.size()) + " clients together" + (cause.empty() ? "" : ": " + cause)}};
  return target;
}

// What was asked beside what ran (the lab's preflight may have cut the run to what the host holds),
// and where: the clients' addresses, the targets, the server's listeners.
void add_config_and_topology(const CollectRequest& req, const ClientsRead& in, const std::optional<ServerStats>& stats,
                             RunRecord& out) {
  const std::vector<RunRecord>& records = in.records;
  uint64_t connections = 0;
  for (const auto& r : records) connections += count_in(r.config, "connections").value_or(0);
  const ojson first = records.empty() || !records[0].config.is_object() ? ojson::object() : records[0].config;
  const ojson asked = first.value("run_asked_connections", ojson(nullptr));
  const ojson cut_by = first.value("run_cut_by", ojson(nullptr));
  out.config = {{"connections", connections},
                {"asked_connections", asked.is_number_unsigned() ? asked : ojson(connections)},
                {"cut_by", cut_by.is_string() ? cut_by : ojson(nullptr)},
                {"clients", req.clients.size()},
                {"per_client", records.empty() ? ojson(nullptr) : records[0].config}};
  ojson sources = ojson::array();
  for (const auto& p : in.participants)
    for (const auto& a : p.value("addresses", ojson::array())) sources.push_back(a);
  out.topology = {{"clients", req.clients.size()},
                  {"client_addresses", sources},
                  {"targets", records.empty() || !records[0].topology.is_object()
                                  ? ojson(nullptr)
                                  : records[0].topology.value("targets", ojson(nullptr))},
                  {"server_listen", stats ? stats->context.value("listen", ojson(nullptr)) : ojson(nullptr)}};
  if (ojson target = merged_target(records, out.results.errors); !target.is_null()) out.topology["target"] = target;
}

// --find-limit: the clients count a connection held once the kernel has completed its handshake; a
// server at its limit may never take some of them from its accept queue (mosquitto past its files).
// Where the server's own steady count is lower, that is its capacity, and the sentence says the rest.
void take_the_servers_count(const std::optional<ServerStats>& stats, uint64_t server_peak, RunRecord& out) {
  const ojson::json_pointer limit("/target/limit");
  if (!stats || !out.results.limit_connections || server_peak >= *out.results.limit_connections ||
      !out.topology.contains(limit) || !out.topology[limit].is_object())
    return;
  const uint64_t clients = *out.results.limit_connections;
  out.results.limit_connections = server_peak;
  ojson& l = out.topology[limit];
  l["held"] = server_peak;
  const std::string said = l.value("said", std::string());
  const std::string from = format_thousands(clients);
  size_t at = said.find(" held " + from + " of ");
  l["said"] = (at == std::string::npos ? said
                                       : said.substr(0, at) + " held " + format_thousands(server_peak) +
                                             said.substr(at + 6 + from.size())) +
              "; the clients held " + from + ": " + format_thousands(clients - server_peak) +
              " waited in its accept queue, never taken";
}

// A limit found at the server's own file limit (its processes' open-files limit, which c1m meter reads)
// was its files, whatever its protocol said when it refused: the sentence says so.
void note_file_limit(const std::optional<ServerStats>& stats, RunRecord& out) {
  const ojson::json_pointer said("/target/limit/said");
  if (!stats || !out.results.limit_connections || !out.topology.contains(said) || !out.topology[said].is_string())
    return;
  const ojson limits = stats->context.value("limits", ojson::object());
  const auto nofile = count_in(limits, "nofile_soft"), processes = count_in(limits, "processes");
  if (!nofile || !processes || *processes == 0) return;
  const uint64_t files = *nofile * *processes, held = *out.results.limit_connections;
  if (held * 100 < files * 95) return;  // short of it by more than 5%: something else bound
  out.topology[said] = out.topology[said].get<std::string>() + "; its files bound it: " + format_thousands(held) +
                       " is " + std::to_string(held * 100 / files) + "% of the " + format_thousands(files) + " its " +
                       std::to_string(*processes) + " process(es) may open (ulimit -n " + format_thousands(*nofile) +
                       ")";
}

// The status: the records' (merge), then who never reported, then whether all were held at once.
void judge(const CollectRequest& req, const ClientsRead& in, uint64_t connections, uint64_t server_peak,
           bool server_known, RunRecord& out) {
  std::string reason;
  auto add = [&reason](const std::string& why) { append_clause(reason, why); };
  if (!in.problems.empty() && out.status == "complete") out.status = "failed";
  if (req.clients.empty()) out.status = "failed";
  for (const auto& p : in.problems) add(p);
  // Every client reached its share, but not necessarily at the same moment: the server's joint peak says.
  // With --find-limit, all that were held, not all that were asked.
  if (out.results.limit_connections) connections = *out.results.limit_connections;
  if (server_known && server_peak < connections && out.status == "complete") {
    out.status = "failed";
    add("the server never held all " + std::to_string(connections) +
        " at once (its peak: " + std::to_string(server_peak) + "): clients left before the last one was in");
  }
  for (const auto& p : in.participants)
    if (p["status"] != "complete" && p["status"] != "missing")
      add(p["name"].get<std::string>() + ": " + p["status"].get<std::string>() +
          (p["reason"].is_string() ? " (" + p["reason"].get<std::string>() + ")" : ""));
  // A server that said it takes part and never reported leaves its side of the run unsaid: its figures
  // are at best a client's last look at its /stats.
  if (req.server && !req.server->record.is_object()) {
    if (out.status == "complete") out.status = "failed";
    add("the server " + req.server->name + " never sent its report (" + req.server->problem + ")");
  }
  if (!reason.empty()) out.reason = reason;
  // A limit found is the run's answer: its sentence is the reason of a complete run.
  const ojson::json_pointer said("/target/limit/said");
  if (!out.reason && out.topology.contains(said) && out.topology[said].is_string())
    out.reason = out.topology[said].get<std::string>();
}

// The server's line among the participants, when it said it takes part.
ojson server_participant(const Participant& server) {
  const ojson& report = server.record;
  bool reported = report.is_object();
  ojson part = {{"name", server.name},
                {"role", "server"},
                {"status", reported ? "reported" : "missing"},
                {"problem", reported ? ojson(nullptr) : ojson(server.problem)}};
  if (reported)
    add_where_it_ran(part, report.value("host", ojson(nullptr)), report.value("limits", ojson(nullptr)),
                     report.value("sysctls", ojson(nullptr)));
  return part;
}

}  // namespace

ojson merge_client_records(const CollectRequest& req) {
  ClientsRead in = read_clients(req);
  RunRecord out = merge(in.records);
  if (in.records.empty())
    out.started_unix_ms = out.ended_unix_ms = req.now_unix_ms;  // nobody reported: dated by the collector
  out.run_id = req.run_id;
  out.approach = req.approach;
  out.tool = {{"name", "c1m"}, {"version", kVersion}, {"git_sha", kGitSha}};
  out.host = req.host;
  std::optional<ServerStats> stats;
  const uint64_t server_peak = add_server(req, in.records, out, stats);
  add_config_and_topology(req, in, stats, out);
  take_the_servers_count(stats, server_peak, out);
  note_file_limit(stats, out);
  judge(req, in, out.config["connections"].get<uint64_t>(), server_peak, stats.has_value(), out);
  ojson participants = in.participants;
  if (req.server) participants.push_back(server_participant(*req.server));
  out.extra["lab"] = req.lab;
  out.extra["participants"] = participants;
  if (ojson nodes = nodes_of(participants); !nodes.empty()) out.extra["nodes"] = nodes;
  return out.to_json();
}

}  // namespace c1m
