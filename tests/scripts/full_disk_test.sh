#!/usr/bin/env bash
# Every output of c1m on a full disk and in a missing directory: the run says which file and why and
# exits non-zero (a missing directory is refused up front, exit 2), and the collector loses nothing:
# what it took is kept until the disk has room again. The full disk is a 1 MiB tmpfs filled to the
# last byte, so it needs root (mount); without it the test says SKIPPED and exits 77.
# Usage: full_disk_test.sh PATH/TO/c1m
set -uo pipefail
C1M=$(realpath "${1:?usage: full_disk_test.sh PATH/TO/c1m}")
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
full="$work/full"
mkdir -p "$full" "$work/ok"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
  umount "$full" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=1m c1m-full "$full" 2>/dev/null; then
  echo "SKIPPED: the full-disk test needs root to mount a small tmpfs (running as uid $(id -u))"
  exit 77
fi
fill() { dd if=/dev/zero of="$full/filler" bs=4k >/dev/null 2>&1 || true; }
fill
failures=0
pass() { echo "ok    $*"; }
fail() { echo "FAIL  $*"; failures=$((failures + 1)); }
# expect NAME WANT_RC PATTERN -- command...: the command's exit status and a line of its stderr
expect() {
  local name=$1 want=$2 pattern=$3
  shift 4
  local out rc=0
  out=$("$@" 2>&1 >/dev/null) || rc=$?
  if [ "$rc" = "$want" ] && grep -q -- "$pattern" <<<"$out"; then
    pass "$name: exit $rc, says \"$(grep -m1 -- "$pattern" <<<"$out" | cut -c1-150)\""
  else
    fail "$name: exit $rc (want $want), output without \"$pattern\":"
    sed 's/^/        /' <<<"$out" | tail -5
  fi
}
# A loopback address of its own (127.x.y.z), so the fixed ports below cannot clash with other work.
addr="127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))"
record="$root/tests/fixtures/records/base.json"

# One small run on loopback: a server that stops by itself, a client with the given flags.
run_client() {
  "$C1M" server --listen "$addr:9300" --expect 200 --duration 20s >/dev/null 2>&1 &
  local server=$!
  pids+=("$server")
  sleep 0.5
  "$C1M" client --target "$addr:9300" --connections 200 --hold 1s "$@"
  local rc=$?
  kill -TERM "$server" 2>/dev/null
  wait "$server" 2>/dev/null
  return $rc
}

echo "full disk: $(df -h --output=avail "$full" | tail -1 | tr -d ' ') left on $full"
expect "client --json on a full disk" 1 "No space left on device" -- run_client --json "$full/c.json"
expect "client --json in a missing directory" 2 "No such file or directory" -- run_client --json "$work/missing/c.json"
# Progress is not the record: a status file that cannot be written is a warning, the run goes on.
expect "client --status-file on a full disk" 0 "warning: status file: .*No space left on device" -- \
  run_client --status-file "$full/status.json" --json "$work/ok/c.json"
expect "server --json on a full disk" 1 "the stats were not written: .*No space left on device" -- \
  "$C1M" server --listen "$addr:9301" --expect 10 --duration 1s --json "$full/s.json"
expect "server --json in a missing directory" 2 "No such file or directory" -- \
  "$C1M" server --listen "$addr:9301" --expect 10 --duration 1s --json "$work/missing/s.json"
mkdir -p "$work/dir"
cp "$record" "$work/dir/client-a.json"
expect "collect --dir --out on a full disk" 1 "No space left on device" -- \
  "$C1M" collect --dir "$work/dir" --out "$full"
expect "collect --dir --out a missing directory" 2 "No such file or directory" -- "$C1M" collect --dir "$work/dir" --out "$work/missing"
expect "collect --listen --out a missing directory" 2 "No such file or directory" -- \
  "$C1M" collect --listen "$addr:9302" --out "$work/missing" --expect-count 1
expect "plot -o on a full disk" 2 "No space left on device" -- "$C1M" plot "$record" -o "$full/p.svg"
expect "plot -o in a missing directory" 2 "No such file or directory" -- "$C1M" plot "$record" -o "$work/missing/p.svg"
expect "compare --export-dir on a full disk" 2 "No space left on device" -- \
  "$C1M" compare "$record" "$record" --export benchmark-action --export-dir "$full"

# The collector with its --out full: it takes the record (its spool has room), cannot write the run,
# says so on GET /runs/ID (503, unwritten), keeps it, and writes it once the disk has room again.
"$C1M" collect --listen "$addr:9303" --out "$full" --spool "$work/spool" >"$work/collector.log" 2>&1 &
collector=$!
pids+=("$collector")
sleep 0.5
run_client --report-to "$addr:9303" --run-id fd1 --run-clients 1 >/dev/null 2>&1
for _ in $(seq 1 20); do  # the run is due at the collector's next half-second tick
  state=$(curl -s -o "$work/state.json" -w '%{http_code}' "http://$addr:9303/runs/fd1")
  [ "$state" = 503 ] && break
  sleep 0.5
