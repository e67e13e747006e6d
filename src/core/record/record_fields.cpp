#include "core/record/record_fields.hpp"

#include <type_traits>

#include "core/record/run_record.hpp"

namespace c1m {
namespace {

// A member as a number, whatever its type, and back.
template <typename T>
std::optional<double> as_number(const T& v) {
  return static_cast<double>(v);
}
template <typename T>
std::optional<double> as_number(const std::optional<T>& v) {
  return v ? std::optional<double>(static_cast<double>(*v)) : std::nullopt;
}
template <typename T>
void assign(T& member, std::optional<double> v) {
  member = v ? static_cast<T>(*v) : T{};
}
template <typename T>
void assign(std::optional<T>& member, std::optional<double> v) {
  member = v ? std::optional<T>(static_cast<T>(*v)) : std::nullopt;
}

template <typename T>
struct is_optional : std::false_type {};
template <typename T>
struct is_optional<std::optional<T>> : std::true_type {};

template <auto Section, auto Member>
std::optional<double> get_member(const RunRecord& r) {
  return as_number((r.*Section).*Member);
}
template <auto Section, auto Member>
void set_member(RunRecord& r, std::optional<double> v) {
  assign((r.*Section).*Member, v);
}

// A row under construction: the scalar's or the structure's facts, then what compare and the schema add.
struct Row : RecordField {
  Row& compared(Better b, const char* u, double noise) {
    better = b, unit = u, noise_floor = noise;
    return *this;
  }
  Row& required(Presence p) {
    presence = p;
    return *this;
  }
  Row& percentiles(const char* which, double noise, const Histogram* (*from)(const RunRecord&)) {
    compared_percentiles = which, noise_floor = noise, summary_of = from;
    return *this;
  }
};

template <auto Section, auto Member>
Row scalar(const char* section, const char* key, FigureKind kind, MergeRule merge, const char* meaning) {
  using M = std::remove_cvref_t<decltype(std::declval<RunRecord>().*Section.*Member)>;
  Row r{};
  r.section = section, r.key = key, r.kind = kind, r.merge = merge, r.meaning = meaning;
  r.nullable = is_optional<M>::value;
  r.presence = Presence::optional, r.better = Better::not_compared, r.unit = "";
  r.get = &get_member<Section, Member>;
  r.set = &set_member<Section, Member>;
  return r;
}

Row structured(const char* section, const char* key, MergeRule merge, const char* schema, const char* meaning) {
  Row r{};
  r.section = section, r.key = key, r.kind = FigureKind::structured, r.merge = merge, r.meaning = meaning;
  r.nullable = false, r.presence = Presence::optional, r.better = Better::not_compared, r.unit = "";
  r.schema = schema;
  return r;
}

#define RESULT(member, kind, merge, meaning) \
  scalar<&RunRecord::results, &RunResults::member>("results", #member, FigureKind::kind, MergeRule::merge, meaning)
#define MEMORY(member, kind, merge, meaning) \
  scalar<&RunRecord::memory, &RunMemory::member>("memory", #member, FigureKind::kind, MergeRule::merge, meaning)

constexpr const char* kLatency = R"({"$ref": "#/$defs/latency"})";
constexpr const char* kHistogram = R"({"$ref": "#/$defs/histogram"})";
constexpr const char* kLatencyOrNull = R"({"oneOf": [{"$ref": "#/$defs/latency"}, {"type": "null"}]})";
constexpr const char* kHistogramOrNull = R"({"oneOf": [{"$ref": "#/$defs/histogram"}, {"type": "null"}]})";
constexpr const char* kCounts = R"({"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}})";

// The table, in the order of the record, its schema and its docs: in three parts (a function each).
using enum Better;
using enum Presence;
using enum MergeRule;

// Connections, their ramp and their latencies.
std::vector<Row> connection_rows() {
  return {
      RESULT(established_peak_client, count, sum,
             "connections the client side held at once (the joint peak: all clients together)")
          .required(reader_requires)
          .compared(higher, "connections", 0),
      RESULT(established_peak_server, count, custom,
             "connections the server held at once: its own count, from its /stats or its report to the collector")
          .required(schema_requires)
          .compared(higher, "connections", 0),
      RESULT(kernel_tcp_inuse_at_peak, count, sum_if_all,
             "/proc/net/sockstat TCP inuse at the peak (the article's ss check; summed over the clients' namespaces)"),
      RESULT(kernel_tcp_inuse_delta, delta, sum_if_all, "its growth over the run"),
      RESULT(attempted, count, sum, "connects started"),
      RESULT(connected_total, count, sum, "connects that succeeded"),
      RESULT(time_to_target_s, seconds, custom,
             "from the ramp's start to the last worker reaching its quota; null if never reached (merged: on one "
             "clock, from the first client's start to the last one's target)")
          .required(schema_requires)
          .compared(lower, "s", 0.1),
      RESULT(ramp_duration_s, seconds, custom, "until every worker settled; null if one never did"),
      RESULT(connect_rate_per_s, rate, derived, "connects that succeeded over the time to target (or the ramp)")
          .required(schema_requires)
          .compared(higher, "connections/s", 0),
      structured("results", "connect_latency_ms", custom, kLatency,
                 "connect latency: count, min, p50, p90, p99, p999, max, mean (merged from the histograms, exactly)")
          .required(schema_requires)
          .percentiles("p50 p99 p999", 0.1, [](const RunRecord& r) { return &r.results.connect_us; }),
      structured("results", "ping_rtt_ms", custom, kLatency, "ping round trips, the same summary")
          .percentiles("p50 p99", 0.1, [](const RunRecord& r) { return &r.results.rtt_us; }),
      structured("results", "connect_latency_histogram", sum, kHistogram,
                 "sparse buckets of connect latency in microseconds, so records merge exactly"),
      structured("results", "ping_rtt_histogram", sum, kHistogram, "the same for ping round trips"),
      structured("results", "tls_handshake_latency_ms", custom, kLatencyOrNull,
                 "--tls: each handshake's time from the TCP connect's end to its keys in place (with --tls-resume, "
                 "its session ticket read), the same summary (null: no TLS)")
          .percentiles("p50 p99", 0.1, [](const RunRecord& r) { return &r.results.tls_handshake_us; }),
      structured("results", "tls_handshake_latency_histogram", sum, kHistogramOrNull,
                 "the same as sparse buckets in microseconds (null: no TLS)"),
      structured("results", "tls_first_error", custom, R"({"type": ["string", "null"]})",
                 "--tls: the first TLS failure, in the library's words or c1m's (\"no session ticket came ...\"); "
                 "the classes count them all (null: none)"),
      RESULT(pings_sent, count, sum, "pings sent"),
      RESULT(pongs_received, count, sum, "answers to pings, whole and as the protocol allows (an echo that matched)"),
      RESULT(http_replies_2xx, count, sum_if_all,
             "--protocol http: answers of status 2xx; websocket: upgrades refused with one (null for other protocols)"),
      RESULT(http_replies_3xx, count, sum_if_all, "answers of status 3xx"),
      RESULT(http_replies_4xx, count, sum_if_all, "answers of status 4xx"),
      RESULT(http_replies_5xx, count, sum_if_all, "answers of status 5xx (the server's own errors, 503 included)"),
      RESULT(limit_connections, count, sum_if_all,
             "--find-limit: the connections the target held when the run ended, its capacity; what bound it is "
             "topology.target.limit (null: not asked)")
          .compared(higher, "connections", 0),
      RESULT(tls_handshakes, count, sum_if_all, "--tls: TLS handshakes the client completed (null: no TLS)"),
      RESULT(tls_handshakes_per_s, rate, derived, "--tls: handshakes over the time to target (or the ramp)")
          .compared(higher, "handshakes/s", 0),
      RESULT(tls_resumed, count, sum_if_all,
             "--tls: handshakes that resumed a session from a ticket (--tls-resume; a PSK handshake: no "
             "certificate, no signature)"),
      RESULT(tls_tickets, count, sum_if_all,
             "--tls: session tickets servers sent after handshakes, read and let go (each costs the server work)"),
      RESULT(tls_library_peak_bytes_client, count, sum_if_all,
             "--tls: the most the client's TLS library held at once, all workers (its handshakes in flight), "
             "counted through its allocation functions"),
      RESULT(source_port_fallbacks, count, sum,
             "planned source ports the kernel refused (each moved to a spare port, then to the kernel's search)"),
  };
}

// CPU over the ramp, the hold and the live hold, on each side and the machine's.
std::vector<Row> cpu_rows() {
  return {
      RESULT(hold_cpu_cores_client, cores, sum_if_all, "CPU a second of hold, every client process")
          .compared(lower, "cores", 0.01),
      RESULT(hold_cpu_cores_server, cores, median, "CPU a second of hold, every server process")
          .compared(lower, "cores", 0.01),
      RESULT(ramp_cpu_busy_s, amount, custom,
             "the machine's busy CPU seconds over the ramp alone (/proc/stat, as the floor probe reads it; merged: "
             "over the union of the clients' windows, machine by machine)"),
      RESULT(ramp_cpu_steal_s, amount, custom, "CPU seconds the hypervisor took away over the same window"),
      RESULT(ramp_cpu_busy_us_per_connection, amount, derived,
             "ramp_cpu_busy_s per connection made, in microseconds: the floor probe's cpu_busy_us_per_connection"),
      structured(
          "results", "ramp_cpu_machine_counters", custom,
          R"({"type": ["object", "null"], "properties": {"busy_s_start": {"type": "number", "minimum": 0}, )"
          R"("busy_s_end": {"type": "number", "minimum": 0}, "steal_s_start": {"type": "number", "minimum": 0}, )"
          R"("steal_s_end": {"type": "number", "minimum": 0}}})",
          "the machine's cumulative busy and steal CPU seconds at this client's ramp's two ends"),
      RESULT(ramp_cpu_client_s, amount, sum_if_all, "the client processes' own CPU seconds over the ramp"),
      RESULT(ramp_cpu_client_user_s, amount, sum_if_all,
             "of ramp_cpu_client_s, the seconds in user mode: c1m's own code. The rest is the kernel's, which on "
             "one host includes the handshake's softirq work for both ends, run in the connecting process"),
      RESULT(ramp_cpu_server_s, amount, max,
             "the server processes' own CPU seconds from their first accept to holding all they expected"),
      RESULT(ramp_cpu_server_user_s, amount, max,
             "of ramp_cpu_server_s, the seconds in user mode (a target's: from its cgroup or process tree)"),
      RESULT(tls_ramp_cpu_us_per_handshake_client, amount, derived,
             "--tls: ramp_cpu_client_s per TLS handshake, in microseconds (TCP connects included: a plain run "
             "beside it says their share)")
          .compared(lower, "us", 1),
      RESULT(tls_ramp_cpu_us_per_handshake_server, amount, derived,
             "--tls: ramp_cpu_server_s per TLS handshake, in microseconds")
          .compared(lower, "us", 1),
      RESULT(live_hold_s, amount, max, "the live hold's length (--live): every connection pinged once an interval"),
      RESULT(live_pings_per_s, amount, sum_if_all, "pings sent a second over the live hold"),
      RESULT(pings_late, count, sum,
             "pings found still unanswered when the next was due (a connection never answered is errors.no_answer)"),
      RESULT(live_cpu_cores_client, amount, sum_if_all, "the client processes' CPU in cores over the live hold"),
      RESULT(live_cpu_cores_server, amount, median, "the server processes' CPU in cores over the live hold"),
      RESULT(live_cpu_machine_busy_cores, amount, custom,
             "the machine's busy cores over the live hold: wall time less idle, iowait and steal (merged: each "
             "machine once, the median of its clients' readings; machines added)"),
      RESULT(live_cpu_machine_steal_cores, amount, custom, "the hypervisor's steal in cores over the live hold"),
      RESULT(live_cpu_cores_per_1k_pings_per_s_client, amount, derived,
             "live_cpu_cores_client per 1,000 pings a second"),
      RESULT(live_cpu_cores_per_1k_pings_per_s_server, amount, derived,
             "live_cpu_cores_server per 1,000 pings a second"),
  };
}

// Errors, the kernel's counters and memory.
std::vector<Row> kernel_and_memory_rows() {
  return {
      structured(
          "results", "errors", sum,
          R"({"type": "object", "required": ["eaddrnotavail", "emfile_enfile", "econnrefused", "etimedout", )"
          R"("econnreset", "peer_closed", "bad_echo", "other"], "additionalProperties": {"type": "integer", )"
          R"("minimum": 0}})",
          "errors by cause: eaddrnotavail, emfile_enfile, econnrefused, etimedout, econnreset, peer_closed, "
          "bad_echo, no_answer (pinged, never answered), bad_reply (an answer the protocol does not allow), refused "
          "(the server said no in its protocol: a redis error reply, an MQTT refusal code, a WebSocket upgrade "
          "refused), close_frame (the server closed in its protocol: a WebSocket close frame), tls_handshake (a TLS "
          "handshake "
          "failed), tls_verify (the server's certificate did not verify), tls_stalled (a handshake did not end in the "
          "connect timeout), tls_alert (an alert on an established connection), tls_key_update (the peer asked for "
          "a key update), other")
          .required(schema_requires),
      RESULT(errors_total, count, sum, "every error, all causes")
          .required(schema_requires)
          .compared(lower, "errors", 0),
      structured("results", "tcpext_delta", sum, R"({"type": "object", "additionalProperties": {"type": "integer"}})",
                 "TcpExt counters' growth in the client side's namespace(s): ListenOverflows, ListenDrops, "
                 "TCPSynRetrans, SyncookiesSent, TCPAbortOnMemory"),
      structured("results", "tcpext_delta_server", custom, R"({"type": ["object", "null"]})",
                 "a merged record: the same in the server's namespace, from its report"),
      structured("results", "sockstat_before", widest, kCounts, "/proc/net/sockstat as read before the ramp"),
      structured("results", "sockstat_at_peak", widest, kCounts, "/proc/net/sockstat as read at the peak"),
      structured("results", "conntrack_at_peak", widest, R"({"type": ["object", "null"]})",
                 "{count, max} of the client's own namespace's conntrack table at the peak (null where untracked)"),
      MEMORY(slab_delta_bytes, delta, widest, "Slab growth (/proc/meminfo) from before the ramp to the peak"),
      MEMORY(kernel_bytes_per_socket, figure, widest,
             "Slab growth over the host-wide growth of allocated TCP sockets: the kernel's bytes a connection")
          .required(schema_requires)
          .compared(lower, "bytes", 50),
      MEMORY(mem_available_at_peak_bytes, count, widest,
             "the headroom: the host's MemAvailable while it held the peak"),
      structured("memory", "slab_caches", widest, R"({"type": ["object", "null"]})",
                 "per-cache object growth (TCP, sock_inode_cache, filp, dentry, eventpoll_epi); needs root"),
      structured("memory", "slab_caches_note", widest, R"({"type": ["string", "null"]})",
                 "why slab_caches is null, when it is"),
      MEMORY(user_bytes_per_connection_client, figure, custom,
             "the client workers' resident anonymous memory (statm resident - shared) growth over the connections "
             "they held (merged: weighted by each client's peak)")
          .required(schema_requires)
          .compared(lower, "bytes", 5),
      MEMORY(user_bytes_per_connection_server, figure, custom,
             "the server workers' resident anonymous memory growth over the connections they held, from the server")
          .required(schema_requires)
          .compared(lower, "bytes", 5),
      MEMORY(kernel_bytes_per_connection_server, figure, custom,
             "a server not c1m's with a cgroup of its own (a container, a service): its cgroup's kernel memory "
             "growth (v1 memory.kmem.usage_in_bytes, v2 memory.stat kernel) from before the ramp to its peak, over "
             "the connections it held (c1m meter in the lab; natively, the client's --target-pid)")
          .compared(lower, "bytes", 50),
      MEMORY(tls_library_bytes_per_connection_client, figure, custom,
             "--tls: the client's TLS library heap at the peak over the connections held, counted through its "
             "allocation functions (c1m keeps a held connection's keys itself: these are what the library kept)")
          .compared(lower, "bytes", 5),
      MEMORY(tls_library_bytes_per_connection_server, figure, custom,
             "--tls: the same for c1m's server, from its stats (its held connections keep the library's object)")
          .compared(lower, "bytes", 5),
  };
}

std::vector<RecordField> make_fields() {
  std::vector<RecordField> fields;
  for (auto part : {connection_rows, cpu_rows, kernel_and_memory_rows})
    for (Row& row : part()) fields.push_back(std::move(row));
  return fields;
}

#undef RESULT
#undef MEMORY

const char* kind_text(const RecordField& f) {
  switch (f.kind) {
    case FigureKind::count:
      return "count";
    case FigureKind::delta:
      return "signed count";
    case FigureKind::seconds:
      return "seconds";
    case FigureKind::rate:
      return "a second";
    case FigureKind::cores:
      return "cores";
    case FigureKind::amount:
    case FigureKind::figure:
      return "number";
    case FigureKind::structured:
      return "object";
  }
  return "";
}

const char* merge_text(MergeRule m) {
  switch (m) {
    case MergeRule::sum:
      return "sum";
    case MergeRule::sum_if_all:
      return "sum (null if a client lacks it)";
    case MergeRule::max:
      return "largest";
    case MergeRule::median:
      return "median";
    case MergeRule::widest:
      return "the widest window's";
    case MergeRule::derived:
      return "derived";
    case MergeRule::custom:
      return "its own rule (see meaning)";
  }
  return "";
}

}  // namespace

