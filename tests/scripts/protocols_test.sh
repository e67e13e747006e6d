#!/usr/bin/env bash
# The client against real servers from Debian's archive, on loopback, in their own protocols, each
# with the failure it is most likely to meet, counted in its own class: redis (PING, +PONG; a full
# server's error reply counted as refused), nginx (HTTP/1.1 keep-alive GETs, the replies' status
# classes counted; idle connections closed by keepalive_timeout), mosquitto (MQTT CONNECT, CONNACK,
# PINGREQ; a refusal code counted as refused), python3-websockets (upgrade, ping frames; the
# server's own pings answered, a server that drops pings, one that sends close frames), haproxy
# (raw in TCP mode, http in HTTP mode), and raw (connect and hold, no bytes). Bounded: a few hundred
# connections, a live hold of 2-3 s each.
#   protocols_test.sh C1M_BINARY
set -euo pipefail
c1m=$1
. "$(dirname "$0")/loopback.sh"  # work, pids, ok/bad, need_tools, free_port, wait_port
need_tools redis-server nginx mosquitto haproxy
# Debian's python3 (not a virtualenv's or pyenv's that may be first on PATH) has python3-websockets.
/usr/bin/python3 -c 'import websockets' 2>/dev/null || { echo "FAIL  python3-websockets is not installed (make setup installs it)"; exit 1; }
# field RECORD EXPR: a Python expression over the record r. answered_all(r, n): at least n pings, each
# answered but those sent in the run's last instant (still on their way when it stopped: no error;
# one never answered is errors.no_answer, checked apart), at most 2% of them on a loaded host.
field() {
  python3 -c "import json,sys; r=json.load(open(sys.argv[1]))
def answered_all(r, n): x = r['results']; return x['pongs_received'] >= n and 0 <= x['pings_sent'] - x['pongs_received'] <= max(5, x['pings_sent'] // 50)
print($2)" "$1"
}

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --maxclients 1000 \
  >"$work/redis.log" 2>&1 &
pids+=($!)
small_redis=$(free_port)
redis-server --port "$small_redis" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --maxclients 100 \
  >"$work/redis-small.log" 2>&1 &
pids+=($!)
http_port=$(free_port) idle_port=$(free_port)
cat >"$work/nginx.conf" <<CONF
daemon off;
worker_processes 1;
worker_rlimit_nofile 4096;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 2048; }
http {
  access_log off;
  client_body_temp_path $work; proxy_temp_path $work; fastcgi_temp_path $work; uwsgi_temp_path $work; scgi_temp_path $work;
  keepalive_requests 100000;
  server {
    listen 127.0.0.1:$http_port;
    location / { return 200 "ok\n"; }
    location /gone { return 503; }
  }
  server {
    listen 127.0.0.1:$idle_port;
    keepalive_timeout 1s;
    location / { return 200 "ok\n"; }
  }
}
CONF
nginx -p "$work" -c "$work/nginx.conf" -e "$work/nginx-error.log" >"$work/nginx.log" 2>&1 &
nginx_pid=$!
pids+=($!)
mqtt_port=$(free_port) closed_mqtt=$(free_port)
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$mqtt_port" >"$work/mqtt.conf"
printf 'listener %s 127.0.0.1\nallow_anonymous false\npersistence false\n' "$closed_mqtt" >"$work/mqtt-closed.conf"
mosquitto -c "$work/mqtt.conf" >"$work/mqtt.log" 2>&1 &
pids+=($!)
mosquitto -c "$work/mqtt-closed.conf" >"$work/mqtt-closed.log" 2>&1 &
pids+=($!)
ws_answers=$(free_port) ws_deaf=$(free_port) ws_closes=$(free_port)
for manner in answers deaf closes; do
  port_var=ws_$manner
  /usr/bin/python3 "$(dirname "$0")/ws_server.py" "${!port_var}" "$manner" >"$work/ws-$manner.log" 2>&1 &
  pids+=($!)
done
haproxy_tcp=$(free_port) haproxy_http=$(free_port)
cat >"$work/haproxy.cfg" <<CONF
global
  maxconn 4096
