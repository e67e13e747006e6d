#include "core/collector/record_store.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/collector/run_book.hpp"
#include "core/host/atomic_file.hpp"
#include "core/host/procfs.hpp"
#include "core/record/run_record.hpp"

namespace c1m {

std::string RecordStore::file_name(const ojson& merged) {
  std::string stamp = text_of(merged, "started_at", "");
  stamp.erase(std::remove_if(stamp.begin(), stamp.end(), [](char c) { return c == '-' || c == ':'; }), stamp.end());
  stamp = stamp.substr(0, 15) + "Z";
  // The validator allows only the schema's approaches; a name that is not safe never reaches a path.
  std::string approach = text_of(merged, "approach", "custom");
  if (!is_safe_name(approach, 32)) approach = "custom";
  return stamp + "-" + approach + "-" + text_of(merged, "run_id", "unnamed") + ".json";
}

std::string RecordStore::find(const std::string& run_id) const {
  if (!is_safe_name(run_id, 64)) return {};
  auto name = procfs::read_text(index_path(run_id));
  if (!name || name->empty() || !is_safe_name(*name, 255)) return {};
  std::string path = out_ + "/" + *name;
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? path : std::string();
}

std::string RecordStore::put(const ojson& merged, std::string* path, bool* already) const {
  *already = false;
  const std::string id = text_of(merged, "run_id", "");
  if (!is_safe_name(id, 64)) return "run id '" + id + "' cannot name a file";
  if (std::string found = find(id); !found.empty()) {
    *path = found;
    *already = true;
    return {};
  }
  const std::string name = file_name(merged);
  bool existed = false;
  std::string err = write_new_file(out_ + "/" + name, merged.dump(2) + "\n", &existed);
  // Its name holds the whole run id: a file there is this run's, written by a collector that
  // stopped before it was indexed.
  if (!err.empty() && !existed) return err;
  *already = existed;
  if (::mkdir((out_ + "/.runs").c_str(), 0755) != 0 && errno != EEXIST)
    return "cannot create " + out_ + "/.runs: " + std::strerror(errno);
  if (err = write_file_atomically(index_path(id), name); !err.empty()) return err;
  *path = out_ + "/" + name;
  return {};
}

}  // namespace c1m
