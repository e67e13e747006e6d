#include "core/plan/limit_found.hpp"

#include "core/units.hpp"

namespace c1m {
namespace {

// What an error class says of where the limit lies, counted.
std::string cause(ErrorClass c, uint64_t n) {
  const std::string k = format_thousands(n);
  switch (c) {
    case ErrorClass::refused:
      return "the server said no in its protocol (" + k +
             " refused: a full server's error, a refusal code, an "
             "upgrade declined)";
    case ErrorClass::econnrefused:
      return "connects were refused (" + k + "): its accept queue overflowed, or it stopped listening";
    case ErrorClass::etimedout:
      return "connects timed out (" + k + "): SYNs dropped by a full accept queue or conntrack table";
    case ErrorClass::econnreset:
      return "connections were reset (" + k + ")";
    case ErrorClass::peer_closed:
      return "the server closed " + k + " connections";
    case ErrorClass::close_frame:
      return "the server closed " + k + " connections in its protocol (close frames)";
    case ErrorClass::emfile_enfile:
      return "this client ran out of file descriptors (" + k + "): the limit found is the client's, not the server's";
    case ErrorClass::eaddrnotavail:
      return "source ports ran out (" + k + "): the limit found is the client's; add addresses or ports";
    case ErrorClass::no_answer:
      return k + " connections never answered a ping";
    case ErrorClass::tls_handshake:
      return "TLS handshakes failed (" + k + ")";
    case ErrorClass::tls_stalled:
      return "TLS handshakes did not end in time (" + k + "): the server's CPU, or a full accept queue";
    default:
      return k + " errors of class " + error_class_name(c);
  }
}

}  // namespace

LimitFound describe_limit(const std::string& ramp_limit, const ErrorCounts& errors, uint64_t held, uint64_t asked,
                          const std::string& who, const std::string& stall_evidence) {
  LimitFound f;
  f.held = held;
  f.asked = asked;
  // The class that counted most is what bound; errors with no limit found (a few, or in the hold)
  // still say what closed connections after the ramp.
  ErrorClass top = ErrorClass::other;
  for (size_t k = 0; k < kErrorClassCount; ++k)
    if (errors.by_class[k] > f.count) top = static_cast<ErrorClass>(k), f.count = errors.by_class[k];
  std::string head = who + " held " + format_thousands(held) + " of the " + format_thousands(asked) + " asked";
  if (ramp_limit.empty() && f.count == 0) {
    f.bound_by = "none";
    f.line = head + ": no limit below that (ask for more with --connections)";
  } else if (ramp_limit.starts_with("ping p99")) {
    f.bound_by = "slo";
    f.count = 0;
    f.line = head + ": the latency objective, " + ramp_limit;
  } else if (ramp_limit.empty() || ramp_limit == "errors") {
    f.bound_by = error_class_name(top);
    f.line = head + ": " + cause(top, f.count);
  } else {
    f.bound_by = "stall";
    f.count = 0;
    f.line = head + ": it stalled, " + ramp_limit + (stall_evidence.empty() ? "" : "; " + stall_evidence);
  }
  return f;
}

std::string target_called(const nlohmann::ordered_json& target) {
  for (const char* key : {"software", "name", "image", "address"})
    if (target.is_object() && target.contains(key) && target[key].is_string()) return target[key].get<std::string>();
  return "the target";
}

nlohmann::ordered_json limit_json(const LimitFound& f) {
  return {{"held", f.held}, {"asked", f.asked}, {"bound_by", f.bound_by}, {"count", f.count}, {"said", f.line}};
}

}  // namespace c1m