defaults
  timeout client 60s
  timeout connect 5s
  timeout server 60s
frontend tcp_in
  mode tcp
  bind 127.0.0.1:$haproxy_tcp
  default_backend to_nginx
backend to_nginx
  mode tcp
  server nginx 127.0.0.1:$http_port
frontend http_in
  mode http
  bind 127.0.0.1:$haproxy_http
  http-request return status 200 content-type text/plain string ok
CONF
haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
pids+=($!)
for p in "$redis_port" "$small_redis" "$http_port" "$idle_port" "$mqtt_port" "$closed_mqtt" "$ws_answers" "$ws_deaf" \
  "$ws_closes" "$haproxy_tcp" "$haproxy_http"; do wait_port "$p" || { cat "$work"/*.log; echo "FAIL  a server did not listen on $p"; exit 1; }; done

run() {  # NAME ARGS...: a client run, its record in $work/NAME.json, its output in $work/NAME.out
  local name=$1; shift
  set +e
  "$c1m" client --progress off --hold 1s --json "$work/$name.json" "$@" >"$work/$name.out" 2>&1
  echo $? >"$work/$name.rc"
  set -e
}

# failed_with RUN CLASS AT_LEAST WHAT: the run failed (exit 1) with at least AT_LEAST errors of CLASS.
failed_with() {
  local n
  n=$(field "$work/$1.json" "r['results']['errors'].get('$2', 0)")
  if [ "$(cat "$work/$1.rc")" = 1 ] && [ "$n" -ge "$3" ]; then
    ok "$4 ($n $2)"
  else
    bad "$4: exit $(cat "$work/$1.rc"), $n $2 (at least $3 expected): $(tail -3 "$work/$1.out")"
  fi
}

run redis --target "127.0.0.1:$redis_port" --protocol redis --connections 500 --live 2s --ping-interval 1s
if [ "$(cat "$work/redis.rc")" = 0 ] && [ "$(field "$work/redis.json" 'r["status"]')" = complete ] &&
  [ "$(field "$work/redis.json" 'r["results"]["errors_total"]')" = 0 ] &&
  [ "$(field "$work/redis.json" 'answered_all(r, 500)')" = True ]; then
  ok "redis-server: 500 held, every PING answered +PONG ($(field "$work/redis.json" 'r["results"]["pongs_received"]') of $(field "$work/redis.json" 'r["results"]["pings_sent"]')), config.protocol $(field "$work/redis.json" 'r["config"]["protocol"]')"
else
  bad "redis-server: exit $(cat "$work/redis.rc"): $(field "$work/redis.json" 'r["results"]["pings_sent"], r["results"]["pongs_received"], r["results"]["errors"]')"
fi

run full --target "127.0.0.1:$small_redis" --protocol redis --connections 300 --live 2s --ping-interval 1s
failed_with full refused 150 "redis-server --maxclients 100: its 'max number of clients' replies counted, the run failed"

run http --target "127.0.0.1:$http_port" --protocol http --connections 500 --live 2s --ping-interval 1s
if [ "$(cat "$work/http.rc")" = 0 ] && [ "$(field "$work/http.json" 'r["results"]["errors_total"]')" = 0 ] &&
  [ "$(field "$work/http.json" 'r["results"]["http_replies_2xx"] == r["results"]["pongs_received"] >= 500')" = True ]; then
  ok "nginx: 500 held over HTTP/1.1 keep-alive, every GET / answered 2xx ($(field "$work/http.json" 'r["results"]["http_replies_2xx"]'))"
else
  bad "nginx: exit $(cat "$work/http.rc"): $(tail -3 "$work/http.out")"
fi

# --target-pid: nginx's own cost, its master and worker read from /proc, fills the server's figures.
run nginx_cost --target "127.0.0.1:$http_port" --protocol http --connections 500 --live 3s --ping-interval 1s \
  --target-pid "$nginx_pid"
if [ "$(cat "$work/nginx_cost.rc")" = 0 ] &&
  [ "$(field "$work/nginx_cost.json" 'r["topology"]["target"]["process"]["processes"] == 2 and r["topology"]["target"]["process"]["command"] == "nginx"')" = True ] &&
  [ "$(field "$work/nginx_cost.json" 'None not in (r["memory"]["user_bytes_per_connection_server"], r["results"]["live_cpu_cores_server"], r["results"]["ramp_cpu_server_s"])')" = True ] &&
  [ "$(field "$work/nginx_cost.json" '0 <= r["results"]["ramp_cpu_server_user_s"] <= r["results"]["ramp_cpu_server_s"]')" = True ]; then
  ok "--target-pid $nginx_pid: nginx's master and worker read from /proc: $(field "$work/nginx_cost.json" 'round(r["memory"]["user_bytes_per_connection_server"])') B a connection, ramp CPU $(field "$work/nginx_cost.json" 'r["results"]["ramp_cpu_server_s"]') s (user mode $(field "$work/nginx_cost.json" 'r["results"]["ramp_cpu_server_user_s"]') s), live $(field "$work/nginx_cost.json" 'r["results"]["live_cpu_cores_server"]') cores"
else
  bad "--target-pid on nginx: exit $(cat "$work/nginx_cost.rc"): $(field "$work/nginx_cost.json" 'r["topology"]["target"].get("process"), r["memory"]["user_bytes_per_connection_server"]')"
fi
[ "$(field "$work/nginx_cost.json" 'r["topology"]["target"]["process"]["cgroup"]["read"]')" = False ] &&
  ok "--target-pid $nginx_pid: nginx's cgroup not read: $(field "$work/nginx_cost.json" 'r["topology"]["target"]["process"]["cgroup"]["why_not"]')" ||
  bad "--target-pid on nginx, in the test's own cgroup: $(field "$work/nginx_cost.json" 'r["topology"]["target"]["process"]["cgroup"]')"

# --target-pid on a server in a cgroup of its own (as a service or a container is): its kernel bytes a
# connection from that cgroup. The test makes the cgroup (root, a writable cgroup tree) or says it cannot.
own_cgroup=""
if [ -w /sys/fs/cgroup/memory/cgroup.procs ]; then
  own_cgroup=/sys/fs/cgroup/memory/c1m-test-$$
elif [ -w /sys/fs/cgroup/cgroup.procs ]; then
  own_cgroup=/sys/fs/cgroup/c1m-test-$$
fi
if [ -n "$own_cgroup" ] && mkdir "$own_cgroup" 2>/dev/null && cgroups+=("$own_cgroup") && [ -f "$own_cgroup/memory.stat" ]; then
  cg_port=$(free_port)
  # shellcheck disable=SC2016  # $$ and $1 are the inner shell's: it joins the cgroup, then becomes redis
  sh -c 'echo $$ >"$1/cgroup.procs" && exec redis-server --port "$2" --bind 127.0.0.1 --save "" --appendonly no' \
    _ "$own_cgroup" "$cg_port" >"$work/redis-cgroup.log" 2>&1 &
  cg_pid=$!
  pids+=("$cg_pid")
  wait_port "$cg_port" || bad "redis in its own cgroup did not listen: $(cat "$work/redis-cgroup.log")"
  run own_cgroup --target "127.0.0.1:$cg_port" --protocol redis --connections 2000 --target-pid "$cg_pid"
  if [ "$(cat "$work/own_cgroup.rc")" = 0 ] &&
    [ "$(field "$work/own_cgroup.json" 'r["topology"]["target"]["process"]["cgroup"]["path"] == "/'"${own_cgroup##*/}"'"')" = True ] &&
    [ "$(field "$work/own_cgroup.json" '500 <= r["memory"]["kernel_bytes_per_connection_server"] <= 5000')" = True ]; then
    ok "--target-pid $cg_pid: redis in a cgroup of its own, $(field "$work/own_cgroup.json" 'round(r["memory"]["kernel_bytes_per_connection_server"])') kernel bytes a connection charged to it"
  else
    bad "--target-pid on redis in its own cgroup: exit $(cat "$work/own_cgroup.rc"): $(field "$work/own_cgroup.json" 'r["topology"]["target"]["process"].get("cgroup"), r["memory"]["kernel_bytes_per_connection_server"]')"
  fi
