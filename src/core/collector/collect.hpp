// One run record from many participants: every client container writes its own record, and the
// collector merges them (core/run_record's merge: sums, exact merged percentiles, a series aligned
// on wall time), names any participant that never reported, and adds the server's own report.
// Pure: records in, record out (the caller passes the time and the host).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace c1m {

using ojson = nlohmann::ordered_json;

struct Participant {
  std::string name;     // what the lab called it (container hostname)
  std::string file;     // where its record was read from; empty if none arrived
  ojson record;         // null if none arrived or it was unreadable
  std::string problem;  // why it has no record
};

struct CollectRequest {
  std::string run_id;  // the lab's name for the run; empty: a new id
  std::string approach;
  std::vector<Participant> clients;
  // The server's own report of the run (its /stats document when the run ended), pushed by it; when
  // absent, the latest /stats a client saw stands in.
  std::optional<Participant> server;
  // A client's run of its own (a one-off `compose run client`): the server it used serves other runs
  // too, so the server's lifetime figures (its peak, its ramp's CPU) are not this run's.
  bool one_off = false;
  ojson lab;                // what the lab knows: runtime, compose version, images, configured sysctls and ulimits
  ojson host;               // the collecting host's fingerprint (the caller reads it: the merge reads nothing)
  int64_t now_unix_ms = 0;  // the run's date when no client reported
};

// Empty when a client record can be merged, else the first field that cannot, with its JSON path
// (RunRecord::from_json: every figure of the type and in the range the merge assumes). The collector
// refuses such a record (400) rather than answer 200 and fail at the merge; the offline merge names
// it as a problem.
std::string check_mergeable(const ojson& record);

ojson merge_client_records(const CollectRequest& req);

}  // namespace c1m
