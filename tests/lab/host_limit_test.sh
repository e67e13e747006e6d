#!/usr/bin/env bash
# A host whose limit is lower than the run (make test): the first-contact issue's stock host, made
# small. net.netfilter.nf_conntrack_max is lowered for the test and restored on any exit. Natively
# (server and client on the loopback of a network namespace made here, with connection tracking on)
# and in the lab: the doctor's size completes with 0 errors; a run forced past it fails soon after the
# stall, its record's reason naming the full table. Needs root; says SKIPPED and why otherwise.
set -uo pipefail
cd "$(dirname "$0")/../.."
C1M=${C1M:-build/c1m}
LIMIT=6000
. tests/lab/check.sh  # check DESCRIPTION COMMAND...: counted in passed, failed
skip() { echo "SKIPPED: host-limit test: $*"; exit 0; }

[ "$(id -u)" -eq 0 ] || skip "needs root to lower net.netfilter.nf_conntrack_max; nothing was tested"
old_max=$(sysctl -n net.netfilter.nf_conntrack_max 2>/dev/null) || skip "no connection tracking on this host (nf_conntrack_max absent); nothing was tested"
ns=c1m-limit-$$
tmp=$(mktemp -d)
server_pid=""
# Every process in the test's namespace: $! is the subshell that ran `ip netns exec`, not the server
# it started, so killing $! alone left the server running out its --duration after the test.
stop_ns_processes() {
  local pids
  pids=$(ip netns pids "$ns" 2>/dev/null)
  [ -n "$pids" ] || return 0
  kill $pids 2>/dev/null
  for _ in $(seq 1 50); do [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && return 0; sleep 0.1; done
  kill -KILL $(ip netns pids "$ns" 2>/dev/null) 2>/dev/null
}
restore() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  stop_ns_processes
  sysctl -qw net.netfilter.nf_conntrack_max="$old_max"
  ip netns del "$ns" 2>/dev/null
  [ -n "${lab_used:-}" ] && lab/lab.sh down >/dev/null 2>&1
  rm -rf "$tmp"
  echo "  (restored net.netfilter.nf_conntrack_max to $(sysctl -n net.netfilter.nf_conntrack_max))"
}
trap restore EXIT
trap 'exit 130' INT TERM

# One field of a record: a JSON pointer's value, or "" when absent.
field() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); [v:=v[k] for k in sys.argv[2].split("/") if k]; print(v)' "$1" "$2" 2>/dev/null; }
contains() { [[ "$1" == *"$2"* ]] || { echo "    not found: $2"; return 1; }; }

echo "host-limit test: net.netfilter.nf_conntrack_max lowered from $old_max to $LIMIT"
ip netns add "$ns" || skip "cannot make a network namespace (ip netns add)"
in_ns() { ip netns exec "$ns" "$@"; }
in_ns ip link set lo up
# A fresh namespace tracks nothing until a rule needs it; the host's (and Docker's) rules do.
in_ns iptables -A INPUT -m conntrack --ctstate INVALID -j DROP 2>/dev/null ||
  skip "iptables cannot turn connection tracking on in a test namespace; nothing was tested"
sysctl -qw net.netfilter.nf_conntrack_max=$LIMIT

echo "natively: server and client on the loopback of namespace $ns"
read -r max limit < <(in_ns "$C1M" doctor -n 1m --both-ends-here --pairs 20 --print-max)
check "the doctor names the limit (nf_conntrack_max), with room for polls and a margin: $max" \
  bash -c "[ '$limit' = net.netfilter.nf_conntrack_max ] && [ '$max' -gt 0 ] && [ '$max' -lt $((LIMIT * 98 / 100)) ]"
in_ns "$C1M" server --listen 127.0.0.1:9000-9019 --expect 20000 --admin 127.0.0.1:9100 --duration 180s >/dev/null 2>"$tmp/server.err" &
server_pid=$!
for _ in $(seq 1 50); do in_ns curl -sf http://127.0.0.1:9100/stats >/dev/null && break; sleep 0.1; done
in_ns "$C1M" client --target 127.0.0.1:9000-9019 -n "$max" --hold 2s --server-stats 127.0.0.1:9100 --progress off \
  --json "$tmp/fits.json" 2>"$tmp/fits.err"