else
  echo "skip  --target-pid on a server in a cgroup of its own: no memory cgroup can be made here (needs root and a writable cgroup tree)"
fi

rc=0; "$c1m" client --target "127.0.0.1:$http_port" --protocol http --target-pid 999999999 >"$work/nope.out" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q "no such process" "$work/nope.out" && ok "--target-pid of no process: exit 2, $(head -1 "$work/nope.out")" ||
  bad "--target-pid of no process: exit $rc, $(cat "$work/nope.out")"

run gone --target "127.0.0.1:$http_port" --protocol http --http-path /gone --connections 200 --live 2s --ping-interval 1s
if [ "$(field "$work/gone.json" 'r["results"]["http_replies_5xx"] == r["results"]["pongs_received"] >= 200 and r["results"]["http_replies_2xx"] == 0')" = True ]; then
  ok "nginx: GET /gone answered 503, counted as 5xx ($(field "$work/gone.json" 'r["results"]["http_replies_5xx"]')), none as 2xx"
else
  bad "nginx 503: $(tail -3 "$work/gone.out")"
fi

run mqtt --target "127.0.0.1:$mqtt_port" --protocol mqtt --connections 500 --live 2s --ping-interval 1s
if [ "$(cat "$work/mqtt.rc")" = 0 ] && [ "$(field "$work/mqtt.json" 'r["results"]["errors_total"]')" = 0 ] &&
  [ "$(field "$work/mqtt.json" 'answered_all(r, 500)')" = True ]; then
  ok "mosquitto: 500 connected (CONNECT, CONNACK accepted), every PINGREQ answered PINGRESP ($(field "$work/mqtt.json" 'r["results"]["pongs_received"]'))"
