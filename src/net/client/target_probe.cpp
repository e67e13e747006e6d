#include "net/client/target_probe.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "core/host/clock.hpp"
#include "net/client/connect_socket.hpp"
#include "net/tls/tls_context.hpp"

namespace c1m::net {
namespace {

using Verdict = proto::Read::Verdict;
using ojson = nlohmann::ordered_json;
constexpr int64_t kRetryNs = 100'000'000;       // between refused connects
constexpr int64_t kBannerWaitNs = 300'000'000;  // raw: how long a banner may take
// The probe's time, a refused connect tried again within it (a server still starting).
constexpr int64_t kProbeTimeoutNs = 3'000'000'000;

// One blocking-by-poll connection with a deadline.
class ProbeSocket {
 public:
  explicit ProbeSocket(int64_t deadline_ns) : deadline_(deadline_ns) {}
  ~ProbeSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  // "" once connected, else why not.
  std::string connect(const Endpoint& target) {
    for (;;) {
      int err = start_connect(nullptr, 0, target, SIZE_MAX, fd_);
      if (err == 0 && wait(POLLOUT)) {
        socklen_t len = sizeof err;
        ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
      } else if (err == 0) {
        err = ETIMEDOUT;
      }
      if (err == 0) return "";
      if (fd_ >= 0) ::close(fd_), fd_ = -1;
      if (err != ECONNREFUSED || monotonic_ns() + kRetryNs > deadline_)
        return err == ECONNREFUSED ? "nothing listens there (connection refused)"
               : err == ETIMEDOUT  ? "no answer to a connect within the probe's time"
                                   : std::string("connect failed: ") + std::strerror(err);
      ::usleep(kRetryNs / 1000);
    }
  }
  // --tls: the handshake over the connection, after which every byte goes through the library. ""
  // once done, else why not; `said` gets what was settled (version, cipher, group, time).
  std::string handshake(SSL_CTX* ctx, const std::string& server_name, ojson& said) {
    ssl_.reset(SSL_new(ctx));
    if (!ssl_ || SSL_set_fd(ssl_.get(), fd_) != 1) return "out of memory for a TLS handshake";
    if (!server_name.empty()) SSL_set_tlsext_host_name(ssl_.get(), server_name.c_str());
    const int64_t started = monotonic_ns();
    for (;;) {
      int r = SSL_connect(ssl_.get());
      if (r == 1) break;
      int e = SSL_get_error(ssl_.get(), r);
      if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) && wait(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT))
        continue;
      std::string words = tls::last_library_error();
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) words = "no TLS answer within the probe's time";
      if (words.empty()) words = "the server closed the connection during the handshake";
      // An alert is a TLS server saying no: to what was offered (--tls-group, --tls-cipher, TLS 1.3).
      if (words.find("alert") != std::string::npos)
        return "the server refused the TLS handshake: " + words +
               " (does it take TLS 1.3, the --tls-group and the --tls-cipher offered?)";
      return "the TLS handshake failed: " + words + " (is it a TLS server?)";
    }
    const char* group = SSL_group_to_name(ssl_.get(), SSL_get_negotiated_group(ssl_.get()));
    said = {{"version", SSL_get_version(ssl_.get())},
            {"cipher", SSL_get_cipher_name(ssl_.get())},
            {"group", group != nullptr ? ojson(group) : ojson(nullptr)},
            {"handshake_ms", static_cast<double>(monotonic_ns() - started) / 1e6}};
    return "";
  }
  // Whether the server sent a session ticket within a second of the handshake (read by the library,
  // peeking: an answer that came first stays unread); `said` gets "session_ticket".
  bool await_ticket(ojson& said) {
    const int64_t until = monotonic_ns() + 1'000'000'000;
    auto resumable = [this] { return SSL_SESSION_is_resumable(SSL_get0_session(ssl_.get())) == 1; };
    unsigned char byte;
    while (!resumable()) {
      int r = SSL_peek(ssl_.get(), &byte, 1);
      if (r > 0 || SSL_get_error(ssl_.get(), r) != SSL_ERROR_WANT_READ || !wait(POLLIN, until)) break;
    }
    tls::last_library_error();
    said["session_ticket"] = resumable();
    return resumable();
  }
  bool send_all(const unsigned char* data, size_t n) {
    if (ssl_) return SSL_write(ssl_.get(), data, static_cast<int>(n)) == static_cast<int>(n);
    return ::send(fd_, data, n, MSG_NOSIGNAL) == static_cast<ssize_t>(n);
  }
  // Bytes read (0: the server closed), or -1: nothing came by the deadline (or an error).
  ssize_t read_some(unsigned char* buf, size_t cap, int64_t deadline_ns) {
    if (ssl_) {
      for (;;) {
        int n = SSL_read(ssl_.get(), buf, static_cast<int>(cap));
        if (n > 0) return n;
        int e = SSL_get_error(ssl_.get(), n);
        if (e == SSL_ERROR_ZERO_RETURN) return 0;
        if (e != SSL_ERROR_WANT_READ || !wait(POLLIN, deadline_ns)) return -1;
      }
    }
    if (!wait(POLLIN, deadline_ns)) return -1;
    return ::recv(fd_, buf, cap, 0);
  }

 private:
  bool wait(short events, int64_t deadline_ns = 0) {
    const int64_t until = deadline_ns ? std::min(deadline_ns, deadline_) : deadline_;
    for (;;) {
      int64_t left = until - monotonic_ns();
      if (left <= 0) return false;
      pollfd p{fd_, events, 0};
      int n = ::poll(&p, 1, static_cast<int>(left / 1'000'000) + 1);
      if (n > 0) return true;
      if (n < 0 && errno != EINTR) return false;
    }
  }
  int fd_ = -1;
  int64_t deadline_;
  tls::SslPtr ssl_;  // --tls; freed before the fd closes (the destructor's order)
};

