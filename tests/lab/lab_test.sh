#!/usr/bin/env bash
# The lab at small scale (make test): 20 client containers x 500 connections on macvlan. Asserts from
# the record, not from logs. Without a Docker engine it says SKIPPED and why; it never passes silently.
set -uo pipefail
cd "$(dirname "$0")/../.."
passed=0 failed=0
check() {  # description, command...
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "  ok    $what"; else failed=$((failed + 1)); echo "  FAIL  $what"; fi
}

if ! docker info >/dev/null 2>&1; then
  echo "SKIPPED: lab test: no Docker engine answers here (docker info failed); the lab was not tested"
  exit 0
fi
echo "lab test: 20 client containers x 500 connections (multi-ip) on macvlan"

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
def check(what, ok):
    print(f"  {'ok   ' if ok else 'FAIL '} {what}")
    return ok
addresses = {a for p in parts for a in p["addresses"]}
server = r["server"] or {}
results = [
    check("record status complete", r["status"] == "complete"),
    check("10,000 established (clients)", res["established_peak_client"] == 10000),
    check("10,000 established (server)", res["established_peak_server"] == 10000),
    check("zero errors", res["errors_total"] == 0),
    check("all 10,000 held together through the 6 s hold (the merged series, a point a second)",
          sum(1 for p in r["series"] if p["established"] == 10000) >= 5),
    check("20 participants, 20 distinct client IPs in 198.18.0.0/15",
          len(parts) == 20 and len(addresses) == 20 and all(a.startswith("198.18.") or a.startswith("198.19.") for a in addresses)),
    check("client sysctl ip_local_port_range read back as configured",
          all(p["sysctls"]["net.ipv4.ip_local_port_range"] == "1024 65535" for p in parts)),
    check("client nofile read back as configured (20000)", all(p["limits"]["nofile_hard"] == 20000 for p in parts)),
    check("server sysctls read back as configured",
          server.get("sysctls", {}).get("namespaced", {}) .get("net.core.somaxconn") == "65535"
          and server["sysctls"]["namespaced"]["net.ipv4.tcp_max_syn_backlog"] == "65535"
          and server["sysctls"]["namespaced"]["net.ipv4.tcp_migrate_req"] == "1"),
    check("server nofile read back as configured (20000)", server.get("limits", {}).get("nofile_hard") == 20000),
    check("clients and server ran under the scheduling policy configured for approach 1 (normal, read back)",
          r["lab"]["configured"]["sched"] == "normal" and server.get("limits", {}).get("sched_policy") == "normal"
          and all(p["limits"].get("sched_policy") == "normal" for p in parts)),
    check("CPU shares read back as configured (server and clients 1024)",
          r["lab"].get("cpu_shares") == {"server": 1024, "clients": [1024]}),
    check("the server's own TcpExt counters are in the record (its namespace)",
          isinstance(res.get("tcpext_delta_server"), dict) and "ListenOverflows" in res["tcpext_delta_server"]),
    check("every participant is named with its container",
          all(p.get("container", "").startswith("c1m") for p in parts)),
    check("the record names the images and the macvlan parent",
          r["lab"]["images"]["client"].startswith("sha256:") and r["lab"]["network"]["parent"] == "c1m0"),
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
COMPOSE=${COMPOSE:-$(docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)}
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

  # PID 1 is c1m: docker stop's SIGTERM ends it well inside the grace period, with its record.
  id=$(C1M_HOLD=10m $COMPOSE -p c1m run -d client 2>/dev/null | tail -1)
  host=$(docker inspect -f '{{.Config.Hostname}}' "$id" 2>/dev/null)
  for _ in $(seq 1 50); do docker logs "$id" 2>&1 | grep -q '^hold' && break; sleep 0.2; done
  started=$SECONDS
  docker stop -t 20 "$id" >/dev/null 2>&1
  took=$((SECONDS - started))
  check "docker stop ends a holding client in ${took} s (grace period 20 s)" test "$took" -lt 15
  check "it exits 130 (interrupted)" test "$(docker inspect -f '{{.State.ExitCode}}' "$id" 2>/dev/null)" = 130
  check "it leaves its record, status interrupted, 500 held" one_off_checks "$run_dir/client-$host.json" interrupted 500
else
  check "lab-up left a .env naming its run directory" false
fi

lab/lab.sh down >/dev/null 2>&1
check "lab-down leaves no container" test -z "$(docker ps -aq --filter label=com.docker.compose.project=c1m)"
check "lab-down leaves no network" test -z "$(docker network ls -q --filter label=com.docker.compose.project=c1m)"
check "lab-down leaves no veth" bash -c '! ip link show c1m0 >/dev/null 2>&1'

echo "lab: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