else
  bad "mosquitto: exit $(cat "$work/mqtt.rc"): $(field "$work/mqtt.json" 'r["results"]["pings_sent"], r["results"]["pongs_received"], r["results"]["errors_total"], r["results"]["pings_late"]')"
fi

run mqtt_no --target "127.0.0.1:$closed_mqtt" --protocol mqtt --connections 100 --live 2s --ping-interval 1s
failed_with mqtt_no refused 100 "mosquitto with allow_anonymous false: its CONNACK refusals counted, the run failed"

run raw --target "127.0.0.1:$http_port" --protocol raw --connections 300
if [ "$(cat "$work/raw.rc")" = 0 ] && [ "$(field "$work/raw.json" 'r["results"]["established_peak_client"]')" = 300 ] &&
  [ "$(field "$work/raw.json" 'r["results"]["pings_sent"]')" = 0 ]; then
  ok "raw: 300 held on nginx, no byte sent"
else
  bad "raw on nginx: exit $(cat "$work/raw.rc"): $(tail -3 "$work/raw.out")"
fi

run idle --target "127.0.0.1:$idle_port" --protocol http --connections 200 --live 4s --ping-interval 3s
failed_with idle peer_closed 150 "nginx with keepalive_timeout 1s, pinged every 3 s: its closes of idle connections counted"

# websockets pings each client every second and closes one whose pong is late by a second: 0 errors
# over 5 s says the client answers the server's pings as well as its own being answered.
run ws --target "127.0.0.1:$ws_answers" --protocol websocket --http-path /chat --connections 300 --live 3s --ping-interval 1s
if [ "$(cat "$work/ws.rc")" = 0 ] && [ "$(field "$work/ws.json" 'r["results"]["errors_total"]')" = 0 ] &&
  [ "$(field "$work/ws.json" 'answered_all(r, 600)')" = True ]; then
  ok "python3-websockets: 300 upgraded and held 5 s, every ping frame answered by its pong ($(field "$work/ws.json" 'r["results"]["pongs_received"]')), the server's own pings answered (0 closed)"
else
  bad "python3-websockets: exit $(cat "$work/ws.rc"): $(field "$work/ws.json" 'r["results"]["pings_sent"], r["results"]["pongs_received"], r["results"]["errors"]')"
fi

run ws_deaf --target "127.0.0.1:$ws_deaf" --protocol websocket --connections 100 --live 2s --ping-interval 1s
failed_with ws_deaf no_answer 100 "a WebSocket server that drops pings: $(field "$work/ws_deaf.json" 'r["results"]["pongs_received"]') pongs, the run failed"

