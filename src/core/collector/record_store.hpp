// Where the collector's run records live: OUT/<start>-<approach>-<run id>.json, each written once and
// never replaced, and found again by its run id through OUT/.runs/<run id> (which holds the file's
// name). A database's write path in small: a run answered as written is on disk, under its own key,
// after any restart; a collector that died between writing a run and forgetting its messages finds
// the run written and does not write it a second time.
#pragma once
#include <string>

#include "core/collector/collect.hpp"

namespace c1m {

class RecordStore {
 public:
  explicit RecordStore(std::string out) : out_(std::move(out)) {}

  // The file name a merged record gets: its start second, its approach and its whole run id.
  static std::string file_name(const ojson& merged);
  // Writes a merged record and its index entry. Empty on success, with *path the record's file; when
  // the run was written before (by this or an earlier collector), *path is that file and *already is
  // set. Else why not (the caller keeps the run and tries again).
  std::string put(const ojson& merged, std::string* path, bool* already) const;
  // The record's path for a run id; empty when no record of that run is here.
  std::string find(const std::string& run_id) const;

 private:
  std::string index_path(const std::string& run_id) const { return out_ + "/.runs/" + run_id; }
  std::string out_;
};

}  // namespace c1m
