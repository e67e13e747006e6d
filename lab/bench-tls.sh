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
# Then c1m's client against real TLS servers from Debian's archive on loopback, HTTPS keep-alive
# with the same live hold: nginx (a worker per 15,000 connections) and haproxy (HTTP mode, one
# process), each to TARGET_N or the limit it meets (--find-limit names it), its own resident bytes a
# connection read from its processes (--target-pid).
#   N, LIVE (60s), PING_INTERVAL (30s), HOLD (10s), TLS_HELD (keys, or library: c1m's server keeps the library's object)
#   RESUME (1: the client resumes sessions from the servers' tickets, c1m's server sending one a
#   handshake; the crypto floor is then a resumed handshake's: its key exchange alone)
#   TARGETS ["nginx haproxy"; "" for none], TARGET_N [100000]
set -euo pipefail
cd "$(dirname "$0")/.."
C1M=${C1M:-build/c1m}
N=${N:-1000000}
LIVE=${LIVE:-60s}
TLS_HELD=${TLS_HELD:-keys}
RESUME=${RESUME:-0}
[[ "$RESUME" =~ ^[01]$ ]] || { echo "bench-tls: RESUME=$RESUME: expected 0 or 1" >&2; exit 2; }
resume_server="" resume_client=""
[ "$RESUME" = 1 ] && resume_server="--tls-tickets 1" resume_client="--tls-resume"
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
x, s, v, cores, n, resume = $x25519_per_s, $sign_per_s, $verify_per_s, $cores, $N, $RESUME
us = 4e6 / x  # each side makes a key share and derives the secret
if not resume: us += 1e6 / s + 1e6 / v  # and, not resuming, the server signs and the client verifies
print(f'{us:.1f} {cores * 1e6 / us:.0f} {n / (cores * 1e6 / us):.3f}')")
read -r floor_us floor_rate floor_s <<<"$floor"
say "crypto floor (openssl speed, one core): X25519 $x25519_per_s op/s, P-256 sign $sign_per_s/s, verify $verify_per_s/s"
say "  a$([ "$RESUME" = 1 ] && echo " resumed") handshake's crypto: $floor_us us; $cores cores: $floor_rate handshakes/s, $N in $floor_s s"

SERVER_ARGS="--tls --tls-held $TLS_HELD $resume_server ${SERVER_ARGS:-}" \
  CLIENT_ARGS="--tls $resume_client --ramp-timeout 30m ${CLIENT_ARGS:-}" \
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
hs = x.get("tls_handshake_latency_ms") or {}
print(f"  handshakes resumed {f(x.get('tls_resumed'))} of {n:,}; a handshake p50 {f(hs.get('p50'), '{:.1f}')} ms, "
      f"p99 {f(hs.get('p99'), '{:.1f}')} ms")
print(f"  live: {f(x.get('live_pings_per_s'))} pings/s, rtt p99 {f((r['results'].get('ping_rtt_ms') or {}).get('p99'), '{:.1f}')} ms")
PY

# The real servers: a certificate for them, each started on a free port, measured, stopped.
TARGETS=${TARGETS-nginx haproxy}
TARGET_N=${TARGET_N:-100000}
work=$(mktemp -d)
target_pid=""
stop_target() { [ -z "$target_pid" ] || { kill "$target_pid" 2>/dev/null || true; wait "$target_pid" 2>/dev/null || true; target_pid=""; }; }
trap 'stop_target; rm -rf "$work"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=c1m-bench \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
cat "$work/cert.pem" "$work/key.pem" >"$work/bundle.pem"
port=9443
for target in $TARGETS; do
  case "$target" in
    nginx)
      workers=$(( TARGET_N / 15000 + 1 ))
      cat >"$work/nginx.conf" <<CONF