run ws_closes --target "127.0.0.1:$ws_closes" --protocol websocket --connections 100 --live 2s --ping-interval 1s
failed_with ws_closes close_frame 100 "a WebSocket server that closes after a second: its close frames counted"

run ws_on_http --target "127.0.0.1:$http_port" --protocol websocket --connections 50 --live 2s --ping-interval 1s
failed_with ws_on_http refused 50 "websocket against nginx, which does not upgrade: each answer not 101 counted ($(field "$work/ws_on_http.json" 'r["results"]["http_replies_2xx"]') of them 2xx)"

run haproxy_raw --target "127.0.0.1:$haproxy_tcp" --protocol raw --connections 300
run haproxy_http --target "127.0.0.1:$haproxy_http" --protocol http --connections 300 --live 2s --ping-interval 1s
if [ "$(cat "$work/haproxy_raw.rc")" = 0 ] && [ "$(field "$work/haproxy_raw.json" 'r["results"]["established_peak_client"]')" = 300 ] &&
  [ "$(cat "$work/haproxy_http.rc")" = 0 ] && [ "$(field "$work/haproxy_http.json" 'r["results"]["errors_total"]')" = 0 ] &&
  [ "$(field "$work/haproxy_http.json" 'r["results"]["http_replies_2xx"] == r["results"]["pongs_received"] >= 300')" = True ]; then
  ok "haproxy: 300 held raw in TCP mode (proxied to nginx); 300 held in HTTP mode, every GET answered 2xx ($(field "$work/haproxy_http.json" 'r["results"]["http_replies_2xx"]'))"
else
  bad "haproxy: raw exit $(cat "$work/haproxy_raw.rc"), http exit $(cat "$work/haproxy_http.rc"): $(tail -2 "$work/haproxy_raw.out") $(tail -2 "$work/haproxy_http.out")"
fi

# --find-limit: a limit set on the server (redis's maxclients, its process's file limit, mosquitto's
# max_connections) is found, held, and named; the run is complete with the capacity it found.
# mosquitto ends a connection past its cap with a close or, when the CONNECT crossed it, a reset.
ulimit_redis=$(free_port) capped_mqtt=$(free_port)
(ulimit -n 120 && exec redis-server --port "$ulimit_redis" --bind 127.0.0.1 --save '' --appendonly no) >"$work/redis-ulimit.log" 2>&1 &
pids+=($!)
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_connections 50\n' "$capped_mqtt" >"$work/mqtt-capped.conf"
mosquitto -c "$work/mqtt-capped.conf" >"$work/mqtt-capped.log" 2>&1 &
pids+=($!)
wait_port "$ulimit_redis" && wait_port "$capped_mqtt"
limit_ok() {  # NAME LOW HIGH CLASSES: complete, held within [LOW, HIGH], bound by one of CLASSES (a|b)
  [ "$(cat "$work/$1.rc")" = 0 ] && [ "$(field "$work/$1.json" 'r["status"]')" = complete ] &&
    [ "$(field "$work/$1.json" "$2 <= r['results']['limit_connections'] <= $3")" = True ] &&
    [[ "$(field "$work/$1.json" 'r["topology"]["target"]["limit"]["bound_by"]')" =~ ^($4)$ ]]
}
run fl_maxclients --target "127.0.0.1:$small_redis" --protocol redis --connections 300 --find-limit
run fl_ulimit --target "127.0.0.1:$ulimit_redis" --protocol redis --connections 300 --find-limit
run fl_mqtt --target "127.0.0.1:$capped_mqtt" --protocol mqtt --connections 200 --find-limit
for name in fl_maxclients:80:100:refused fl_ulimit:60:120:refused fl_mqtt:40:60:peer_closed\|econnreset; do
  IFS=: read -r run low high class <<<"$name"
  if limit_ok "$run" "$low" "$high" "$class"; then
    ok "--find-limit ($run): $(field "$work/$run.json" 'r["reason"]')"
  else
    bad "--find-limit ($run): exit $(cat "$work/$run.rc"), $(field "$work/$run.json" 'r["status"], r["reason"], r["results"]["limit_connections"]')"
  fi
