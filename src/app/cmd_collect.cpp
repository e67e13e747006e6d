// `c1m collect`: one run record from many clients. Either the clients push their records to it over
// HTTP (--listen; they say hello when they start, so one that dies is still named), or it merges the
// records they left in a directory (--dir, as the container lab does through a shared volume).
#include <dirent.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>

#include "app/cli.hpp"
#include "core/collector/collect.hpp"
#include "core/collector/collector_config.hpp"
#include "core/collector/record_store.hpp"
#include "core/host/atomic_file.hpp"
#include "core/host/clock.hpp"
#include "core/host/host.hpp"
#include "core/host/procfs.hpp"
#include "core/record/record.hpp"
#include "core/record/record_file.hpp"
#include "core/record/repetitions.hpp"
#include "core/record/summary.hpp"
#include "core/units.hpp"
#include "net/collector/collector_service.hpp"
#include "net/http/http_service.hpp"

namespace c1m::app {
namespace {

// The service's flags (core/collector/collector_config.hpp), and those of the offline merges.
struct CollectOptions {
  CollectorOptions service;  // --listen and what goes with it; --out, --approach, --host-name for all
  std::string dir;
  std::string expect;  // --expect-names: comma list of client names
  std::string lab_json;
  std::string show;
  std::vector<std::string> repetitions;  // records of one experiment run one after another
  std::string output;                    // with --repetitions: the one record they make
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

// Writes the merged record into OUT and prints its summary; the exit status of the run (0 complete).
int write_and_summarize(const ojson& merged, const std::string& out, std::string* written_to = nullptr,
                        std::string* error = nullptr);
// Prints a merged record's summary; its exit status (0 complete, 1 otherwise).
int print_summary(const ojson& merged, const std::string& path);

// The collector as a service (net/collector/collector_service): one record per run, or with --expect-count
// the one run of clients that name none, then it exits.
int run_collect_listen(const CollectOptions& o) {
  CollectorConfig config = resolve_collector(o.service, unix_ms());
  int fd = net::HttpService::open_socket(config.listen);
  if (fd < 0) throw UsageError("--listen " + config.listen.str() + ": cannot listen: " + std::strerror(errno));
  net::CollectorService service(std::move(config), [&o](const ojson& merged, std::string* path, std::string* error) {
    return write_and_summarize(merged, o.service.out, path, error);
  });
  return service.run(fd);
}

// Records of one experiment run one after another (make ci-bench's runs of an approach) as one
// record whose repetitions[] compare reads: its baseline and its new side are then samples, not
// single runs whose tails differ from one run to the next.
int collect_repetitions(const CollectOptions& o) {
  if (o.output.empty()) throw UsageError("--repetitions needs --output FILE: the record they make");
  std::vector<ojson> records;
  for (const std::string& path : o.repetitions) {
    std::string err;
    records.push_back(read_record(path, err));
    if (!err.empty()) throw UsageError("--repetitions " + err);
  }
  ojson merged = merge_repetitions(records, records.size(), false);
  if (std::string e = write_file_atomically(o.output, merged.dump(2) + "\n"); !e.empty())
    throw UsageError("--output " + o.output + ": " + e);
  std::printf("c1m collect: %zu repetitions -> %s (%s)\n", records.size(), o.output.c_str(),
              merged["status"].get<std::string>().c_str());
  return merged["status"] == "complete" ? 0 : 1;
}

int run_collect(const CollectOptions& o) {
  if (!o.repetitions.empty()) return collect_repetitions(o);
  if (!o.show.empty()) {
    std::string err;
    ojson r = read_record(o.show, err);
    if (!err.empty()) throw UsageError("--show " + err);
    return print_summary(r, o.show);
  }
  // Said before anything is read or merged: a run is not measured to be lost at the end.
  if (access(o.service.out.c_str(), W_OK | X_OK) != 0)
    throw UsageError("--out " + o.service.out + ": not a writable directory: " + std::strerror(errno));
  if (!o.service.listen.empty()) {
    if (!o.dir.empty()) throw UsageError("--listen and --dir: choose one");
    return run_collect_listen(o);
  }
  if (o.dir.empty())
    throw UsageError("collect needs --listen ADDRESS:PORT (clients push) or --dir DIR (clients left files)");
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
  req.approach = o.service.approach.empty() ? "multi-ip" : o.service.approach;
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
    if (err.empty() && !(err = check_mergeable(p.record)).empty()) {
      err = p.file + ": " + err;
      p.record = nullptr;
    }
    p.problem = err;
    if (!err.empty()) std::fprintf(stderr, "c1m collect: %s\n", err.c_str());
    req.clients.push_back(std::move(p));
  }
  for (const auto& name : expected)
    if (std::none_of(req.clients.begin(), req.clients.end(), [&](const Participant& p) { return p.name == name; }))
      req.clients.push_back({name, "", nullptr, "never reported (no record in " + o.dir + ")"});
  if (req.clients.empty()) throw UsageError("--dir " + o.dir + ": no client-*.json records and no --expect names");