std::string printable(const std::string& s, size_t at = 0, size_t max = 80) {
  std::string out;
  for (size_t i = at; i < s.size() && out.size() < max && s[i] != '\r' && s[i] != '\n'; ++i)
    out += std::isprint(static_cast<unsigned char>(s[i])) ? s[i] : '?';
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// The answer to what was just sent (ping `seq`): whole, a "no" in the protocol (the run counts it,
// so the probe says nothing of it), or what went wrong.
struct Answer {
  std::string error;
  bool refused = false;
  bool silent = false;  // nothing came in the probe's time
};
Answer read_answer(ProbeSocket& sock, proto::Protocol p, proto::ReplyState& state, uint32_t seq, std::string& seen,
                   int64_t deadline) {
  unsigned char buf[4096];
  for (;;) {
    ssize_t n = sock.read_some(buf, sizeof buf, deadline);
    if (n < 0) return {"it did not answer within the probe's time", false, true};
    if (n == 0)
      return {seen.empty() ? "it closed the connection without answering" : "it closed the connection mid-answer"};
    seen.append(reinterpret_cast<char*>(buf), static_cast<size_t>(n));
    for (size_t at = 0; at < static_cast<size_t>(n);) {
      proto::Read r = proto::read_reply(p, state, 0, 0, seq, buf + at, static_cast<size_t>(n) - at);
      if (r.verdict == Verdict::bad)
        return {"it answered what " + std::string(proto::protocol_name(p)) + " does not allow: '" +
                printable(seen, 0, 60) + "'"};
      if (r.verdict == Verdict::answered) return {};
      if (r.verdict == Verdict::refused || r.verdict == Verdict::closed) return {"", true};
      at += std::max<size_t>(r.used, 1);
    }
  }
}

// redis says its version to INFO: a bulk reply that holds "redis_version:7.0.15".
std::string redis_version(ProbeSocket& sock, int64_t deadline) {
  const char ask[] = "INFO server\r\n";
  if (!sock.send_all(reinterpret_cast<const unsigned char*>(ask), sizeof ask - 1)) return "";
  std::string got;
  unsigned char buf[4096];
  while (got.find("redis_version:") == std::string::npos ||
         got.find('\n', got.find("redis_version:")) == std::string::npos) {
    ssize_t n = sock.read_some(buf, sizeof buf, deadline);
    if (n <= 0 || got.size() > 65536) return "";
    got.append(reinterpret_cast<char*>(buf), static_cast<size_t>(n));
  }
  return software_said(proto::Protocol::redis, got);
}

// A server's kernel memory from its own cgroup (nullopt where it has none, or it was not read).
std::optional<uint64_t> kernel_bytes_of(const TargetReading& r) {
  return r.cgroup ? r.cgroup->kernel_bytes : std::nullopt;
}

// The server's cgroup in the record: its kernel memory before the ramp and once the target was held,
// or why it was not read.
ojson target_cgroup_json(const TargetReading& before, const TargetReading& held) {
  if (!held.cgroup_at) return {{"read", false}, {"why_not", held.cgroup_not_read}};
  const auto was = kernel_bytes_of(before), is = kernel_bytes_of(held);
  return {{"read", true},
          {"version", held.cgroup_at->version},
          {"path", held.cgroup_at->path},
          {"kernel_before_bytes", was ? ojson(*was) : ojson(nullptr)},
          {"kernel_held_bytes", is ? ojson(*is) : ojson(nullptr)},
          {"socket_accounting",
           held.cgroup ? ojson(procfs::socket_accounting(*held.cgroup_at, *held.cgroup)) : ojson(nullptr)}};
}

}  // namespace

