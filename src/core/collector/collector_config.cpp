#include "core/collector/collector_config.hpp"

#include <algorithm>

#include "core/record/record_file.hpp"
#include "core/usage.hpp"

namespace c1m {

nlohmann::ordered_json lab_info_json(const std::vector<std::string>& pairs) {
  nlohmann::ordered_json lab = nlohmann::ordered_json::object();
  for (const std::string& kv : pairs) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError("--lab-info '" + kv + "': expected KEY=VALUE");
    nlohmann::ordered_json* at = &lab;
    std::string key = kv.substr(0, eq);
    for (size_t dot; (dot = key.find('.')) != std::string::npos; key.erase(0, dot + 1)) {
      nlohmann::ordered_json& next = (*at)[key.substr(0, dot)];
      if (!next.is_object()) next = nlohmann::ordered_json::object();
      at = &next;
    }
    (*at)[key] = kv.substr(eq + 1);
  }
  return lab;
}

CollectorConfig resolve_collector(const CollectorOptions& o, int64_t now_ms, const NameResolver& resolve) {
  CollectorConfig c;
  c.listen = single_endpoint("--listen", o.listen, resolve);
  c.expect_count = o.expect_count;
  c.book.deadline_ms = require(parse_duration_ns(o.deadline), "--deadline", o.deadline) / 1'000'000;
  c.book.default_expect_clients = o.expect_count;
  c.book.deadline_text = o.deadline;
  c.book.max_bytes_held = require(parse_count(o.max_held), "--max-held", o.max_held);
  c.out = o.out, c.approach = o.approach, c.host_name = o.host_name;
  c.lab = lab_info_json(o.lab_info);
  c.token = o.token, c.admin_token = o.admin_token;

  c.max_body_bytes = require(parse_count(o.max_body), "--max-body", o.max_body);
  if (c.max_body_bytes > kMaxRecordBytes)
    throw UsageError("--max-body " + o.max_body + ": at most " + std::to_string(kMaxRecordBytes) +
                     " bytes (the largest record c1m reads)");
  c.max_record_values = require(parse_count(o.max_record_values), "--max-record-values", o.max_record_values);
  if (c.max_record_values < 10'000 || c.max_record_values > kMaxJsonValues)
    throw UsageError("--max-record-values " + o.max_record_values + ": from 10000 to " +
                     std::to_string(kMaxJsonValues) + " (what every reader of a record takes)");
  c.max_connections = o.max_connections;
  if (c.max_connections == 0) throw UsageError("--max-connections: at least 1");
  const int64_t timeout_ns = require(parse_duration_ns(o.request_timeout), "--request-timeout", o.request_timeout);
  if (timeout_ns < 1'000'000'000) throw UsageError("--request-timeout " + o.request_timeout + ": at least 1s");
  c.request_timeout_s = static_cast<int>(std::min<int64_t>(timeout_ns / 1'000'000'000, 3600));

  c.spool_root = o.out + "/.spool";
  c.own_spool = c.one_run() && o.spool.empty();
  c.spool_dir = !o.spool.empty() ? o.spool
                : c.own_spool    ? c.spool_root + "/expect-count-" + std::to_string(now_ms)
                                 : c.spool_root;
  return c;
}

}  // namespace c1m
