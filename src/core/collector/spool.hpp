// The collector's spool: every hello and record it accepts is on disk (synced) before it answers
// 200, one file per message under SPOOL/RUN/. A collector that is killed, runs out of memory or cannot
// write its merged record loses nothing: the next one started on the same spool takes the runs up
// again, and a run's files go only once its merged record is written.
#pragma once
#include <string>
#include <vector>

#include "core/collector/run_book.hpp"

namespace c1m {

class Spool {
 public:
  explicit Spool(std::string dir) : dir_(std::move(dir)) {}
  const std::string& dir() const { return dir_; }

  // Creates the spool directory if need be; empty when it is there and writable, else why not.
  std::string open() const;
  // Writes one message; empty when it is on disk, else why not (ENOSPC, ...).
  std::string keep(const Filed& filed) const;
  // What earlier collectors kept and no merged record has taken yet, oldest first. A file that cannot
  // be read back is named in `problems` and left where it is.
  std::vector<Filed> load(std::vector<std::string>* problems) const;
  // The run's merged record is written: its messages go, all at once (see spool.cpp).
  void forget(const std::string& run) const;
  // A written run's receipt (RunBook::receipt), kept before its messages go: a participant whose
  // answer was lost sends again, maybe to the next collector, and must hear that its message is in.
  std::string keep_receipt(const std::string& run, const ojson& receipt, int64_t now_ms) const;
  // The receipts kept within max_age_ms of now; older ones go (nobody retries that long).
  std::vector<ojson> load_receipts(int64_t now_ms, int64_t max_age_ms) const;
  // The collector ends: its receipts go, and then an empty spool (a spool that holds runs stays for
  // the next collector).
  void remove_if_empty() const;

 private:
  void remove_tree(const std::string& dir) const;  // a directory of files, no deeper
  std::string dir_;
};

}  // namespace c1m
