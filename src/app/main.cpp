// c1m: hold a million TCP connections and measure what they cost.
#include <signal.h>

#include <cstdio>
#include <new>
#include <vector>

#include "app/cli.hpp"
#include "build_info.hpp"
#include "net/tls/tls_memory.hpp"

int main(int argc, char** argv) {
  using namespace c1m::app;
  // Before the TLS library allocates anything: its heap is then counted byte for byte (--tls).
  c1m::tls::count_library_memory();
  // A peer that hangs up mid-reply (a stats poller that timed out) must cost an EPIPE, not the process,
  // whichever write forgot MSG_NOSIGNAL (libevent's bufferevents write without it).
  signal(SIGPIPE, SIG_IGN);
  CLI::App root{"c1m: hold a million TCP connections, measure rate, latency, errors and memory per connection"};
  root.set_version_flag("--version", std::string("c1m ") + c1m::kVersion + " (" + c1m::kGitSha + ")");
  root.require_subcommand(1);
  std::vector<Command> commands = {add_server_command(root),    add_client_command(root),  add_doctor_command(root),
                                   add_host_tune_command(root), add_collect_command(root), add_compare_command(root),
                                   add_plot_command(root),      add_watch_command(root),   add_meter_command(root)};
  // CLI11 only says "a subcommand is required"; name the word it did not know.
  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    for (auto& c : commands) known = known || c.app->get_name() == argv[1];
    if (!known) {
      std::fprintf(stderr,
                   "c1m: unknown command '%s' (commands: server, client, doctor, host-tune, collect, compare, plot, "
                   "watch, meter; see c1m --help)\n",
                   argv[1]);
      return kExitUsage;
    }
  }
  try {
    root.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return root.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return root.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "c1m: %s (see c1m --help)\n", e.what());
    return kExitUsage;
  }
  try {
    for (auto& c : commands)
      if (c.app->parsed()) return c.run();
  } catch (const c1m::UsageError& e) {
    std::fprintf(stderr, "c1m: %s\n", e.what());
    return kExitUsage;
  } catch (const std::bad_alloc&) {
    // A record within every cap can still be more than a memory limit allows (ulimit -v, a cgroup):
    // one line and exit 2, not an abort.
    std::fprintf(stderr, "c1m: out of memory (this process's memory limit is too small for what it was given)\n");
    return kExitUsage;
  }
  return kExitUsage;
}