std::string software_said(proto::Protocol p, const std::string& bytes) {
  if (p == proto::Protocol::redis) {
    size_t at = bytes.find("redis_version:");
    return at == std::string::npos ? "" : "redis " + printable(bytes, at + 14);
  }
  if (p == proto::Protocol::http || p == proto::Protocol::websocket) {
    const size_t head_end = bytes.find("\r\n\r\n");
    std::string lower(bytes.substr(0, head_end));
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    size_t at = lower.find("\r\nserver:");
    if (at == std::string::npos) return "";
    at += 9;
    while (at < bytes.size() && bytes[at] == ' ') ++at;
    return printable(bytes, at);
  }
  if (p == proto::Protocol::raw) return printable(bytes);
  return "";
}

TargetProbe probe_target(const Endpoint& target, proto::Protocol p, const proto::PingText& text, int64_t timeout_ns,
                         SSL_CTX* tls, const std::string& server_name, bool want_ticket) {
  TargetProbe probe;
  const int64_t deadline = monotonic_ns() + timeout_ns;
  ProbeSocket sock(deadline);
  if (std::string why = sock.connect(target); !why.empty()) return probe.error = why, probe;
  if (tls != nullptr) {
    if (std::string why = sock.handshake(tls, server_name, probe.tls); !why.empty()) return probe.error = why, probe;
    if (want_ticket && !sock.await_ticket(probe.tls))
      return probe.error =
                 "--tls-resume: the server sent no session ticket within 1 s (c1m's server sends them "
                 "with --tls-tickets N)",
             probe;
    if (p == proto::Protocol::echo) return probe;  // c1m's own server: its /stats says the rest
  }
  std::string seen;
  if (p == proto::Protocol::raw) {  // nothing to ask: a banner, if the server says one
    unsigned char buf[512];
    ssize_t n = sock.read_some(buf, sizeof buf, monotonic_ns() + kBannerWaitNs);
    if (n > 0) probe.software = software_said(p, std::string(reinterpret_cast<char*>(buf), static_cast<size_t>(n)));
    return probe;
  }
  unsigned char out[proto::kMaxPingBytes];
  const int64_t sent_ns = monotonic_ns();
  // The greeting (seq 0), where the protocol has one, then one ping; a refusal ends the probe. A ping
  // that is never answered after a greeting that was is the run's to count (errors.no_answer).
  proto::ReplyState state{};
  for (uint32_t seq : {0u, 1u}) {
    size_t size = seq == 0 ? proto::make_greeting(p, text, 0, 0, 0, out, sizeof out)
                           : proto::make_ping(p, text, 0, 0, seq, out, sizeof out);
    if (size == 0) continue;
    if (!sock.send_all(out, size)) return probe.error = "the connection failed while sending", probe;
    Answer answer = read_answer(sock, p, state, seq, seen, deadline);
    if (answer.silent && seq == 1 && probe.answer_ms) break;
    if (!answer.error.empty())
      return probe.error = answer.error + ": is it a " + proto::protocol_name(p) + " server?", probe;
    if (!probe.answer_ms) probe.answer_ms = static_cast<double>(monotonic_ns() - sent_ns) / 1e6;
    if (p == proto::Protocol::websocket && seq == 0) probe.software = software_said(p, seen);
    if (answer.refused) return probe;
  }
  if (p == proto::Protocol::http) probe.software = software_said(p, seen);
  if (p == proto::Protocol::redis) probe.software = redis_version(sock, deadline);
  return probe;
}

