#!/usr/bin/env bash
# make bench-tls: N (1,000,000) TLS 1.3 connections on loopback, c1m's client and server both on this
# host (approach 1, through lab/bench-native.sh), beside two floors measured in the same run: the
# crypto floor (what `openssl speed` says one core does for each handshake's key exchange and
# signature: four X25519 operations, one P-256 signature and its verification, so the most handshakes
# a second this host's cores could do with nothing else) and, with LIVE, the floor probe's live mode
# (plain TCP: the host's own ping tail). Prints time to target as a ratio to the crypto floor's time,
# CPU a handshake on each side, and each side's bytes a held connection by layer: the kernel's, the
# TLS library's (counted through its allocation functions), the program's. Not a test: it measures.
# Every run is bounded (ramp timeout 30 min, the server's --duration) and stops by itself.
#   N, LIVE (60s), PING_INTERVAL (30s), HOLD (10s), TLS_HELD (keys, or library: c1m's server keeps the library's object)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
LIVE=${LIVE:-60s}
TLS_HELD=${TLS_HELD:-keys}
[[ "$TLS_HELD" =~ ^(keys|library)$ ]] || { echo "bench-tls: TLS_HELD=$TLS_HELD: expected keys or library" >&2; exit 2; }
command -v openssl >/dev/null || { echo "bench-tls: openssl is not installed (make setup)" >&2; exit 2; }
mkdir -p results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
summary=results/$stamp-bench-tls.txt
record=results/$stamp-tls-native.json
say() { echo "$*" | tee -a "$summary"; }

# The crypto floor: one core's rate for each operation, all cores together for the handshakes.
speed=$(openssl speed -seconds 3 ecdhx25519 ecdsap256 2>/dev/null)
x25519_per_s=$(awk '/ecdh \(X25519\)/ {print $NF}' <<<"$speed")
read -r sign_per_s verify_per_s < <(awk '/ecdsa \(nistp256\)/ {print $(NF-1), $NF}' <<<"$speed")
cores=$(nproc)
floor=$(python3 -c "
x, s, v, cores, n = $x25519_per_s, $sign_per_s, $verify_per_s, $cores, $N
us = 4e6 / x + 1e6 / s + 1e6 / v  # each side makes a key share and derives the secret; the server signs, the client verifies
print(f'{us:.1f} {cores * 1e6 / us:.0f} {n / (cores * 1e6 / us):.1f}')")
read -r floor_us floor_rate floor_s <<<"$floor"
say "crypto floor (openssl speed, one core): X25519 $x25519_per_s op/s, P-256 sign $sign_per_s/s, verify $verify_per_s/s"
say "  a handshake's crypto: $floor_us us; $cores cores: $floor_rate handshakes/s, $N in $floor_s s"

SERVER_ARGS="--tls --tls-held $TLS_HELD ${SERVER_ARGS:-}" CLIENT_ARGS="--tls --ramp-timeout 30m ${CLIENT_ARGS:-}" \
  SERVER_DURATION=${SERVER_DURATION:-3600} APPROACHES=multi-ip ROUNDS=1 RECORD="$record" N="$N" LIVE="$LIVE" \
  lab/bench-native.sh 2>&1 | tee -a "$summary"

[ -s "$record" ] || { say "bench-tls: no record ($record): see above"; exit 1; }
python3 - "$record" "$floor_s" <<'PY' | tee -a "$summary"
import json, sys
r = json.load(open(sys.argv[1])); floor_s = float(sys.argv[2])
x, m = r["results"], r["memory"]
def f(v, fmt="{:,.0f}"): return "n/a" if v is None else fmt.format(v)
n = x["tls_handshakes"] or 0
ttt = x["time_to_target_s"]
print(f"tls: {r['status']}, held {x['established_peak_client']:,} (server {f(x['established_peak_server'])}), "
      f"{n:,} handshakes, errors {x['errors_total']}: {json.dumps({k: v for k, v in x['errors'].items() if v})}")
print(f"  time to target {f(ttt, '{:.1f}')} s = {f(ttt / floor_s if ttt else None, '{:.2f}')}x the crypto floor's {floor_s} s; "
      f"{f(n / ttt if ttt else None)} handshakes/s")
for side in ("client", "server"):
    cpu = x.get(f"ramp_cpu_{side}_s")
    print(f"  {side}: ramp CPU {f(cpu, '{:.1f}')} s ({f(cpu * 1e6 / n if cpu and n else None)} us a handshake); "
          f"a held connection: kernel {f(m['kernel_bytes_per_socket'])} B a socket, TLS library "
          f"{f(m[f'tls_library_bytes_per_connection_{side}'], '{:.1f}')} B, program (resident anonymous) "
          f"{f(m[f'user_bytes_per_connection_{side}'])} B")
print(f"  the client's handshakes in flight took at most {f(x['tls_library_peak_bytes_client'])} B of library heap")
print(f"  live: {f(x.get('live_pings_per_s'))} pings/s, rtt p99 {f((r['results'].get('ping_rtt_ms') or {}).get('p99'), '{:.1f}')} ms")
PY
say "summary: $summary; record: $record"
