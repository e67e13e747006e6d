// The record's figures, a row each: the one list that the record's writer and reader, the merge of
// many clients, compare's metrics, the JSON schema's `results` and `memory` and docs/record.md's
// table of figures are made from (tests fail when the checked-in schema or table drift from it).
// To add a figure: its member in RunResults or RunMemory, its row here, where it is measured, a test.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/record/histogram.hpp"

namespace c1m {

struct RunRecord;

// What a figure may hold; each is read back through the record's one validator with this range.
enum class FigureKind {
  count,       // a whole count, 0 to 1e12
  delta,       // a whole number within 1e12 either way (a growth)
  seconds,     // 0 to a year
  rate,        // a second, 0 to 1e12
  cores,       // CPU cores, 0 to 1e6
  amount,      // 0 to 1e9 (CPU seconds and cores, per-unit figures)
  figure,      // any number within 1e12 either way
  structured,  // an object of its own (a summary, a histogram, a table): written and read by hand
};

// How one run of many clients gets the figure from theirs (merge() in run_record.cpp).
enum class MergeRule {
  sum,         // the clients' figures add up
  sum_if_all,  // add up; null if any client lacks it
  max,         // the largest
  median,      // each client read the same thing (the server): the median of their readings
  widest,      // host-wide readings: those of the client whose window saw the most sockets appear
  derived,     // computed from other merged figures
  custom,      // its own code in merge() or the collector, as the meaning says
};

enum class Better { not_compared, higher, lower };

// Whether a record may lack the key: the schema requires what every writer writes; the reader refuses
// a record without what nothing can be said without.
enum class Presence { optional, schema_requires, reader_requires };

struct RecordField {
  const char* section;  // "results" or "memory"
  const char* key;      // the JSON key and the member's name: snake_case, the unit in the name
  FigureKind kind;
  bool nullable;  // null: not measured (never a 0 standing in for unknown)
  Presence presence;
  MergeRule merge;
  Better better;        // compare's direction; not_compared: compare leaves it out
  const char* unit;     // compare's unit
  double noise_floor;   // compare: a change smaller than this, in the unit, is no change
  const char* meaning;  // one line: docs/record.md and the schema's description
  // Scalar figures: the member, as a number (counts up to 1e12 are exact in a double).
  std::optional<double> (*get)(const RunRecord&) = nullptr;
  void (*set)(RunRecord&, std::optional<double>) = nullptr;
  // Structured figures: the schema of the value; summaries: the percentiles compare reads from it,
  // each as a metric named <key less _ms>_<percentile>_ms ("p50 p99" of connect_latency_ms).
  const char* schema = nullptr;
  const char* compared_percentiles = nullptr;
  // Summaries: the histogram they are made from (compare reads a percentile from it, in ms).
  const Histogram* (*summary_of)(const RunRecord&) = nullptr;
};

const std::vector<RecordField>& record_fields();

// The schema of a section's figures ({type, required, properties}), as results/run-record.schema.json holds it.
nlohmann::ordered_json record_fields_schema(std::string_view section);

// docs/record.md's table of figures, a row each, in the record's order.
std::string record_fields_markdown();

}  // namespace c1m
