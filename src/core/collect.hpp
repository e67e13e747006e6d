// One run record from many participants: every client container writes its own record, and the
// collector merges them (sums, exact merged percentiles, a series aligned on wall time) and names
// any participant that never reported. Pure: records in, record out.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace c1m {

using ojson = nlohmann::ordered_json;

struct Participant {
  std::string name;   // what the lab called it (container hostname)
  std::string file;   // where its record was read from; empty if none arrived
  ojson record;       // null if none arrived or it was unreadable
  std::string problem;  // why it has no record
};

struct CollectRequest {
  std::string approach;
  std::vector<Participant> clients;
  ojson lab;  // what the lab knows: runtime, compose version, images, configured sysctls and ulimits
};

ojson merge_client_records(const CollectRequest& req);


}  // namespace c1m
