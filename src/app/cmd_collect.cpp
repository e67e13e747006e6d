// `c1m collect`: merge the records the lab's clients left in one directory into one run record.
#include <dirent.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>

#include "app/cli.hpp"
#include "core/atomic_file.hpp"
#include "core/collect.hpp"
#include "core/record_file.hpp"
#include "core/record.hpp"

namespace c1m::app {
namespace {

struct CollectOptions {
  std::string dir;
  std::string out = "results";
  std::string approach = "multi-ip";
  std::string expect;  // comma list of client names
  std::string lab_json;
};

std::vector<std::string> split_names(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size() && !s.empty()) {
    size_t comma = s.find(',', start);
    std::string name = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!name.empty()) out.push_back(name);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

int run_collect(const CollectOptions& o) {
  DIR* d = opendir(o.dir.c_str());
  if (!d) throw UsageError("--dir " + o.dir + ": not a readable directory");
  std::vector<std::string> files;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 5 && n.ends_with(".json") && n.rfind("client-", 0) == 0) files.push_back(n);
  }
  closedir(d);
  std::sort(files.begin(), files.end());

  CollectRequest req;
  req.approach = o.approach;
  if (!o.lab_json.empty()) {
    std::ifstream in(o.lab_json);
    req.lab = ojson::parse(in, nullptr, false);
    if (req.lab.is_discarded()) throw UsageError("--lab " + o.lab_json + ": not valid JSON");
  }
  std::vector<std::string> expected = split_names(o.expect);
  for (const auto& f : files) {
    Participant p;
    p.name = f.substr(7, f.size() - 12);  // client-<name>.json
    p.file = o.dir + "/" + f;
    std::string err;
    p.record = read_record(p.file, err);
    p.problem = err;
    if (!err.empty()) std::fprintf(stderr, "c1m collect: %s\n", err.c_str());
    req.clients.push_back(std::move(p));
  }
  for (const auto& name : expected)
    if (std::none_of(req.clients.begin(), req.clients.end(), [&](const Participant& p) { return p.name == name; }))
      req.clients.push_back({name, "", nullptr, "never reported (no record in " + o.dir + ")"});
  if (req.clients.empty()) throw UsageError("--dir " + o.dir + ": no client-*.json records and no --expect names");

  ojson merged = merge_client_records(req);
  std::string stamp = merged["started_at"].get<std::string>();
  stamp.erase(std::remove_if(stamp.begin(), stamp.end(), [](char c) { return c == '-' || c == ':'; }), stamp.end());
  stamp = stamp.substr(0, 15) + "Z";
  std::string path = o.out + "/" + stamp + "-" + o.approach + "-" + merged["run_id"].get<std::string>().substr(0, 8) + ".json";
  std::string err = write_file_atomically(path, merged.dump(2) + "\n");
  if (!err.empty()) {
    std::fprintf(stderr, "c1m collect: %s\n", err.c_str());
    return 1;
  }
  const auto& r = merged["results"];
  std::printf("c1m collect: %s%s%s\n", merged["status"].get<std::string>().c_str(), merged["reason"].is_string() ? ": " : "",
              merged["reason"].is_string() ? merged["reason"].get<std::string>().c_str() : "");
  std::printf("  clients      %zu (%zu distinct addresses)\n", req.clients.size(), merged["topology"]["client_addresses"].size());
  std::printf("  established  client %s, server %s\n", r["established_peak_client"].dump().c_str(), r["established_peak_server"].dump().c_str());
  std::printf("  ramp         time to target %s s, %s connects/s, %s errors\n", r["time_to_target_s"].dump().c_str(),
              r["connect_rate_per_s"].dump().c_str(), r["errors_total"].dump().c_str());
  std::printf("  connect      p50 %s ms, p99 %s ms\n", r["connect_latency_ms"]["p50"].dump().c_str(), r["connect_latency_ms"]["p99"].dump().c_str());
  std::printf("  record       %s\n", path.c_str());
  return merged["status"] == "complete" ? 0 : 1;
}

}  // namespace

Command add_collect_command(CLI::App& root) {
  auto o = std::make_shared<CollectOptions>();
  CLI::App* c = root.add_subcommand("collect", "merge the client records of one lab run into one run record");
  c->add_option("--dir", o->dir, "directory holding client-<name>.json records")->required();
  c->add_option("--out", o->out, "directory for the run record")->capture_default_str();
  c->add_option("--approach", o->approach, "multi-ip or multi-port")->capture_default_str();
  c->add_option("--expect", o->expect, "comma list of client names that should have reported");
  c->add_option("--lab", o->lab_json, "JSON file with what the lab knows (runtime, images, configured limits)");
  return {c, [o] { return run_collect(*o); }};
}

}  // namespace c1m::app
