#include "core/collector/run_book.hpp"

#include <algorithm>

#include "core/record/record.hpp"

namespace c1m {

uint64_t BookedRun::reported() const {
  uint64_t n = 0;
  for (const auto& [_, h] : clients) n += !h.record.is_null();  // an object, or true once written
  return n;
}

bool is_safe_name(const std::string& s, size_t max_length) {
  if (s.starts_with('.')) return false;  // a run id names a directory of the collector's spool
  return !s.empty() && s.size() <= max_length && std::all_of(s.begin(), s.end(), [](char c) {
    return c > ' ' && c < 127 && c != '/' && c != '\\' && c != '"';
  });
}

// Who sends it: its name, key and role, and for which run, read from the message alone.
std::string RunBook::identify(const ojson& body, Admission* a) const {
  if (!body.is_object()) return "expected a JSON object";
  // The participant's name: "name" in a hello, "participant" beside a record.
  const ojson* n = body.contains("participant") ? &body["participant"]
                   : body.contains("name")      ? &body["name"]
                                                : nullptr;
  if (!n || !n->is_string() || !is_safe_name(n->get<std::string>()))
    return "participant name: expected 1-128 printable characters";
  a->name = n->get<std::string>();
  if (body.contains("participant_key")) {
    const ojson& k = body["participant_key"];
    if (!k.is_string() || k.get<std::string>().size() < 16 || !is_safe_name(k.get<std::string>(), 128))
      return "participant_key: expected 16-128 printable characters (a participant's own secret)";
    a->key = k.get<std::string>();
  }
  std::string role = "client";
  if (body.contains("role")) {
    if (!body["role"].is_string() || (body["role"] != "client" && body["role"] != "server"))
      return "role: expected \"client\" or \"server\"";
    role = body["role"].get<std::string>();
  }
  a->is_server = role == "server";
  uint64_t expect = limits_.default_expect_clients;
  if (body.contains("run") && !body["run"].is_null()) {
    if (!body["run"].is_string() || !is_safe_name(body["run"].get<std::string>(), 64))
      return "run: expected an id of 1-64 printable characters";
    a->run = body["run"].get<std::string>();
    if (body.contains("expect_clients")) {
      const ojson& e = body["expect_clients"];
      if (!e.is_number_integer() || e.get<int64_t>() < 1 || e.get<int64_t>() > 100000)
        return "expect_clients: expected 1-100000";
      expect = e.get<uint64_t>();
    } else if (!a->is_server) {
      return "expect_clients: a client says how many clients its run has";
    }
  } else if (limits_.default_expect_clients) {
    a->run = "default";
  } else if (a->is_server) {
    return "run: a server names the run it reports (c1m server --run-id)";
  } else {
    a->run = a->name;  // a one-off client: a run of its own
    a->one_off = true;
    expect = 1;
  }
  a->expect_clients = a->is_server ? 0 : expect;
  return {};
}

// The participant's place among who its run has heard from: the heard one only sends again.
const Heard* RunBook::known(const BookedRun& r, const Admission& a) {
  if (a.is_server) return r.server && r.server->first == a.name ? &r.server->second : nullptr;
  auto it = r.clients.find(a.name);
  return it == r.clients.end() ? nullptr : &it->second;
}

std::string RunBook::admit(const ojson& body, Admission* a, int* status) const {
  if (std::string why = identify(body, a); !why.empty()) return why;
  const BookedRun* r = find(a->run);
  if (!r) {
    if (std::string path = written_before_ ? written_before_(a->run) : ""; !path.empty()) {
      if (status) *status = 409;
      return "run " + a->run + " was already written to " + path;
    }
    if (open_runs() >= limits_.max_open_runs) {
      if (status) *status = 503;  // a run is written soon: a participant tries again
      return "too many open runs (" + std::to_string(limits_.max_open_runs) + "): try again once one is written";
    }
    return {};
  }
  const Heard* heard = known(*r, *a);
  if (!r->written_to.empty()) {
    bool had_it = heard && (a->is_record ? !heard->record.is_null() : heard->hello_ms >= 0);
    if (had_it && !a->restoring && !heard->key.empty() && heard->key == a->key) {
      a->already_written_to = r->written_to;
      return {};
    }
    if (status) *status = 409;
    return "run " + a->run + " was already written to " + r->written_to;
  }
  if (!a->is_server) {
    const uint64_t expect = a->expect_clients;
    uint64_t run_expects = r->expect_clients ? r->expect_clients : expect;  // 0: the server spoke first
    if (expect != run_expects)
      return "expect_clients " + std::to_string(expect) + " disagrees with run " + a->run + "'s " +
             std::to_string(run_expects);
    if (!r->clients.count(a->name) && r->clients.size() >= run_expects)
      return "run " + a->run + " expects " + std::to_string(run_expects) + " clients and has heard from all of them";
  } else if (r->server && r->server->first != a->name) {
    return "run " + a->run + " has a server already (" + r->server->first + ")";
  }
  if (heard && !heard->key.empty() && heard->key != a->key) {
    if (status) *status = 403;
    return "participant " + a->name + " of run " + a->run +
           " is bound to another participant_key: only it may send under that name";
  }
  if (heard && heard->key.empty() && !heard->record.is_null() && a->is_record) {
    if (status) *status = 409;
    return "participant " + a->name + " of run " + a->run + " has a record already, and no key to replace it with";
  }
  return {};
}

// Every check comes before anything changes: a refused message, or one the keeper could not keep,
// leaves the book as it was.
std::string RunBook::take(const ojson& body, int64_t now_ms, int* status, bool is_record, bool restoring,
                          std::string* written_to) {
  ++changes_;
  if (status) *status = 400;
  Admission a;
  a.restoring = restoring;
  a.is_record = is_record;
  if (std::string why = admit(body, &a, status); !why.empty()) return why;
  if (!a.already_written_to.empty()) {
    if (written_to) *written_to = a.already_written_to;
    return {};
  }
  ojson kept = body;
  kept.erase("participant_key");  // a secret, not part of any record
  kept.erase("token");            // sent by builds before the token moved to the request's head
  std::string text = kept.dump();
  const size_t bytes = text.size();
  if (!is_record && bytes > limits_.max_hello_bytes)
    return "a hello is at most " + std::to_string(limits_.max_hello_bytes) +
           " bytes (this one: " + std::to_string(bytes) + ")";
  const BookedRun* r = find(a.run);
  const Heard* existing = nullptr;
  if (r && a.is_server && r->server && r->server->first == a.name) existing = &r->server->second;
  if (r && !a.is_server && r->clients.count(a.name)) existing = &r->clients.at(a.name);
  size_t replaced = !existing                   ? 0
                    : is_record                 ? existing->record_text.size()
                    : existing->hello.is_null() ? 0
                                                : existing->hello.dump().size();
  if (held_bytes_ - replaced + bytes > limits_.max_bytes_held) {
    if (status) *status = 503;
    return "the collector holds " + std::to_string(held_bytes_) + " bytes of runs not yet written, its limit is " +
           std::to_string(limits_.max_bytes_held) + ": try again once a run is written";
  }
  if (keeper_ && !restoring) {
    // The message moves through the keeper and back: a record of up to 64m is not copied for it.
    Filed filed{a.run, a.name, a.is_server, is_record, std::move(kept), a.key, now_ms};
    std::string why = keeper_(filed);
    if (!why.empty()) {
      if (status) *status = 507;
      return "the collector cannot keep it: " + why;
    }
    kept = std::move(filed.body);
  }
  auto it = runs_.find(a.run);
  if (it == runs_.end())
    it = runs_.emplace(a.run, BookedRun{a.run, a.expect_clients, now_ms, {}, std::nullopt, {}, {}}).first;
  BookedRun& run = it->second;
  run.one_off = run.one_off || a.one_off;
  if (!a.is_server && run.expect_clients == 0) run.expect_clients = a.expect_clients;  // the server spoke first
  run.opened_ms = std::min(run.opened_ms, now_ms);  // restored messages may be older than the run's first
  Heard& h = a.is_server ? (run.server ? run.server->second : run.server.emplace(a.name, Heard{}).second)
                         : run.clients[a.name];
  held_bytes_ = held_bytes_ - replaced + bytes;
  h.bytes = h.bytes - replaced + bytes;
  if (!a.key.empty()) h.key = a.key;
  if (is_record) {
    h.record = true;
    h.record_text = std::move(text);
    h.record_ms = now_ms;
  } else {
    h.hello = std::move(kept);
    h.hello_ms = now_ms;
  }
  return {};
}

std::string RunBook::hello(const ojson& body, int64_t now_ms, int* status, std::string* written_to) {
  return take(body, now_ms, status, false, false, written_to);
}

std::string RunBook::record(const ojson& body, int64_t now_ms, int* status, std::string* written_to) {
  return take(body, now_ms, status, true, false, written_to);
}

std::string RunBook::restore(const Filed& f) {
  if (f.key.empty()) return take(f.body, f.received_ms, nullptr, f.is_record, true);
  ojson body = f.body;
  body["participant_key"] = f.key;
  return take(body, f.received_ms, nullptr, f.is_record, true);
}

std::vector<std::pair<std::string, std::string>> RunBook::due(int64_t now_ms) const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [id, r] : runs_) {
    if (!r.written_to.empty()) continue;
    int64_t last_client_ms = 0;
    for (const auto& [_, h] : r.clients) last_client_ms = std::max(last_client_ms, h.record_ms);
    bool clients_done = r.expect_clients > 0 && r.reported() >= r.expect_clients;
    bool server_done = !r.server || !r.server->second.record.is_null();
    if (clients_done && server_done) {
      out.emplace_back(id, "every participant reported");
    } else if (clients_done && now_ms - last_client_ms >= limits_.server_grace_ms) {
      out.emplace_back(id, "every client reported; the server's report did not come within " +
                               std::to_string(limits_.server_grace_ms / 1000) + " s");
    } else if (r.closed && !clients_done) {  // a client died: name it now; a closing server keeps its grace
      out.emplace_back(id, "closed by the lab with " + std::to_string(r.reported()) + " of " +
                               std::to_string(r.expect_clients) + " client records, every participant having ended");
    } else if (now_ms - r.opened_ms >= limits_.deadline_ms) {
      out.emplace_back(id, "deadline " + limits_.deadline_text + " passed with " + std::to_string(r.reported()) +
                               " of " + std::to_string(r.expect_clients) + " records");
    }
  }
  return out;
}

