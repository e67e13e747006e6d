// Before a client's ramp: --start-delay, then until --start-file exists. The lab's start line: clients
// started one after another by compose ramp together, so time to target is the ramp's, not the
// container starts'.
#pragma once
#include <cstdint>
#include <string>

namespace c1m::net {

// The longest the ramp waits for its --start-file: every client container of a lab is running by then.
inline constexpr int64_t kStartFileWaitNs = 300'000'000'000;

enum class StartWait { go, stopped, no_start_file };

// Says whether SIGTERM or SIGINT came meanwhile (the supervisor's own handlers are not up yet; these
// stand in for them, and the default ones come back after).
StartWait wait_to_start(int64_t delay_ns, const std::string& start_file);

}  // namespace c1m::net