daemon off;
worker_processes $workers;
worker_rlimit_nofile 20000;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 19000; }
http {
  access_log off;
  client_body_temp_path $work; proxy_temp_path $work; fastcgi_temp_path $work; uwsgi_temp_path $work; scgi_temp_path $work;
  keepalive_timeout 3600s;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$port ssl backlog=65535 reuseport;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    ssl_protocols TLSv1.3;
    location / { return 200 "ok\\n"; }
  }
}
CONF
      nginx -p "$work" -c "$work/nginx.conf" -e "$work/nginx-error.log" >"$work/nginx.log" 2>&1 &
      target_pid=$! name="nginx $(nginx -v 2>&1 | sed 's|.*/||'), $workers workers" ;;
    haproxy)
      # One process, which needs two files a connection (2 x maxconn + 17): under this host's 20,000,
      # at most 9,991 connections. Its maxconn says so rather than haproxy refusing to start.
      maxconn=$(( ($(ulimit -Hn) - 17) / 2 ))
      (( maxconn < TARGET_N )) || maxconn=$TARGET_N
      cat >"$work/haproxy.cfg" <<CONF
global
  maxconn $maxconn
defaults
  mode http
  timeout client 3600s
  timeout http-keep-alive 3600s
frontend https
  bind 127.0.0.1:$port ssl crt $work/bundle.pem ssl-min-ver TLSv1.3
  http-request return status 200 content-type text/plain string ok
CONF
      haproxy -f "$work/haproxy.cfg" -db >"$work/haproxy.log" 2>&1 &
      target_pid=$! name="haproxy $(haproxy -v 2>&1 | awk 'NR == 1 {print $3}'), maxconn $maxconn" ;;  # awk reads it all
    *) say "bench-tls: TARGETS: $target has no preset (nginx, haproxy)"; continue ;;
  esac
  sleep 2
  kill -0 "$target_pid" 2>/dev/null || { say "$target did not start: $(tail -3 "$work/$target.log" | tr '\n' ' ')"; continue; }
  trecord=results/$stamp-tls-$target.json
  say "$target over TLS: up to $TARGET_N connections ($name, pid $target_pid)"
  "$C1M" client --target "127.0.0.1:$port" --source "127.0.0.2-127.0.0.21" --tls $resume_client --protocol http -n "$TARGET_N" \
    --find-limit --target-pid "$target_pid" --target-name "$name" --hold "${HOLD:-10s}" --live "$LIVE" \
    --ping-interval "${PING_INTERVAL:-30s}" --ramp-timeout 30m --json "$trecord" --progress plain 2>&1 |
    grep -v "^ramp \|^hold \|^live " | tee -a "$summary" || true
  stop_target
  [ -s "$trecord" ] && python3 - "$trecord" "$floor_s" "$N" <<'PY' | tee -a "$summary"
import json, sys
r = json.load(open(sys.argv[1])); floor_s = float(sys.argv[2]) / float(sys.argv[3])  # the crypto floor's a handshake
x, m = r["results"], r["memory"]
held = x["established_peak_client"]
ttt = x["time_to_target_s"] or x["ramp_duration_s"]
def f(v, fmt="{:,.0f}"): return "n/a" if v is None else fmt.format(v)
print(f"  {r['topology']['target'].get('name')}: {r['status']}, held {held:,}: {r.get('reason') or 'no limit below that'}")
print(f"  ramp {f(ttt, '{:.1f}')} s = {f(ttt / (floor_s * held) if ttt and held else None, '{:.2f}')}x the crypto floor's time for as many; "
      f"its CPU {f(x.get('ramp_cpu_server_s'), '{:.1f}')} s ({f(x['ramp_cpu_server_s'] * 1e6 / held if x.get('ramp_cpu_server_s') and held else None)} us a handshake), "
      f"c1m client's {f(x.get('ramp_cpu_client_s'), '{:.1f}')} s")
print(f"  its resident bytes a connection {f(m['user_bytes_per_connection_server'])}; c1m client's {f(m['user_bytes_per_connection_client'])} "
      f"(TLS library {f(m['tls_library_bytes_per_connection_client'], '{:.1f}')}); tickets {f(x['tls_tickets'])}, "
      f"resumed {f(x.get('tls_resumed'))}")
print(f"  live: {f(x.get('live_pings_per_s'))} pings/s, rtt p99 {f((x.get('ping_rtt_ms') or {}).get('p99'), '{:.1f}')} ms, errors {x['errors_total']}")
PY
  port=$(( port + 1 ))
done
say "summary: $summary; record: $record"