done
if [ "$state" = 503 ] && grep -q '"unwritten"' "$work/state.json" && grep -q "No space left on device" "$work/state.json" \
  && ls "$work/spool/fd1"/record-client-*.json >/dev/null 2>&1; then
  pass "collector with a full --out: GET /runs/fd1 says 503 $(cut -c1-120 "$work/state.json"), the record is in the spool"
else
  fail "collector with a full --out: GET /runs/fd1 gave $state: $(cat "$work/state.json"); spool: $(ls -R "$work/spool")"
fi
rm -f "$full/filler"
for _ in $(seq 1 20); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$addr:9303/runs/fd1")" = 200 ] && break
  sleep 0.5
done
if ls "$full"/*-fd1*.json >/dev/null 2>&1 || grep -q '"run_id": "fd1"' "$full"/*.json 2>/dev/null; then
  # What stays is the written run's receipt (.receipt-fd1.json: who sent what, for a resent message).
  if [ -z "$(ls -A "$work/spool" 2>/dev/null | grep -v '^\.receipt-fd1\.json$')" ] && [ -f "$work/spool/.receipt-fd1.json" ]; then
    pass "collector: once the disk had room, the run was written ($(ls "$full" | grep -v filler | head -1)), its messages left the spool and its receipt is there"
  else
    fail "collector: the run was written but the spool still holds $(ls -R "$work/spool")"
  fi
else
  fail "collector: the run was not written after the disk had room; log: $(tail -3 "$work/collector.log")"
fi
kill -TERM "$collector" 2>/dev/null
wait "$collector" 2>/dev/null
rm -f "$full"/*.json

# The collector killed (SIGKILL) with a run half reported: a new one on the same spool takes it up.
"$C1M" collect --listen "$addr:9304" --out "$work/ok" --spool "$work/spool" >"$work/collector2.log" 2>&1 &
collector=$!
pids+=("$collector")
sleep 0.5
run_client --report-to "$addr:9304" --run-id fd2 --run-clients 2 --json "$work/ok/c1.json" >/dev/null 2>&1
kill -KILL "$collector"
wait "$collector" 2>/dev/null
"$C1M" collect --listen "$addr:9304" --out "$work/ok" --spool "$work/spool" >"$work/collector3.log" 2>&1 &
collector=$!
pids+=("$collector")
sleep 0.5
run_client --report-to "$addr:9304" --run-id fd2 --run-clients 2 --json "$work/ok/c2.json" >/dev/null 2>&1
for _ in $(seq 1 20); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$addr:9304/runs/fd2")" = 200 ] && break
  sleep 0.5
done
merged=$(curl -s "http://$addr:9304/runs/fd2")
if grep -q "took up run fd2" "$work/collector3.log" && [ "$(jq '.topology.clients' <<<"$merged")" = 2 ]; then
  pass "collector killed mid-run: the next one took up run fd2 from the spool and wrote both clients' records"
else
  fail "collector killed mid-run: $(tail -3 "$work/collector3.log"); merged: $(cut -c1-200 <<<"$merged")"
fi
kill -TERM "$collector" 2>/dev/null
wait "$collector" 2>/dev/null

# The spool itself full: the record is refused with 507 (not taken, not lost); the client tries again
# and it is taken once there is room.
fill
"$C1M" collect --listen "$addr:9305" --out "$work/ok" --spool "$full/spool" >"$work/collector4.log" 2>&1 &
collector=$!
pids+=("$collector")
sleep 0.5
run_client --report-to "$addr:9305" --run-id fd3 --run-clients 1 >"$work/client4.log" 2>&1 &
client=$!
for _ in $(seq 1 40); do
  grep -q "trying again in 5 s" "$work/client4.log" && break
  sleep 0.5
done
rm -f "$full/filler"
wait "$client"
rc=$?
if [ "$rc" = 0 ] && grep -q "507\|cannot keep it" "$work/client4.log" && grep -q "record from" "$work/collector4.log"; then
  pass "collector with a full spool: 507 ($(grep -m1 -o 'cannot keep it[^"]*' "$work/client4.log" | cut -c1-80)), taken on the client's next try, exit 0"
else
  fail "collector with a full spool: client exit $rc; $(tail -4 "$work/client4.log")"
fi
kill -TERM "$collector" 2>/dev/null
wait "$collector" 2>/dev/null

[ "$failures" = 0 ] && echo "full disk: every output checked" || echo "full disk: $failures failure(s)"
exit $((failures > 0))
