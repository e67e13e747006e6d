#!/usr/bin/env bash
# The lab at small scale (make test): 20 client containers x 500 connections on macvlan. Asserts from
# the record, not from logs. Without a Docker engine it says SKIPPED and why; it never passes silently.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lab/check.sh  # check DESCRIPTION COMMAND...: counted in passed, failed
skip_without_docker "lab test" "the lab was not tested"
# Under the compose tool given (the Makefile runs it under each): Debian's docker-compose and the v2 plugin.
COMPOSE=${COMPOSE:-$(docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)}
export COMPOSE
if ! $COMPOSE version >/dev/null 2>&1; then
  echo "SKIPPED: lab test under '$COMPOSE': not installed here; the lab was not tested with it"
  exit 0
fi
echo "lab test under $COMPOSE ($($COMPOSE version --short 2>/dev/null)): 20 client containers x 500 connections (multi-ip) on macvlan"

# Bad lab input: one line, exit 2, before anything starts.
lab_containers() { docker ps -aq --filter label=com.docker.compose.project=c1m | sort; }
bad() {  # expected text, env assignments...
  local says=$1; shift
  local out rc before
  before=$(lab_containers)  # a lab left up by an earlier make lab-up stays as it was
  out=$(env "$@" lab/lab.sh up 2>&1); rc=$?
  [ "$rc" -eq 2 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && [[ "$out" == *"$says"* ]] ||
    { echo "    got exit $rc: $out"; return 1; }
  [ "$(lab_containers)" = "$before" ] || { echo "    containers changed: $(lab_containers)"; return 1; }
}
check "unknown approach refused" bad "unknown approach" APPROACH=sideways
check "subnet too small for 20 clients refused" bad "holds fewer than 20 clients" C1M_SUBNET=198.18.0.0/28
check "missing parent interface refused" bad "no such network interface" C1M_PARENT=c1mnosuch0
check "more than the preflight allows refused" bad "more than this host can hold" N=900000000

before=$(ls results/*-multi-ip-*.json 2>/dev/null | wc -l)
# The hold outlasts the stagger of 20 container starts, so all 10,000 are held at once.
out=$(N=10000 HOLD=6s lab/lab.sh up 2>&1); rc=$?
echo "$out" | grep -E "^(lab|c1m collect|  )" | sed 's/^/    /'
check "lab-up exits 0" test "$rc" -eq 0
record=$(ls -t results/*-multi-ip-*.json 2>/dev/null | head -1)
check "lab-up wrote a new record" test "$(ls results/*-multi-ip-*.json 2>/dev/null | wc -l)" -gt "$before"

# Each assertion on the record prints its own ok/FAIL line and is counted like the others.
record_checks() {  # record
  python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
res, parts = r["results"], r["participants"]
clients = [p for p in parts if p.get("role") == "client"]
env = dict(l.rstrip("\n").split("=", 1) for l in open(".env") if "=" in l)
def check(what, ok):
    print(f"  {'ok   ' if ok else 'FAIL '} {what}")
    return ok
addresses = {a for p in clients for a in p["addresses"]}
server = r["server"] or {}
results = [
    check("record status complete", r["status"] == "complete"),
    check("10,000 established (clients)", res["established_peak_client"] == 10000),
    check("10,000 established (server)", res["established_peak_server"] == 10000),
    check("zero errors", res["errors_total"] == 0),
    check("all 10,000 held together through the 6 s hold (the merged series, a point a second)",
          sum(1 for p in r["series"] if p["established"] == 10000) >= 5),
    check("the collector service wrote it, for lab-up's run id", r["run_id"] == env.get("C1M_RUN_ID")),
    check("20 clients, 20 distinct client IPs in 198.18.0.0/15",
          len(clients) == 20 and len(addresses) == 20 and all(a.startswith("198.18.") or a.startswith("198.19.") for a in addresses)),
    check("client sysctl ip_local_port_range read back as configured",
          all(p["sysctls"]["net.ipv4.ip_local_port_range"] == "1024 65535" for p in clients)),
    check("client nofile read back as configured (20000)", all(p["limits"]["nofile_hard"] == 20000 for p in clients)),
    check("server sysctls read back as configured",
          server.get("sysctls", {}).get("namespaced", {}) .get("net.core.somaxconn") == "65535"
          and server["sysctls"]["namespaced"]["net.ipv4.tcp_max_syn_backlog"] == "65535"
          and server["sysctls"]["namespaced"]["net.ipv4.tcp_migrate_req"] == "1"),
    check("server nofile read back as configured (20000)", server.get("limits", {}).get("nofile_hard") == 20000),
    check("clients and server ran under the scheduling policy configured for approach 1 (normal, read back)",
          r["lab"]["configured"]["sched"] == "normal" and server.get("limits", {}).get("sched_policy") == "normal"
          and all(p["limits"].get("sched_policy") == "normal" for p in clients)),
    check("CPU shares read back in each container's cgroup as configured (server and clients 1024)",
          server.get("limits", {}).get("cpu_shares") == 1024 and all(p["limits"].get("cpu_shares") == 1024 for p in clients)),
    check("the server's own TcpExt counters are in the record (its namespace)",
          isinstance(res.get("tcpext_delta_server"), dict) and "ListenOverflows" in res["tcpext_delta_server"]),
    check("the server is a participant and sent its own report when the run's connections had gone",
          any(p["role"] == "server" and p["status"] == "reported" for p in parts)
          and server.get("ended_because") == "every connection of the run has closed"),
    check("the record names the runtime and the macvlan parent (the collector's configuration)",
          r["lab"]["runtime"].startswith("docker") and r["lab"]["network"]["parent"] == "c1m0"),
]
sys.exit(0 if all(results) else 1)
PY
}
if [ -n "$record" ]; then
  lines=$(record_checks "$record" 2>&1); rc=$?
  echo "$lines"
  ok_lines=$(grep -c '^  ok ' <<<"$lines")
  fail_lines=$(grep -c '^  FAIL' <<<"$lines")
  passed=$((passed + ok_lines)) failed=$((failed + fail_lines))
  # A crash (a key missing from the record) prints no FAIL line of its own: count it.
  if [ "$rc" -ne 0 ] && [ "$fail_lines" -eq 0 ]; then failed=$((failed + 1)); echo "  FAIL  the record could not be read: exit $rc"; fi
fi

# The README's one-off client against the running lab: its own address, its record in the run's directory.
run_dir=$(sed -n 's/^C1M_RUN_DIR=//p' .env 2>/dev/null)
one_off_checks() {  # record, expected status, expected established
  python3 - "$@" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ok = r["status"] == sys.argv[2] and r["results"]["established_peak_client"] == int(sys.argv[3]) \
     and all(a.startswith("198.18.") for a in r["host"]["addresses"])
print(f"    {sys.argv[1]}: {r['status']}, {r['results']['established_peak_client']} established, from {r['host']['addresses']}")
sys.exit(0 if ok else 1)
PY
}
if [ -n "$run_dir" ]; then
  out=$($COMPOSE -p c1m run --rm client 2>&1); rc=$?
  check "$COMPOSE run client exits 0" test "$rc" -eq 0 || echo "$out" | tail -3 | sed 's/^/    /'
  newest=$(ls -t "$run_dir"/client-*.json 2>/dev/null | head -1)
  check "the one-off client's record: complete, 500 established from a lab address" one_off_checks "$newest" complete 500
  # A one-off names no run: the collector makes it a run of its own (named after the client, which
  # says where its record is) and writes it.
  one_off=$(sed -n 's/^  collector    run \([^:]*\): its record is GET .*/\1/p' <<<"$out")
  check "the one-off client names its run at the collector (${one_off:-none})" test -n "$one_off"
  collected=""
  # 202 while the run is open (it is written at the collector's next tick), 200 with the record.
  for _ in $(seq 1 30); do
    [ "$(curl -s -o /tmp/c1m-one-off.json -w '%{http_code}' "http://127.0.0.1:9200/runs/$one_off")" = 200 ] &&
      collected=$(cat /tmp/c1m-one-off.json) && break
    sleep 0.2
  done
  check "the collector wrote the one-off's record (GET /runs/$one_off): complete" \
    bash -c '[[ "$1" == *"\"status\": \"complete\""* ]]' _ "$collected"
  server_peak=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["results"]["established_peak_server"])' \
    <<<"$collected" 2>/dev/null)
  check "its record says what the server held during it (500), not the server's lifetime peak (got $server_peak)" \
    test "$server_peak" = 500

  # PID 1 is c1m: docker stop's SIGTERM ends it well inside the grace period, with its record.
  id=$(C1M_HOLD=10m $COMPOSE -p c1m run -d client 2>/dev/null | tail -1)
  host=$(docker inspect -f '{{.Config.Hostname}}' "$id" 2>/dev/null)
  for _ in $(seq 1 50); do docker logs "$id" 2>&1 | grep -c '^hold' >/dev/null && break; sleep 0.2; done
  started=$SECONDS
  docker stop -t 20 "$id" >/dev/null 2>&1
  took=$((SECONDS - started))
  check "docker stop ends a holding client in ${took} s (grace period 20 s)" test "$took" -lt 15
  check "it exits 130 (interrupted)" test "$(docker inspect -f '{{.State.ExitCode}}' "$id" 2>/dev/null)" = 130
  check "it leaves its record, status interrupted, 500 held" one_off_checks "$run_dir/client-$host.json" interrupted 500
else
  check "lab-up left a .env naming its run directory" false
fi

# A client killed mid-run is named in the run's record, and a bad POST to the collector meanwhile is
# refused (400) while the run's record is still written.
run_id=$(sed -n 's/^C1M_RUN_ID=//p' .env 2>/dev/null)
out_file=$(mktemp)
N=2000 HOLD=20s lab/lab.sh up >"$out_file" 2>&1 &
lab_pid=$!
new_id=""
for _ in $(seq 1 300); do
  new_id=$(sed -n 's/^C1M_RUN_ID=//p' .env 2>/dev/null)
  [ "$new_id" != "$run_id" ] && curl -sf http://127.0.0.1:9100/stats 2>/dev/null | grep -q '"connections_peak":2000' && break
  sleep 0.2
done
bad_code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data "{\"participant\": 5, \"run\": \"$new_id\"}" http://127.0.0.1:9200/record)
check "a POST /record without the lab's token gets 403 during the run (got $bad_code)" test "$bad_code" = 403
token=$(cat build/lab/run-token 2>/dev/null)
bad_code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $token" --data "{\"participant\": 5, \"run\": \"$new_id\"}" http://127.0.0.1:9200/record)
check "a POST /record with the token that is not a participant's gets 400 during the run (got $bad_code)" test "$bad_code" = 400
close_code=$(curl -s -o /dev/null -w '%{http_code}' -X POST http://127.0.0.1:9200/runs/$new_id/close)
check "closing the run without the token gets 403 (got $close_code)" test "$close_code" = 403
close_code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $token" http://127.0.0.1:9200/runs/$new_id/close)
check "closing the run with the participants' token gets 403: only the lab closes (got $close_code)" test "$close_code" = 403
victim=$(docker ps -q --filter label=com.docker.compose.project=c1m --filter label=com.docker.compose.service=client | head -1)
victim_host=$(docker inspect -f '{{.Config.Hostname}}' "$victim" 2>/dev/null)
docker kill "$victim" >/dev/null 2>&1
wait "$lab_pid"; rc=$?
killed_record=$(sed -n 's/^  record *//p' "$out_file")
grep -E "^lab: client|^c1m collect" "$out_file" | cut -c1-200 | sed 's/^/    /'
check "the run with a killed client ends failed (exit $rc)" test "$rc" -eq 1
killed_checks() {  # record, victim hostname
  python3 - "$@" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
parts = r["participants"]
victim = [p for p in parts if p["name"].startswith(sys.argv[2] + "-")]
ok = r["status"] == "failed" and len(victim) == 1 and victim[0]["status"] == "missing" \
     and "then never sent a record" in victim[0]["problem"] \
     and sum(p["role"] == "client" and p["status"] == "complete" for p in parts) == 19 \
     and any(p["role"] == "server" and p["status"] == "reported" for p in parts)
print(f"    {sys.argv[1]}: {r['status']}; the killed client: {victim[0] if victim else None}")
sys.exit(0 if ok else 1)
PY
}
check "its record names the killed client as missing, beside 19 complete clients and the server" killed_checks "$killed_record" "$victim_host"
rm -f "$out_file"

# The lab untracked (C1M_CONNTRACK=off, as root) with a live hold: every namespace's table stays
# empty while all 4,000 are held, and every connection answers in each of two 1 s intervals. The
# server ramps at Docker's weight and is weighed as its 20 clients once it holds all 4,000.
if [ "$(id -u)" -eq 0 ]; then
  out=$(C1M_CONNTRACK=off N=4000 HOLD=3s LIVE=2s C1M_PING_INTERVAL=1s lab/lab.sh up 2>&1); rc=$?
  echo "$out" | grep -E "^(c1m collect|  (ramp cpu|live)|lab: the server)" | sed 's/^/    /'
  check "an untracked lab run with a live hold exits 0" test "$rc" -eq 0
  check "lab-up weighed the server as its 20 clients once it held all 4,000" grep -q "the server holds 4000: its CPU weight is now 20480" <<<"$out"
  check "the server container's CPU shares are 20480 after the run (docker inspect)" \
    test "$(docker inspect -f '{{.HostConfig.CpuShares}}' "$(docker ps -q --filter label=com.docker.compose.service=server)")" = 20480
  untracked_checks() {  # record
    python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
x, server = r["results"], r["server"] or {}
def check(what, ok):
    print(f"  {'ok   ' if ok else 'FAIL '} {what}")
check("the record says the lab's connections were untracked", r["lab"]["configured"].get("connection_tracking") == "off")
check("the server's namespace tracked next to nothing at its peak (not 4,000)", (server.get("conntrack") or {}).get("count", 99) < 50)
check("nor did the clients' (the widest client's namespace)", (x.get("conntrack_at_peak") or {}).get("count", 99) < 50)
check("the live hold: >= 2 answers a connection, none late, none unanswered",
      x["pongs_received"] >= 2 * 4000 - 100 and x["pings_late"] == 0 and x["errors"].get("no_answer") == 0)
check("the live hold's CPU and rate are in the record", x["live_pings_per_s"] > 0 and x["live_cpu_cores_client"] is not None)
check("and the machine's busy cores over it", (x.get("live_cpu_machine_busy_cores") or 0) > 0)
configured = r["lab"]["configured"]
check("the record says the server ramped at 1024 and held at 20480",
      configured.get("server_cpu_shares") == "1024" and configured.get("server_cpu_shares_held") == "20480")
check("the server read 1024 back at its start, in the ramp", (server.get("limits") or {}).get("cpu_shares") == 1024)
clients = [p for p in r["participants"] if p.get("role") == "client"]
check("the live hold ran under the live policy: normal, read back in every client's workers and the server's",
      configured.get("live_sched") == "normal" and server.get("workers_sched_policy") == "normal"
      and clients and all(p["limits"].get("live_sched_policy") == "normal" for p in clients))
PY
  }
  lines=$(untracked_checks "$(cat build/lab/last-record 2>/dev/null)" 2>&1)
  echo "$lines"
  passed=$((passed + $(grep -c '^  ok ' <<<"$lines")))
  failed=$((failed + $(grep -c '^  FAIL' <<<"$lines")))
  # C1M_CONNTRACK=server: the clients untracked, the server's namespace tracking each connection once.
  out=$(C1M_CONNTRACK=server N=2000 HOLD=2s lab/lab.sh up 2>&1); rc=$?
  check "a lab run tracked by the server's namespace only exits 0" test "$rc" -eq 0
  check "its record says so; the server's namespace tracked all 2,000 at its peak, the widest client's next to nothing" \
    test "$(python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))
print(r["lab"]["configured"].get("connection_tracking"), (r["server"]["conntrack"] or {}).get("count", 0) >= 2000,
      (r["results"]["conntrack_at_peak"] or {}).get("count", 99) < 50)' "$(cat build/lab/last-record 2>/dev/null)" 2>&1)" = "server True True"
else
  echo "  SKIPPED: the untracked lab (C1M_CONNTRACK=off and server need root); not tested"
fi

# A one-off of the other compose tool, left running: lab-down removes it too.
other=$([ "$COMPOSE" = docker-compose ] && echo "docker compose" || echo docker-compose)
if $other version >/dev/null 2>&1; then
  C1M_HOLD=10m $other -p c1m run -d client >/dev/null 2>&1
  check "a one-off client of $other runs before lab-down" \
    test -n "$(docker ps -q --filter label=com.docker.compose.project=c1m --filter label=com.docker.compose.oneoff=True)"
fi
down_out=$(lab/lab.sh down 2>&1); rc=$?
check "lab-down exits 0, one-offs of either compose tool included (got $rc: $(tail -1 <<<"$down_out"))" test "$rc" -eq 0
check "lab-down leaves no container" test -z "$(docker ps -aq --filter label=com.docker.compose.project=c1m)"
check "lab-down leaves no network" test -z "$(docker network ls -q --filter label=com.docker.compose.project=c1m)"
check "lab-down leaves no veth" bash -c '! ip link show c1m0 >/dev/null 2>&1'

echo "lab ($COMPOSE): $passed passed, $failed failed"
[ "$failed" -eq 0 ]