CollectRequest RunBook::request(const std::string& id) const {
  CollectRequest req;
  const BookedRun* r = find(id);
  if (!r) return req;
  req.run_id = id == "default" ? "" : id;
  req.one_off = r->one_off;
  auto record_of = [](const Heard& h) {
    return h.record_text.empty() ? ojson(nullptr) : ojson::parse(h.record_text, nullptr, false);
  };
  auto problem = [](const Heard& h) {
    if (!h.record.is_null()) return std::string();
    return "said hello at " + iso8601_utc(h.hello_ms) + " (" + h.hello.value("connections", ojson(nullptr)).dump() +
           " connections from " + h.hello.value("addresses", ojson::array()).dump() + "), then never sent a record";
  };
  for (const auto& [name, h] : r->clients) {
    req.clients.push_back({name, "", record_of(h), problem(h)});
    const ojson& record = req.clients.back().record;
    if (req.approach.empty() && record.is_object() && record.contains("approach") && record["approach"].is_string())
      req.approach = record["approach"].get<std::string>();
  }
  for (size_t k = r->clients.size(); k < r->expect_clients; ++k)
    req.clients.push_back({"unknown-" + std::to_string(k + 1), "", nullptr,
                           "expected " + std::to_string(r->expect_clients) + " clients, heard from " +
                               std::to_string(r->clients.size())});
  if (r->server)
    req.server = Participant{r->server->first, "", record_of(r->server->second), problem(r->server->second)};
  if (req.approach.empty()) req.approach = "custom";
  return req;
}

