// The collector's book of runs. Every participant of a run carries the run's id: clients say how many
// clients the run has; the server, if it says hello, is expected too. A client that names no run is a
// run of its own (a one-off); with --expect-count, every message belongs to the one run. A run is written once when
// every expected client has reported and the server has (or a grace period after the last client has passed), or when
// its deadline passes, naming whoever never reported. Pure: the time is passed in.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/collector/collect.hpp"

namespace c1m {

struct Heard {
  ojson hello;  // what it said when it started (null if it never said hello)
  int64_t hello_ms = -1;
  ojson record;             // true once its record (a client's run record, the server's stats) came; else null
  std::string record_text;  // that record, held as compact text until its run is written: a parsed
                            // record takes several times its text, and 1,000 held ones took 200 MiB
  int64_t record_ms = -1;
  size_t bytes = 0;  // of hello and record as held (counted against RunBookLimits::max_bytes_held)
  std::string key;   // the participant's own secret, bound by its first message: only it may send again
};

struct BookedRun {
  std::string id;
  uint64_t expect_clients = 0;
  int64_t opened_ms = 0;
  std::map<std::string, Heard> clients;  // by participant name
  std::optional<std::pair<std::string, Heard>> server;
  std::string written_to;  // the record's path, once written
  std::string written_status;
  bool closed = false;   // the lab said every participant has ended: write what came
  bool one_off = false;  // a client that named no run: a run of its own
  uint64_t reported() const;
};

struct RunBookLimits {
  int64_t deadline_ms = 30 * 60 * 1000;  // from a run's first message to writing what it has
  // After the last client's record, for the server's report: a server reports once its last connection
  // has closed, and a 1M server starved in its live hold (1,024 CPU shares) once took over 5 s.
  int64_t server_grace_ms = 15000;
  uint64_t default_expect_clients = 0;  // for messages with no run id (c1m collect --expect-count); 0: refused
  std::string deadline_text = "30m";    // the deadline as the user gave it, for the reason
  size_t max_open_runs = 256;
  size_t max_hello_bytes = 64 * 1024;       // a hello is a name, addresses and a count
  size_t max_bytes_held = size_t{2} << 30;  // hellos and records of runs not yet written
};

// One message as the book files it: whose, which kind, and what (its token taken out).
struct Filed {
  std::string run;
  std::string name;
  bool is_server = false;
  bool is_record = false;  // else a hello
  ojson body;
  std::string key;  // the participant's key (taken out of the body: a secret, never in a record)
  int64_t received_ms = 0;
};

class RunBook {
 public:
  // Keeps a message somewhere that outlives the process (the collector's spool) before the book
  // takes it; empty when kept, else why not (the message is then refused with 507).
  using Keeper = std::function<std::string(const Filed&)>;
  // Where a run written by an earlier collector is (its record's path), or empty: such a run takes no
  // more messages, and its leftovers in a spool are not written again.
  using WrittenBefore = std::function<std::string(const std::string& run)>;

  explicit RunBook(RunBookLimits limits, Keeper keeper = nullptr, WrittenBefore written_before = nullptr)
      : limits_(limits), keeper_(std::move(keeper)), written_before_(std::move(written_before)) {}

  // A participant's hello, or its record (the caller has checked a record's own shape and the lab's
  // token). Empty when taken, else why not, for a 4xx: {run, name, role: client|server,
  // expect_clients, participant_key} are checked here. A participant's first message binds its
  // "participant_key"; a later message under its name must carry the same one, so no participant
  // can replace another's hello or record. `status` is the HTTP status to answer a refusal with: 400
  // bad, 403 another participant's name, 409 the run was already written (or a keyless
  // participant's record is taken already), 503 too many open runs or more than max_bytes_held
  // (try again once a run is written).
  // A participant that sends again, with its key, what the book took before its run was written (its
  // answer was lost: the collector was killed before it went out) is not refused: it is in the record.
  // Nothing changes, and `written_to` says where that record is.
  std::string hello(const ojson& body, int64_t now_ms, int* status = nullptr, std::string* written_to = nullptr);
  std::string record(const ojson& body, int64_t now_ms, int* status = nullptr, std::string* written_to = nullptr);
  // A message kept by an earlier collector (its spool), taken again as it was: no token, no keeper.
  std::string restore(const Filed& filed);
  size_t bytes_held() const { return held_bytes_; }

  // Runs to write now, each with why.
  std::vector<std::pair<std::string, std::string>> due(int64_t now_ms) const;
  // What the merge needs: every client heard of (or expected and never heard of), and the server.
  CollectRequest request(const std::string& id) const;
  void written(const std::string& id, const std::string& path, const std::string& status);
  // A written run's receipt: where it went and whose messages it took, with their keys, so that a
  // later collector on the same spool still knows a participant's resent message for one it has.
  ojson receipt(const std::string& id) const;
  // Takes a receipt up again (an earlier collector's); false when it is not one.
  bool restore_written(const ojson& receipt);
  // The lab knows every participant has ended (their containers exited): the run is due now. False
  // for an unknown or written run.
  bool close(const std::string& id);
  // The run of messages with no id (--expect-count), opened now if nobody has spoken yet.
  void open_default(int64_t now_ms);
  std::vector<std::string> open_ids() const;

  const BookedRun* find(const std::string& id) const;
  ojson summary() const;  // every run: id, expected and reported, written where
  size_t open_runs() const;
  // Counts the calls that may change the book: a summary made at one count holds until it moves.
  uint64_t changes() const { return changes_; }

 private:
  struct Admission {
    bool restoring = false;
    bool is_record = false;
    std::string run, name;
    bool is_server = false;
    uint64_t expect_clients = 0;
    std::string key;
    bool one_off = false;
    std::string already_written_to;  // a resent message its written run has: nothing to take
  };
  // Whose message it is and for which run (opened when the message is taken); or why not. Changes nothing.
  std::string admit(const ojson& body, Admission* admission, int* status) const;
  std::string identify(const ojson& body, Admission* admission) const;
  static const Heard* known(const BookedRun& run, const Admission& admission);
  // Files a hello or a record under its run and participant.
  std::string take(const ojson& body, int64_t now_ms, int* status, bool is_record, bool restoring,
                   std::string* written_to = nullptr);

  RunBookLimits limits_;
  Keeper keeper_;
  WrittenBefore written_before_;
  std::map<std::string, BookedRun> runs_;
  size_t held_bytes_ = 0;
  uint64_t changes_ = 0;
};

// A name or id that may go into logs, paths and records: 1-128 printable ASCII characters, no
// spaces or control characters (a newline in a name would forge a log line), no '/', and no leading
// '.' (a hidden file, which a directory listing passes over).
bool is_safe_name(const std::string& s, size_t max_length = 128);

}  // namespace c1m