const std::vector<RecordField>& record_fields() {
  static const std::vector<RecordField> fields = make_fields();
  return fields;
}

nlohmann::ordered_json record_fields_schema(std::string_view section) {
  using ojson = nlohmann::ordered_json;
  ojson properties = ojson::object(), required = ojson::array();
  for (const auto& f : record_fields()) {
    if (section != f.section) continue;
    if (f.presence != Presence::optional) required.push_back(f.key);
    ojson p;
    if (f.kind == FigureKind::structured) {
      p = ojson::parse(f.schema);
    } else {
      const bool whole = f.kind == FigureKind::count || f.kind == FigureKind::delta;
      p["type"] =
          f.nullable ? ojson::array({whole ? "integer" : "number", "null"}) : ojson(whole ? "integer" : "number");
      if (f.kind != FigureKind::delta && f.kind != FigureKind::figure) p["minimum"] = 0;
    }
    p["description"] = f.meaning;
    properties[f.key] = p;
  }
  return {{"type", "object"}, {"required", required}, {"properties", properties}};
}

std::string record_fields_markdown() {
  std::string out = "| key | kind | merged over clients | compare | meaning |\n|---|---|---|---|---|\n";
  for (const auto& f : record_fields()) {
    std::string compare = f.better == Better::higher  ? "higher is better"
                          : f.better == Better::lower ? "lower is better"
                                                      : "";
    if (f.compared_percentiles) compare = std::string("lower is better: ") + f.compared_percentiles;
    out += std::string("| `") + f.section + "." + f.key + "` | " + kind_text(f) + (f.nullable ? " or null" : "") +
           " | " + merge_text(f.merge) + " | " + compare + " | " + f.meaning + " |\n";
  }
  return out;
}

}  // namespace c1m