void RunBook::written(const std::string& id, const std::string& path, const std::string& status) {
  ++changes_;
  auto it = runs_.find(id);
  if (it == runs_.end()) return;
  it->second.written_to = path;
  it->second.written_status = status;
  // What was merged is in the file now: keep the run's name and outcome, not its records.
  for (auto& [_, h] : it->second.clients) {
    held_bytes_ -= h.bytes;
    h = Heard{ojson(nullptr), h.hello_ms, h.record, {}, h.record_ms, 0, h.key};
  }
  if (it->second.server) {
    Heard& s = it->second.server->second;
    held_bytes_ -= s.bytes;
    s = Heard{ojson(nullptr), s.hello_ms, s.record, {}, s.record_ms, 0, s.key};
  }
}

ojson RunBook::receipt(const std::string& id) const {
  const BookedRun* r = find(id);
  if (!r || r->written_to.empty()) return nullptr;
  ojson who = ojson::array();
  auto add = [&](const std::string& name, const Heard& h, bool is_server) {
    if (h.key.empty()) return;  // keyless: nobody can show that a resent message is theirs
    who.push_back({{"name", name},
                   {"server", is_server},
                   {"key", h.key},
                   {"hello", h.hello_ms >= 0},
                   {"record", !h.record.is_null()}});
  };
  for (const auto& [name, h] : r->clients) add(name, h, false);
  if (r->server) add(r->server->first, r->server->second, true);
  return {{"run", id}, {"written_to", r->written_to}, {"status", r->written_status}, {"participants", who}};
}

