// The collector as a service (`c1m collect --listen`): participants say hello and post their records
// over HTTP, and it writes one merged record per run into the store when the run is due; with
// --expect-count, the one run of clients that name none, then it exits. The HTTP API and its
// answers are in the README; why it is built as a database's write path, in docs/design.md.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/collector/collect.hpp"
#include "core/collector/collector_config.hpp"
#include "core/collector/record_store.hpp"
#include "core/collector/run_book.hpp"
#include "core/collector/spool.hpp"
#include "net/base/event_loop.hpp"
#include "net/http/http_service.hpp"

namespace c1m::net {

using ojson = nlohmann::ordered_json;

class CollectorService {
 public:
  // Puts a merged record into the store and says so: the run's exit status (0 complete), its path,
  // or an error (the record stays held and is tried again).
  using WriteRecord = std::function<int(const ojson& merged, std::string* path, std::string* error)>;

  // Opens the spool and takes up what an earlier collector left in it; UsageError when it cannot.
  CollectorService(CollectorConfig config, WriteRecord write);
  // Serves on `listen_fd` until the one run is written (--expect-count) or a signal; every open run
  // is then written as interrupted. The exit status: the last run's, 130 after a signal, 1 when a
  // record could not be written (its messages stay in the spool).
  int run(int listen_fd);

 private:
  bool write_run(const std::string& id, const std::string& status, const std::string& why);
  void add_routes();
  HttpReply runs_get(const std::string& id);
  HttpReply runs_post(const std::string& rest);
  void write_due_runs();
  int finish(const std::string& signal_name);

  const CollectorConfig c_;
  const WriteRecord write_;
  const Spool spool_;
  const RecordStore store_;
  RunBook book_;
  EventLoop loop_;
  std::unique_ptr<HttpService> http_;
  int last_rc_ = 0;
  // Runs whose merged record could not be written, with why: kept (in memory and the spool), tried again.
  std::map<std::string, std::string> unwritten_;
  int64_t next_retry_ms_ = 0;
  std::optional<std::pair<uint64_t, std::string>> runs_answer_;  // GET /runs, as of the book's changes()
};

// A record as the collector's /record takes it: a server's report, or a client's run record (checked
// by the one validator). Empty when it may be taken.
std::string check_posted(const ojson& j);

// What the merge does not read itself: this host, the time, a run id when the lab gave none. In a
// container the fingerprint's name and addresses are the container's: the lab names the machine.
CollectRequest with_host_facts(CollectRequest req, const std::string& host_name);

}  // namespace c1m::net