void note_target_cost(int pid, const TargetReading& before, const TargetReading& held, uint64_t connections,
                      ClientRun& run) {
  const procfs::CpuTime ramp = held.tree.cpu.since(before.tree.cpu);
  const double cpu_s = ramp.total_s();
  const double grown = static_cast<double>(held.tree.rss_bytes) - static_cast<double>(before.tree.rss_bytes);
  run.target_ramp_cpu_s = cpu_s;
  run.target_ramp_cpu_user_s = ramp.user_s();
  const auto kernel_was = kernel_bytes_of(before), kernel_is = kernel_bytes_of(held);
  if (connections > 0) {
    run.target_user_bytes_per_connection = grown / static_cast<double>(connections);
    if (kernel_was && kernel_is)
      run.target_kernel_bytes_per_connection =
          (static_cast<double>(*kernel_is) - static_cast<double>(*kernel_was)) / static_cast<double>(connections);
  }
  run.topology["target"]["process"] = {{"pid", pid},
                                       {"command", held.tree.command},
                                       {"processes", held.tree.processes},
                                       {"rss_before_bytes", before.tree.rss_bytes},
                                       {"rss_held_bytes", held.tree.rss_bytes},
                                       {"held_connections", connections},
                                       {"ramp_cpu_s", cpu_s},
                                       {"cgroup", target_cgroup_json(before, held)}};
}

std::string name_and_probe_target(const ClientConfig& r, tls::SslCtxPtr& tls, ojson& target) {
  target = {{"address", r.plan.targets.empty() ? ojson(nullptr) : ojson(r.plan.targets[0].str())},
            {"protocol", proto::protocol_name(r.protocol)},
            {"name", r.target_name.empty() ? ojson(nullptr) : ojson(r.target_name)},
            {"image", r.target_image.empty() ? ojson(nullptr) : ojson(r.target_image)},
            {"software", nullptr},
            {"probe_answer_ms", nullptr}};
  if (r.tls.on) {
    std::string why;
    if (tls = tls::make_client_context(r.tls, why); !tls) return "--tls: " + why;
  }
  // c1m's own server is probed only over TLS, and not in a lab run: its server takes the run's
  // account from the first connection it sees, and a probe's closing would end that account early.
  if ((r.protocol == proto::Protocol::echo && (!tls || !r.run_id.empty())) || r.plan.targets.empty()) return "";
  TargetProbe p = probe_target(r.plan.targets[0], r.protocol, r.ping_text, kProbeTimeoutNs, tls.get(),
                               r.tls.server_name, r.tls.resume);
  if (!p.software.empty()) target["software"] = p.software;
  if (tls) target["tls"] = p.tls.is_null() ? ojson(nullptr) : p.tls;
  if (p.answer_ms) target["probe_answer_ms"] = *p.answer_ms;
  if (p.error.empty()) return "";
  return "--target " + r.plan.targets[0].str() + " (" + proto::protocol_name(r.protocol) + "): " + p.error;
}

}  // namespace c1m::net