bool RunBook::restore_written(const ojson& receipt) {
  ++changes_;
  auto text = [](const ojson& j, const char* key) {
    return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
  };
  std::string id = text(receipt, "run"), path = text(receipt, "written_to");
  if (!is_safe_name(id, 64) || path.empty() || !receipt.contains("participants") ||
      !receipt["participants"].is_array() || runs_.count(id))
    return false;
  BookedRun run{id, 0, 0, {}, std::nullopt, path, text(receipt, "status")};
  for (const ojson& p : receipt["participants"]) {
    std::string name = text(p, "name"), key = text(p, "key");
    if (!is_safe_name(name) || key.empty()) return false;
    Heard h;
    h.key = key;
    h.hello_ms = p.value("hello", false) ? 0 : -1;
    h.record = p.value("record", false) ? ojson(true) : ojson(nullptr);
    if (p.value("server", false))
      run.server.emplace(name, h);
    else
      run.clients[name] = h;
  }
  run.expect_clients = run.clients.size();
  runs_.emplace(id, std::move(run));
  return true;
}

bool RunBook::close(const std::string& id) {
  ++changes_;
  auto it = runs_.find(id);
  if (it == runs_.end() || !it->second.written_to.empty()) return false;
  it->second.closed = true;
  return true;
}

void RunBook::open_default(int64_t now_ms) {
  ++changes_;
  if (limits_.default_expect_clients && !runs_.count("default"))
    runs_.emplace("default", BookedRun{"default", limits_.default_expect_clients, now_ms, {}, std::nullopt, {}, {}});
}

std::vector<std::string> RunBook::open_ids() const {
  std::vector<std::string> out;
  for (const auto& [id, r] : runs_)
    if (r.written_to.empty()) out.push_back(id);
  return out;
}

const BookedRun* RunBook::find(const std::string& id) const {
  auto it = runs_.find(id);
  return it == runs_.end() ? nullptr : &it->second;
}

size_t RunBook::open_runs() const {
  return static_cast<size_t>(
      std::count_if(runs_.begin(), runs_.end(), [](const auto& kv) { return kv.second.written_to.empty(); }));
}

ojson RunBook::summary() const {
  ojson out = ojson::array();
  for (const auto& [id, r] : runs_) {
    ojson names = ojson::array();
    for (const auto& [name, h] : r.clients) names.push_back({{"name", name}, {"reported", !h.record.is_null()}});
    out.push_back(
        {{"run", id},
         {"state", r.written_to.empty() ? "open" : "written"},
         {"expect_clients", r.expect_clients},
         {"reported_clients", r.reported() + 0},
         {"clients", names},
         {"server", r.server ? ojson{{"name", r.server->first}, {"reported", !r.server->second.record.is_null()}}
                             : ojson(nullptr)},
         {"record", r.written_to.empty() ? ojson(nullptr) : ojson(r.written_to)},
         {"status", r.written_to.empty() ? ojson(nullptr) : ojson(r.written_status)}});
  }
  return out;
}

}  // namespace c1m