done

# --slo-p99: an objective no server meets (20 us) ends a paced ramp within its first seconds.
run fl_slo --target "127.0.0.1:$redis_port" --protocol redis --connections 900 --rate 150 --find-limit \
  --slo-p99 20us --ping-interval 200ms
if limit_ok fl_slo 1 899 slo && [[ "$(field "$work/fl_slo.json" 'r["reason"]')" == *"the latency objective, ping p99 over 20us for 3 s"* ]]; then
  ok "--find-limit --slo-p99 20us: $(field "$work/fl_slo.json" 'r["reason"]')"
else
  bad "--slo-p99: exit $(cat "$work/fl_slo.rc"), $(field "$work/fl_slo.json" 'r["status"], r["reason"]')"
fi
rc=0; "$c1m" client --target "127.0.0.1:$redis_port" --protocol redis --slo-p99 50ms >"$work/nope.out" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q "add --find-limit and --ping-interval" "$work/nope.out" && ok "--slo-p99 alone: exit 2, named" ||
  bad "--slo-p99 alone: exit $rc, $(cat "$work/nope.out")"

# The probe before the ramp: what the server says it is goes into the record; a target that speaks
# another protocol, or where nothing listens, fails the run before it starts, in one line.
software() { field "$work/$1.json" 'r["topology"]["target"]["software"]'; }
if [[ "$(software redis)" =~ ^redis\ 7\. ]] && [[ "$(software http)" =~ ^nginx/1\. ]] && [[ "$(software ws)" =~ ^Python/.*websockets/10 ]] &&
  [[ "$(software haproxy_http)" = None ]]; then
  ok "the probe names each server in topology.target.software: '$(software redis)', '$(software http)', '$(software ws)'; haproxy says nothing (None)"
else
  bad "topology.target.software: redis '$(software redis)', nginx '$(software http)', websockets '$(software ws)', haproxy '$(software haproxy_http)'"
fi
run wrong --target "127.0.0.1:$redis_port" --protocol http --connections 100 --target-name "redis, asked for http"
reason=$(field "$work/wrong.json" 'r["reason"]')
if [ "$(cat "$work/wrong.rc")" = 1 ] && [[ "$reason" == *"(http): it closed the connection without answering: is it a http server?"* ]] &&
  [ "$(field "$work/wrong.json" 'r["results"]["attempted"]')" = 0 ] && [ "$(field "$work/wrong.json" 'r["topology"]["target"]["name"]')" = "redis, asked for http" ]; then
  ok "http asked of redis: the run failed before its ramp (0 attempted): $reason"
else
  bad "http asked of redis: exit $(cat "$work/wrong.rc"), reason $reason"
fi
run nobody --target "127.0.0.1:$(free_port)" --protocol mqtt --connections 100
reason=$(field "$work/nobody.json" 'r["reason"]')
[ "$(cat "$work/nobody.rc")" = 1 ] && [[ "$reason" == *"nothing listens there (connection refused)"* ]] &&
  ok "mqtt to a port nothing listens on: the run failed before its ramp: $reason" || bad "a port nothing listens on: exit $(cat "$work/nobody.rc"), reason $reason"

rc=0; "$c1m" client --target "127.0.0.1:$redis_port" --protocol raw --live 2s >"$work/nope.out" 2>&1 || rc=$?
if [ "$rc" = 2 ] && grep -q "protocol raw sends nothing" "$work/nope.out"; then
  ok "--protocol raw with --live: exit 2, $(head -1 "$work/nope.out")"
else
  bad "--protocol raw with --live: exit $rc, $(cat "$work/nope.out")"
fi
rc=0; "$c1m" client --target "127.0.0.1:$redis_port" --protocol smtp >"$work/nope.out" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q "expected one of raw, echo, redis, http, mqtt, websocket" "$work/nope.out" &&
  ok "--protocol smtp (not spoken): exit 2, named" || bad "--protocol smtp: exit $rc, $(cat "$work/nope.out")"

echo "protocols: $passed passed, $failed failed"
[ "$failed" = 0 ]
