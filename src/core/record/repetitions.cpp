#include "core/record/repetitions.hpp"

#include <string>

#include "core/record/compare.hpp"
#include "core/units.hpp"

namespace c1m {

using ojson = nlohmann::ordered_json;

ojson merge_repetitions(const std::vector<ojson>& records, size_t asked, bool stopped) {
  if (records.empty()) return nullptr;
  ojson record = records.back();
  if (asked <= 1) return record;
  ojson reps = ojson::array();
  std::string status = "complete", reason;
  auto add_reason = [&reason](const std::string& why) { append_clause(reason, why); };
  for (size_t k = 0; k < records.size(); ++k) {
    const ojson& rec = records[k];
    ojson rep = {{"repetition", k + 1}, {"status", rec["status"]}, {"started_at", rec["started_at"]}};
    for (const auto& m : compared_metrics()) {
      ojson::json_pointer p(m.pointer);
      rep[m.name] = rec.contains(p) ? rec.at(p) : ojson(nullptr);
    }
    reps.push_back(rep);
    if (rec["status"] != "complete") {
      // interrupted outranks failed: the series did not end by itself
      status = rec["status"] == "interrupted" || status == "interrupted" ? "interrupted" : "failed";
      add_reason("repetition " + std::to_string(k + 1) + ": " +
                 (rec["reason"].is_string() ? rec["reason"].get<std::string>() : rec["status"].get<std::string>()));
    }
  }
  if (stopped || records.size() < asked) {
    status = "interrupted";
    add_reason(std::to_string(records.size()) + " of " + std::to_string(asked) + " repetitions ran");
  }
  record["status"] = status;
  record["reason"] = reason.empty() ? ojson(nullptr) : ojson(reason);
  record["config"]["repeat"] = asked;
  record["repetitions"] = reps;
  return record;
}

}  // namespace c1m
