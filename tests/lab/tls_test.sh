#!/usr/bin/env bash
# The lab over TLS at small scale (make test): make lab-up TLS=1, c1m's server holding keys only and
# then the library's object, the clients resuming sessions (TLS_RESUME=1, paced by RATE), the record's
# TLS figures, and a one-off client joining over TLS. Asserts from the records. Without a Docker
# engine it says SKIPPED.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lab/check.sh  # check, field, lab_run
skip_without_docker "lab TLS test" "TLS=1 was not tested"
echo "lab TLS test: 20 client containers to c1m's server over TLS 1.3 on macvlan"
trap 'lab/lab.sh down >/dev/null 2>&1' EXIT

bad() {  # expected text, env assignments...: one line, exit 2
  local says=$1; shift
  local out rc
  out=$(env "$@" lab/lab.sh up 2>&1); rc=$?
  [ "$rc" -eq 2 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && [[ "$out" == *"$says"* ]] ||
    { echo "    got exit $rc: $out"; return 1; }
}
check "TLS=2: named, exit 2" bad "TLS=2: expected 1 or 0" TLS=2 N=2000
check "TLS_HELD=all: named, exit 2" bad "TLS_HELD=all: expected keys or library" TLS=1 TLS_HELD=all N=2000
check "TLS_HELD without TLS=1: named, exit 2" bad "needs TLS=1" TLS_HELD=library N=2000
check "TLS_RESUME without TLS=1: named, exit 2" bad "TLS_RESUME=1 needs TLS=1" TLS_RESUME=1 N=2000
check "RATE=fast: named, exit 2" bad "RATE=fast: expected connects a second" RATE=fast N=2000

rm -f build/lab/last-record
lab_run keys TLS=1 N=2000 HOLD=3s C1M_PING_INTERVAL=1s
check "TLS=1: 2,000 held over TLS, complete, 0 errors, 2,000 handshakes" \
  test "$(field "$record" '(r["status"], r["results"]["established_peak_client"], r["results"]["errors_total"], r["results"]["tls_handshakes"])')" = "('complete', 2000, 0, 2000)"
check "TLS=1: every ping answered (2% in flight at the stop)" \
  test "$(field "$record" 'r["results"]["pongs_received"] >= 0.98 * r["results"]["pings_sent"] > 0')" = True
check "TLS=1: neither side's library keeps a connection's object (13 KB if it did): under 1,000 B a connection at 100 a client, its one-time 40 KB a worker included" \
  test "$(field "$record" 'r["memory"]["tls_library_bytes_per_connection_client"] < 1000 and r["memory"]["tls_library_bytes_per_connection_server"] < 1000')" = True
echo "    user bytes a connection: client $(field "$record" 'round(r["memory"]["user_bytes_per_connection_client"])'), server $(field "$record" 'round(r["memory"]["user_bytes_per_connection_server"])')"
for tool in "docker compose" docker-compose; do
  $tool version >/dev/null 2>&1 || { echo "  skip  $tool run client: $tool is not installed"; continue; }
  out=$(timeout 120 $tool run --rm client 2>&1); rc=$?
  check "$tool run --rm client joins over TLS: exit 0, complete" test "$rc $(echo "$out" | grep -c 'c1m client: complete')" = "0 1"
done

rm -f build/lab/last-record
lab_run library TLS=1 TLS_HELD=library N=2000 HOLD=2s
check "TLS_HELD=library: 2,000 held, the server's library object counted (over 4 KB a connection)" \
  test "$(field "$record" '(r["results"]["established_peak_client"], r["memory"]["tls_library_bytes_per_connection_server"] > 4096)')" = "(2000, True)"
echo "    the server's library: $(field "$record" 'round(r["memory"]["tls_library_bytes_per_connection_server"])') B a connection"

# Resumption: each client paced (RATE) so that its first ticket comes before most of its connects.
rm -f build/lab/last-record
lab_run resume TLS=1 TLS_RESUME=1 RATE=100 N=2000 HOLD=2s
check "TLS_RESUME=1 RATE=100: 2,000 held, 0 errors, over half the handshakes resumed, the server counting the same" \
  test "$(field "$record" '(r["results"]["established_peak_client"], r["results"]["errors_total"], r["results"]["tls_resumed"] > 1000, r["server"]["tls_resumed"] == r["results"]["tls_resumed"])')" = "(2000, 0, True, True)"
echo "    resumed $(field "$record" 'r["results"]["tls_resumed"]') of 2,000; $(field "$record" 'r["server"]["tls_tickets_sent"]') tickets sent"
lab/lab.sh down >/dev/null 2>&1
echo "lab TLS test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
