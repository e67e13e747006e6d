#include "core/plan/tls_settings.hpp"

namespace c1m {

nlohmann::ordered_json tls_json(const TlsSettings& s, bool server) {
  if (!s.on) return nullptr;
  nlohmann::ordered_json j = {{"version", "TLSv1.3"}, {"group", s.group}, {"cipher", s.cipher}};
  if (server) {
    j["certificate"] = s.cert_file.empty() ? "made at start (P-256, self-signed)" : s.cert_file;
    j["release_buffers"] = s.release_buffers;
    j["tickets"] = s.tickets;
    j["held_state"] = s.held == "library" ? "the library's object (SSL), its buffers released while idle"
                                          : "c1m's record layer: traffic keys and sequence numbers, the library's "
                                            "object freed after the handshake";
  } else {
    j["verify"] = s.verify;
    j["ca_file"] = s.verify ? nlohmann::ordered_json(s.ca_file) : nlohmann::ordered_json(nullptr);
    j["server_name"] = s.server_name.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s.server_name);
    j["resume"] = s.resume;
    j["held_state"] =
        "c1m's record layer: traffic keys and sequence numbers, the library's object freed after the "
        "handshake";
  }
  return j;
}

}  // namespace c1m