  return write_and_summarize(merge_client_records(net::with_host_facts(req, o.service.host_name)), o.service.out);
}

int write_and_summarize(const ojson& merged, const std::string& out, std::string* written_to, std::string* error) {
  std::string path;
  bool already = false;
  std::string err = RecordStore(out).put(merged, &path, &already);
  if (!err.empty()) {
    if (error)
      *error = err;
    else
      std::fprintf(stderr, "c1m collect: %s\n", err.c_str());
    return 1;
  }
  if (written_to) *written_to = path;
  if (already) {  // written by a collector that stopped before it could say so: that file stands
    std::printf("c1m collect: run %s was written to %s already\n", text_of(merged, "run_id", "").c_str(), path.c_str());
    return 0;
  }
  return print_summary(merged, path);
}

int print_summary(const ojson& merged, const std::string& path) {
  std::string why;
  auto r = RunRecord::from_json(merged, why);
  if (!r) throw UsageError(path + ": " + why);
  std::fputs(collect_summary(*r, path).c_str(), stdout);
  return r->status == "complete" ? 0 : 1;
}

}  // namespace

Command add_collect_command(CLI::App& root) {
  auto o = std::make_shared<CollectOptions>();
  CLI::App* c = root.add_subcommand("collect", "merge the client records of one lab run into one run record");
  c->add_option("--listen", o->service.listen, "ADDRESS:PORT where clients (--report-to) push their records");
  c->add_option("--max-held", o->service.max_held,
                "with --listen: bytes of records it holds for runs not yet written; past it, 503 (1g, 500m, ...)")
      ->capture_default_str();
  c->add_option("--run-token", o->service.token,
                "with --listen: take hellos and records only when they carry this token (the lab's; give clients and "
                "server the same)")
      ->envname("C1M_RUN_TOKEN");
  c->add_option("--admin-token", o->service.admin_token,
                "with --listen: closing a run (POST /runs/ID/close) needs this token, which the lab keeps from its "
                "participants (default: the --run-token)")
      ->envname("C1M_ADMIN_TOKEN");
  c->add_option("--host-name", o->service.host_name,
                "the name of the machine the collector runs on, for the records (in a container its own name is "
                "not the machine's; lab-up gives the host's)")
      ->envname("C1M_HOST_NAME");
  c->add_option("--max-body", o->service.max_body,
                "with --listen: the largest request body it reads (a record: 64m at most)")
      ->capture_default_str();
  c->add_option("--max-record-values", o->service.max_record_values,
                "with --listen: the most JSON values a hello or record may hold, counted before it is parsed; past "
                "it, 413 (a parsed record costs about 800 bytes a value)")
      ->capture_default_str();
  c->add_option("--max-connections", o->service.max_connections,
                "with --listen: HTTP connections open at once; past it, 503 and close")
      ->capture_default_str();
  c->add_option("--request-timeout", o->service.request_timeout,
                "with --listen: a request must arrive whole this long after its first byte; else 408 and close")
      ->capture_default_str();
  c->add_option("--spool", o->service.spool,
                "with --listen: where every hello and record is kept until its run is written (default OUT/.spool); "
                "a collector started on a spool takes up the runs it holds");
  c->add_option("--expect-count", o->service.expect_count, "with --listen: how many client records make the run");
  c->add_option("--deadline", o->service.deadline, "with --listen: write what has come by then")->capture_default_str();
  c->add_option("--dir", o->dir, "directory holding client-<name>.json records");
  c->add_option("--out", o->service.out, "directory for the run record")->capture_default_str();
  c->add_option("--approach", o->service.approach, "multi-ip or multi-port")->capture_default_str();
  // Not --expect: that is the server's connection count; this is a list of names.
  c->add_option("--expect-names", o->expect, "with --dir: comma list of client names that should have reported");
  c->add_option("--lab", o->lab_json,
                "with --dir: JSON file with what the lab knows (runtime, images, configured limits)");
  c->add_option("--lab-info", o->service.lab_info,
                "with --listen: KEY=VALUE of what the lab configured, for every record (repeat; dots nest)");
  c->add_option("--show", o->show, "print the summary of a merged record and exit with its status");
  c->add_option("--repetitions", o->repetitions,
                "records of one experiment run one after another: one record with repetitions[] (needs --output)");
  c->add_option("--output", o->output, "with --repetitions: the record to write");
  return {c, [o] { return run_collect(*o); }};
}

}  // namespace c1m::app
