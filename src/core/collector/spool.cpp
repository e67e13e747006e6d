#include "core/collector/spool.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/host/atomic_file.hpp"
#include "core/host/procfs.hpp"
#include "core/record/record_file.hpp"

namespace c1m {
namespace {

// hello-client-NAME.json, record-server-NAME.json: names are is_safe_name's, so no '/' and no "..".
std::string file_name(const Filed& f) {
  return std::string(f.is_record ? "record-" : "hello-") + (f.is_server ? "server-" : "client-") + f.name + ".json";
}

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') out.emplace_back(e->d_name);
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::string Spool::open() const {
  if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST)
    return "cannot create the spool " + dir_ + ": " + std::strerror(errno);
  if (::access(dir_.c_str(), W_OK | X_OK) != 0)
    return "the spool " + dir_ + " is not writable: " + std::strerror(errno);
  return {};
}

std::string Spool::keep(const Filed& f) const {
  std::string run_dir = dir_ + "/" + f.run;
  if (::mkdir(run_dir.c_str(), 0700) != 0 && errno != EEXIST)
    return "cannot create " + run_dir + ": " + std::strerror(errno);
  ojson doc = {{"received_ms", f.received_ms}, {"kind", f.is_record ? "record" : "hello"}, {"body", f.body}};
  if (!f.key.empty()) doc["participant_key"] = f.key;  // the spool is the collector's own (0700)
  return write_file_atomically(run_dir + "/" + file_name(f), doc.dump() + "\n");
}

std::vector<Filed> Spool::load(std::vector<std::string>* problems) const {
  std::vector<Filed> out;
  if (DIR* d = opendir(dir_.c_str())) {  // what a collector killed in forget() left
    std::vector<std::string> left;
    while (dirent* e = readdir(d))
      if (std::strncmp(e->d_name, ".forgotten-", 11) == 0) left.emplace_back(e->d_name);
    closedir(d);
    for (const std::string& name : left) remove_tree(dir_ + "/" + name);
  }
  for (const std::string& run : entries(dir_)) {
    if (!is_safe_name(run, 64)) continue;
    for (const std::string& name : entries(dir_ + "/" + run)) {
      std::string path = dir_ + "/" + run + "/" + name;
      if (!name.ends_with(".json")) continue;  // a temp file a crash left behind
      auto text = procfs::read_text(path);
      ojson doc = text && json_nesting_within(*text) ? ojson::parse(*text, nullptr, false) : ojson();
      bool ok = doc.is_object() && doc.contains("received_ms") && doc["received_ms"].is_number_integer() &&
                doc.contains("kind") && (doc["kind"] == "record" || doc["kind"] == "hello") && doc.contains("body") &&
                doc["body"].is_object();
      if (!ok) {
        if (problems) problems->push_back(path + ": not a spooled message; left as it is");
        continue;
      }
      Filed f;
      f.run = run;
      f.is_record = doc["kind"] == "record";
      f.received_ms = doc["received_ms"].get<int64_t>();
      f.body = std::move(doc["body"]);
      if (doc.contains("participant_key") && doc["participant_key"].is_string())
        f.key = doc["participant_key"].get<std::string>();
      out.push_back(std::move(f));
    }
  }
  // Hellos before records, and in the order they came: the book sees them as it did the first time.
  std::stable_sort(out.begin(), out.end(), [](const Filed& a, const Filed& b) {
    return a.is_record != b.is_record ? !a.is_record : a.received_ms < b.received_ms;
  });
  return out;
}

// A run's messages go in one step: its directory is renamed to a hidden name, which load() passes
// over, and only then emptied. A collector killed half way through leaves a hidden directory the next
// one removes, never a run with some of its messages, to be written again as a second record.
void Spool::forget(const std::string& run) const {
  if (!is_safe_name(run, 64)) return;
  std::string gone = dir_ + "/.forgotten-" + run;
  remove_tree(gone);  // a rename onto a directory that has files fails
  if (::rename((dir_ + "/" + run).c_str(), gone.c_str()) != 0) return;
  remove_tree(gone);
}

namespace {
constexpr const char* kReceiptPrefix = ".receipt-";

std::vector<std::string> receipt_files(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (std::strncmp(e->d_name, kReceiptPrefix, std::strlen(kReceiptPrefix)) == 0) out.emplace_back(e->d_name);
    closedir(d);
  }
  return out;
}
}  // namespace

std::string Spool::keep_receipt(const std::string& run, const ojson& receipt, int64_t now_ms) const {
  if (!is_safe_name(run, 64) || !receipt.is_object()) return "not a written run's receipt";
  ojson doc = receipt;
  doc["kept_ms"] = now_ms;
  return write_file_atomically(dir_ + "/" + kReceiptPrefix + run + ".json", doc.dump() + "\n");
}

std::vector<ojson> Spool::load_receipts(int64_t now_ms, int64_t max_age_ms) const {
  std::vector<ojson> out;
  for (const std::string& name : receipt_files(dir_)) {
    std::string path = dir_ + "/" + name;
    if (!name.ends_with(".json")) {  // a temp file a crash left behind
      ::unlink(path.c_str());
      continue;
    }
    auto text = procfs::read_text(path);
    ojson doc = text && json_nesting_within(*text) ? ojson::parse(*text, nullptr, false) : ojson();
    bool fresh = doc.is_object() && doc.contains("kept_ms") && doc["kept_ms"].is_number_integer() &&
                 now_ms - doc["kept_ms"].get<int64_t>() <= max_age_ms;
    if (fresh)
      out.push_back(std::move(doc));
    else
      ::unlink(path.c_str());
  }
  return out;
}

void Spool::remove_tree(const std::string& dir) const {
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
        ::unlink((dir + "/" + e->d_name).c_str());
    closedir(d);
  }
  ::rmdir(dir.c_str());
}

void Spool::remove_if_empty() const {
  for (const std::string& name : receipt_files(dir_)) ::unlink((dir_ + "/" + name).c_str());
  ::rmdir(dir_.c_str());
}

}  // namespace c1m
