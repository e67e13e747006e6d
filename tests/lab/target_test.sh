#!/usr/bin/env bash
# The lab against servers that are not c1m's (make test): redis, nginx, haproxy and python3-websockets
# from Debian's archive, each built into a FROM-scratch image by make target-image (websockets with its
# Python), in the server's place; c1m meter reads their
# cgroup and namespace from the host. Asserts from the records. Without a Docker engine it says SKIPPED.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lab/check.sh  # check, field, lab_run
skip_without_docker "lab target test" "TARGET= was not tested"
echo "lab target test: redis, nginx, haproxy and websockets images in the server's place, 20 client containers on macvlan"
trap 'lab/lab.sh down >/dev/null 2>&1' EXIT

for s in redis nginx haproxy websockets; do
  check "make target-image SERVER=$s builds c1m-target-$s" env SERVER=$s lab/target-image.sh >/dev/null
done
lab_containers() { docker ps -aq --filter label=com.docker.compose.project=c1m | sort; }
bad() {  # expected text, env assignments...: one line, exit 2, nothing started
  local says=$1; shift
  local out rc before
  before=$(lab_containers)
  out=$(env "$@" lab/lab.sh up 2>&1); rc=$?
  [ "$rc" -eq 2 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && [[ "$out" == *"$says"* ]] ||
    { echo "    got exit $rc: $out"; return 1; }
  [ "$(lab_containers)" = "$before" ] || { echo "    containers changed: $(lab_containers)"; return 1; }
}
check "an image that is not there: named, exit 2" bad "no such image here" TARGET=c1m-target-nosuch N=2000
check "an unknown protocol: named, exit 2" bad "unknown protocol" TARGET=c1m-target-redis PROTOCOL=gopher N=2000
check "TARGET with APPROACH=multi-port: named, exit 2" bad "APPROACH=multi-ip" TARGET=c1m-target-redis APPROACH=multi-port N=2000

rm -f build/lab/last-record
lab_run redis TARGET=c1m-target-redis PROTOCOL=redis N=2000 HOLD=4s C1M_PING_INTERVAL=1s
check "redis: 2,000 held, complete" test "$(field "$record" 'r["status"], r["results"]["established_peak_client"]')" = "('complete', 2000)"
check "redis: the record names it (software, image, protocol, port)" \
  test "$(field "$record" '[all((t["software"] == "redis 7.0.15", t["image"].startswith("c1m-target-redis@sha256:"), t["protocol"] == "redis", t["address"].endswith(":6379"))) for t in [r["topology"]["target"]]][0]')" = True
# 2,000 PINGs a second: those sent in the stop's last tens of milliseconds are still in flight (2.1%
# once on a loaded host), so up to 5%.
check "redis: every PING answered (5% in flight at the stop)" \
  test "$(field "$record" 'r["results"]["pongs_received"] >= 0.95 * r["results"]["pings_sent"] > 0')" = True
check "redis: c1m meter reported as its server: its peak 2,000 from its namespace" \
  test "$(field "$record" '[p["status"] for p in r["participants"] if p["role"] == "server"], r["results"]["established_peak_server"]')" = "(['reported'], 2000)"
check "redis: its cgroup's kernel and user bytes a connection, and its ramp CPU, measured" \
  test "$(field "$record" 'all(x is not None and x > 0 for x in (r["memory"]["kernel_bytes_per_connection_server"], r["memory"]["user_bytes_per_connection_server"], r["results"]["ramp_cpu_server_s"]))')" = True
check "redis: the cgroup version read is said" test "$(field "$record" 'r["server"]["meter"]["cgroup"]["version"] in (1, 2)')" = True
echo "    redis: $(field "$record" 'round(r["memory"]["kernel_bytes_per_connection_server"])') kernel and $(field "$record" 'round(r["memory"]["user_bytes_per_connection_server"])') user bytes a connection (cgroup v$(field "$record" 'r["server"]["meter"]["cgroup"]["version"]'))"

# A one-off client joins the running lab against the same server, under either compose tool.
for tool in "docker compose" docker-compose; do
  $tool version >/dev/null 2>&1 || { echo "  skip  $tool run client: $tool is not installed"; continue; }
  out=$(timeout 120 $tool run --rm client 2>&1); rc=$?
  check "$tool run --rm client against redis: exit 0, complete" test "$rc $(echo "$out" | grep -c 'c1m client: complete')" = "0 1"
done

rm -f build/lab/last-record
lab_run find-limit TARGET=c1m-target-redis PROTOCOL=redis FIND_LIMIT=1 N=1000 HOLD=2s \
  "TARGET_ARGS=--port 6379 --protected-mode no --save '' --maxclients 300"
check "FIND_LIMIT=1, redis --maxclients 300: complete, 300 held, bound by refused" \
  test "$(field "$record" 'r["status"], r["results"]["limit_connections"], r["topology"]["target"]["limit"]["bound_by"]')" = "('complete', 300, 'refused')"
check "FIND_LIMIT=1: the reason says it" \
  test "$(field "$record" 'r["reason"].startswith("redis 7.0.15 held 300 of the 1,000 asked by 20 clients together: the server said no")')" = True

# A latency objective no server meets (20 us), over a paced ramp (20 clients at 20 connects a second).
rm -f build/lab/last-record
lab_run slo TARGET=c1m-target-redis PROTOCOL=redis FIND_LIMIT=1 SLO_P99=20us C1M_PING_INTERVAL=200ms RATE=20 \
  N=2000 HOLD=2s
check "FIND_LIMIT=1 SLO_P99=20us RATE=20: bound by the latency objective, below the 2,000 asked" \
  test "$(field "$record" '(r["topology"]["target"]["limit"]["bound_by"], r["results"]["limit_connections"] < 2000)')" = "('slo', True)"

rm -f build/lab/last-record
lab_run nginx TARGET=c1m-target-nginx PROTOCOL=http N=2000 HOLD=3s LIVE=4s C1M_PING_INTERVAL=1s
check "nginx: 2,000 held over HTTP keep-alive, complete, every answer 2xx" \
  test "$(field "$record" 'r["status"], r["results"]["established_peak_client"], r["results"]["http_replies_2xx"] >= 0.98 * r["results"]["pings_sent"] > 0')" = "('complete', 2000, True)"
check "nginx: the record names it" test "$(field "$record" 'r["topology"]["target"]["software"]')" = "nginx/1.22.1"
check "nginx: its CPU over the live hold, from c1m meter's readings, a figure per 1,000 pings a second" \
  test "$(field "$record" 'r["results"]["live_cpu_cores_per_1k_pings_per_s_server"] is not None')" = True
echo "    nginx: $(field "$record" 'round(r["memory"]["kernel_bytes_per_connection_server"])') kernel and $(field "$record" 'round(r["memory"]["user_bytes_per_connection_server"])') user bytes a connection; live $(field "$record" 'r["results"]["live_cpu_cores_server"]') cores at $(field "$record" 'r["results"]["live_pings_per_s"]') pings/s"

rm -f build/lab/last-record
lab_run haproxy TARGET=c1m-target-haproxy PROTOCOL=http N=2000 HOLD=2s LIVE=3s C1M_PING_INTERVAL=1s
check "haproxy: 2,000 held over HTTP keep-alive, complete, 0 errors, every answer 2xx (2% in flight at the stop)" \
  test "$(field "$record" '(r["status"], r["results"]["established_peak_client"], r["results"]["errors_total"], r["results"]["http_replies_2xx"] >= 0.98 * r["results"]["pings_sent"] > 0)')" = "('complete', 2000, 0, True)"

rm -f build/lab/last-record
lab_run websockets TARGET=c1m-target-websockets PROTOCOL=websocket N=2000 HOLD=2s LIVE=3s C1M_PING_INTERVAL=1s
# One Python process answers 2,000 pings a second: 2.2% of them were once in flight at the stop.
check "python3-websockets: 2,000 held, complete, 0 errors, pings answered (5% in flight at the stop), the record names it" \
  test "$(field "$record" '(r["status"], r["results"]["established_peak_client"], r["results"]["errors_total"], r["results"]["pongs_received"] >= 0.95 * r["results"]["pings_sent"] > 0, "websockets" in (r["topology"]["target"]["software"] or ""))')" = "('complete', 2000, 0, True, True)"

out=$(env TARGET=c1m-target-redis TARGET_ARGS=--no-such-option N=2000 lab/lab.sh up 2>&1); rc=$?
said="$rc $(echo "$out" | grep -c "exited (exit 1) before it listened\|target: >>> 'no-such-option'")"
check "a target that exits at start: exit 2, its last words shown" test "$said" = "2 2"
[ "$said" = "2 2" ] || echo "$out" | tail -5 | sed 's/^/    /'

lab/lab.sh down >/dev/null 2>&1
check "lab-down leaves nothing" test -z "$(lab_containers)"
echo "lab target test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