rc=$?
check "the doctor's size completes: exit $rc, $(field "$tmp/fits.json" /results/established_peak_client) established, $(field "$tmp/fits.json" /results/errors_total) errors" \
  bash -c "[ $rc -eq 0 ] && [ '$(field "$tmp/fits.json" /status)' = complete ] && [ '$(field "$tmp/fits.json" /results/errors_total)' = 0 ]"
# The last run's entries go first (reset connections stay tracked for 10 s): each freed slot would
# otherwise let a connection in and restart the stall clock, and the bound below would measure that.
in_ns env QUIET_MAX_TRACKED=100 QUIET_MAX_SOCKETS=1000000 QUIET_TIMEOUT_S=60 bash -c '. lab/quiet.sh; wait_for_quiet_host' | sed 's/^/    /'
started=$SECONDS
in_ns "$C1M" client --target 127.0.0.1:9000-9019 -n 9000 --hold 2s --server-stats 127.0.0.1:9100 --progress off \
  --stall-timeout 5s --json "$tmp/forced.json" 2>"$tmp/forced.err"
rc=$? took=$((SECONDS - started))
reason=$(field "$tmp/forced.json" /reason)
echo "    reason: ${reason:0:220}"
check "9,000 past the limit fails (exit $rc, record $(field "$tmp/forced.json" /status)) in $took s with a 5 s stall timeout" \
  bash -c "[ $rc -eq 1 ] && [ '$(field "$tmp/forced.json" /status)' = failed ] && [ $took -lt 30 ]"
check "its reason names the full table and the numbers" contains "$reason" "conntrack table of the server's network namespace full"
stop_ns_processes; wait "$server_pid" 2>/dev/null; server_pid=""
ip netns del "$ns"

if ! docker info >/dev/null 2>&1; then
  echo "SKIPPED: host-limit test, lab part: no Docker engine answers here; the lab was not tested at a lowered limit"
else
  echo "in the lab: 20 client containers, the server's namespace tracking every connection"
  lab_used=1
  started=$SECONDS
  out=$(HOLD=3s lab/lab.sh up 2>&1); rc=$?
  took=$((SECONDS - started))
  echo "$out" | grep -E "^lab: (this host|ran|to run|done)|^  (established|ramp|record)" | sed 's/^/    /'
  n=$(sed -n 's/.*running N=\([0-9]*\).*/\1/p' <<<"$out")
  record=$(sed -n 's/^  record *//p' <<<"$out")
  downsized() { [ -n "$n" ] && [ "$n" -lt $LIMIT ] && contains "$out" "limited by net.netfilter.nf_conntrack_max" && contains "$out" "make host-tune N=1000000"; }
  check "lab-up downsizes (N=$n) and says what limited it and the command that lifts it" downsized
  check "it completes at that size with 0 errors (exit $rc in $took s)" \
    bash -c "[ $rc -eq 0 ] && [ '$(field "$record" /status)' = complete ] && [ '$(field "$record" /results/established_peak_server)' = '$n' ] && [ '$(field "$record" /results/errors_total)' = 0 ]"
  progress_lines=$(grep -cE '^lab: (start|ramp|wait|hold|done) ' <<<"$out")
  check "the run was never silent ($progress_lines progress lines between the clients' start and the summary)" test "$progress_lines" -ge 2
  started=$SECONDS
  out=$(FORCE=1 N=8000 HOLD=3s C1M_STALL_TIMEOUT=5s lab/lab.sh up 2>&1); rc=$?
  took=$((SECONDS - started))
  record=$(sed -n 's/^  record *//p' <<<"$out")
  reason=$(field "$record" /reason)
  echo "    reason: ${reason:0:220}"
  check "FORCE=1 N=8000 fails (exit $rc, record $(field "$record" /status)) and ends in $took s, images and containers included" \
    bash -c "[ $rc -ne 0 ] && [ '$(field "$record" /status)' = failed ] && [ $took -lt 120 ]"
  check "its reason names the server's namespace's full table" contains "$reason" "conntrack table of the server's network namespace full"
fi

echo "host-limit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
