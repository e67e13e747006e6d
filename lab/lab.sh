#!/usr/bin/env bash
# The container lab: lab.sh up | down | status | collect [DIR]
#   up      preflight, images, veth parent, the collector (kept across runs), server, clients; the
#           collector writes the run's record into results/
#   down    containers, networks, veth: nothing left behind
#   status  what runs and how many connections each side holds
#   collect [DIR]  merge the client records a run left in DIR again, offline (c1m collect --dir)
# Settings (environment; defaults in brackets):
#   APPROACH [multi-ip] or multi-port   N [1000000] connections   HOLD [30s]
#   CLIENTS  [20 for multi-ip, 1 for multi-port]   C1M_NOFILE [20000] per container
#   C1M_SCHED [normal for multi-ip, batch for multi-port]: the workers' CPU policy (c1m --sched)
#   C1M_LIVE_SCHED [normal]: theirs once the pings begin (c1m --live-sched)
#   C1M_SERVER_CPU_SHARES [1024, docker's default]: the server container's CPU weight in the ramp
#   C1M_SERVER_CPU_SHARES_HELD [1024 x CLIENTS with LIVE, else C1M_SERVER_CPU_SHARES]: its weight
#     from when it holds all N (the hold and the live hold)
#   C1M_SERVER_CPUS, C1M_CLIENT_CPUS [none]: cap the server container, or each client container, at
#     this many cores (docker update --cpus): a what-if, or a planted slowdown that shows a CI gate
#     catches one (at N=20,000 the handshakes are the kernel's, not the server's: a server capped at
#     0.2 cores ramped as fast as one uncapped; the clients' cap slows the ramp)
#   C1M_SERVER_QDISC [none]: a tc qdisc on the server container's lab interface, set from the host
#     ("tbf rate 20mbit burst 16kb latency 500ms": its replies through a 20 Mbit/s link): a slower
#     network, or a planted slowdown that a CI gate must catch (make gate-trials)
#   LIVE [0]: after HOLD, hold this long more with every connection pinged once a C1M_PING_INTERVAL [30s]
#   C1M_CONNTRACK [on], off or server: off adds a NOTRACK rule to each container's namespace (from the
#     host, as root: the containers get no capability), so the lab's connections are not tracked;
#     server untracks only the clients' namespaces, so each connection is tracked once, by the
#     server's, as when the clients are other hosts (on, Docker's default, tracks it twice)
#   C1M_SUBNET [198.18.0.0/15]   C1M_PARENT [c1m0, a veth pair made here]   FORCE=1 past the preflight
set -euo pipefail
cd "$(dirname "$0")/.."
C1M=${C1M:-build/c1m}
COMPOSE=${COMPOSE:-$(docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)}
PROJECT=c1m
VETH=c1m0
VETH_PEER=c1m0p

die() { echo "lab: $*" >&2; exit 2; }   # bad input or an unready host: one line, exit 2
say() { echo "lab: $*"; }

compose() { $COMPOSE -p "$PROJECT" "$@"; }

need_docker() {
  docker info >/dev/null 2>&1 || die "no Docker engine answers here (docker info failed): start it, or use make bench-native"
}

. lab/lab_settings.sh  # resolve_settings, doctor, preflight, way_out
. lab/lab_target.sh    # TARGET=IMAGE: the user's server in c1m's server's place

build_images() {
  local stage=build/image sha version
  mkdir -p "$stage"
  strip -o "$stage/c1m" "$C1M"
  sha=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
  version=$("$C1M" --version | awk '{print $2}')
  # The legacy builder: Debian's docker.io has no buildx. Its deprecation notice is noise, so the
  # builder's output is shown only when a build fails.
  for role in server client collector; do
    DOCKER_BUILDKIT=0 docker build -q -f docker/Dockerfile --target "$role" --build-arg C1M_VERSION="$version" --build-arg C1M_GIT_SHA="$sha" \
      -t "c1m-$role:latest" "$stage" >"build/image-$role.log" 2>&1 ||
      { cat "build/image-$role.log" >&2; die "the c1m-$role image did not build (above)"; }
  done
  say "images c1m-server, c1m-client and c1m-collector built ($(du -h "$stage/c1m" | cut -f1) binary, FROM scratch)"
}

make_parent() {
  [ "$C1M_PARENT" = "$VETH" ] || return 0
  if ! ip link show "$VETH" >/dev/null 2>&1; then
    ip link add "$VETH" type veth peer name "$VETH_PEER" || die "cannot create the veth pair $VETH/$VETH_PEER (needs root, CAP_NET_ADMIN)"
  fi
  ip link set "$VETH" up
  ip link set "$VETH_PEER" up
}

# What compose reads: also lets `docker compose run client` find the running lab. The swarm lab
# (lab/swarm.sh) renders its stack from compose.yaml with its own copy.
write_env() {  # [FILE, .env]
  cat > "${1:-.env}" <<ENV
COMPOSE_PROJECT_NAME=$PROJECT
C1M_PARENT=$C1M_PARENT
C1M_SUBNET=$C1M_SUBNET
C1M_GATEWAY=$C1M_GATEWAY
C1M_CLIENT_RANGE=$C1M_CLIENT_RANGE
C1M_SERVER_IP=$C1M_SERVER_IP
C1M_SERVER_PORTS=$PORTS
C1M_CONNECTIONS=$N
C1M_PER_CLIENT=$(( N / CLIENTS ))
C1M_APPROACH=$APPROACH
C1M_HOLD=$HOLD
C1M_LIVE=$LIVE
C1M_PING_INTERVAL=$C1M_PING_INTERVAL
C1M_CONNTRACK=$C1M_CONNTRACK
C1M_START_DELAY=$C1M_START_DELAY
C1M_NOFILE=$C1M_NOFILE
C1M_SCHED=$C1M_SCHED
C1M_LIVE_SCHED=$C1M_LIVE_SCHED
C1M_PORT_RANGE=$C1M_PORT_RANGE
C1M_STALL_TIMEOUT=$C1M_STALL_TIMEOUT
C1M_SERVER_CPU_SHARES=$C1M_SERVER_CPU_SHARES
C1M_SERVER_CPU_SHARES_HELD=$C1M_SERVER_CPU_SHARES_HELD
C1M_RUN_DIR=$RUN_DIR
C1M_RUN_ID=$RUN_ID
C1M_RUN_TOKEN=$RUN_TOKEN
C1M_ADMIN_TOKEN=$ADMIN_TOKEN
C1M_HOST_NAME=$(hostname)
C1M_RESULTS_UID=$(stat -c %u results)
C1M_RESULTS_GID=$(stat -c %g results)
C1M_CONTAINER_RUNTIME=docker/$(docker version -f '{{.Server.Version}}' 2>/dev/null)
C1M_COMPOSE_VERSION=$($COMPOSE version --short 2>/dev/null || echo unknown)
$(target_env)
ENV
}

COLLECTOR=http://127.0.0.1:${C1M_COLLECTOR_PORT:-9200}

# The collector hears only participants that carry the run token, and only the lab (which keeps the
# admin token from the participants) closes a run. Kept across runs (so the collector, which lives
# across runs, is not recreated for a new one), readable by root only.
lab_tokens() {
  mkdir -p build/lab
  local t
  for t in run-token admin-token; do
    [ -s "build/lab/$t" ] || (umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' > "build/lab/$t")
  done
  RUN_TOKEN=$(cat build/lab/run-token) ADMIN_TOKEN=$(cat build/lab/admin-token)
}

wait_for() {  # URL WHAT: 20 s at most
  for _ in $(seq 1 100); do
    curl -sf "$1" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  die "$2 did not answer within 20 s ($1)"
}

collector_logs() { compose logs --tail 20 collector; }

# The run's record, once the collector has written it. The lab knows when every client has ended and
# says so, so a client that died without a record is named at once, not waited for until the deadline.
await_record() {  # RUN_ID: prints the record's path under results/
  local id=$1 code=""
  for i in $(seq 1 150); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$COLLECTOR/runs/$id")
    [ "$code" = 200 ] && break
    # Every client has ended: close the run, so a client that left no record is named now. A server
    # still closing its connections keeps its grace (15 s after the last client's record).
    [ "$i" = 35 ] && curl -s -X POST -H "Authorization: Bearer $ADMIN_TOKEN" "$COLLECTOR/runs/$id/close" >/dev/null
    sleep 0.2
  done
  [ "$code" = 200 ] || { collector_logs >&2; die "the collector wrote no record for run $id (GET /runs/$id: $code)"; }
  curl -sf "$COLLECTOR/runs" | python3 -c 'import json, sys; print(next(r["record"] for r in json.load(sys.stdin) if r["run"] == sys.argv[1]))' "$id" |
    sed 's|^/results/|results/|'
}

service_ids() {  # SERVICE [docker ps flags]: the ids of that service's containers in this lab's run
  local service=$1; shift
  # Not the one-offs (`compose run client`, labelled oneoff=True by either compose): no run of lab-up's.
  docker ps -q "$@" --filter "label=com.docker.compose.project=$PROJECT" --filter "label=com.docker.compose.service=$service" \
    --filter "label=com.docker.compose.oneoff=False"
}

up() {
  resolve_settings
  need_docker
  check_target
  preflight
  build_images
  make_parent
  RUN_ID=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')  # as c1m names runs: 16 hex digits
  lab_tokens
  # The clients' own copies and status files; results/ is the collector's.
  RUN_DIR=./build/lab/$(date -u +%Y%m%dT%H%M%SZ)-$APPROACH-$RUN_ID
  mkdir -p "$RUN_DIR" results
  rm -f build/lab/last-record
  chmod 0777 "$RUN_DIR"  # the clients run as nobody
  write_target_override
  write_env
  # The collector lives across runs (recreated only when its settings change); server and clients are this run's.
  compose rm -sf server client >/dev/null 2>&1 || true
  compose up -d collector 2>&1 | grep -v "is up-to-date" || true
  wait_for "$COLLECTOR/health" "the collector"
  say "$APPROACH: $N connections from $CLIENTS client container(s) to ${TARGET:+$TARGET at }$C1M_SERVER_IP:$PORTS ($PROTOCOL$([ "${C1M_TLS:-0}" = 1 ] && echo " over TLS")) on macvlan over $C1M_PARENT, run $RUN_ID"
  compose up -d server 2>&1 | grep -v "is up-to-date" || true
  # Each container is a cgroup and the CPU is shared between cgroups (see C1M_SCHED above). Set here:
  # docker-compose 1.29 takes no cpu_shares from a variable. Each participant reads its own back.
  # A server already gone (a target given a bad option) cannot be updated: the wait below names it.
  # -a: a server that has already exited is still listed, so the wait below can name it.
  local server_id; server_id=$(service_ids server -a | head -1)
  docker update --cpu-shares "$C1M_SERVER_CPU_SHARES" "$server_id" >/dev/null 2>&1 ||
    [ "$(docker inspect -f '{{.State.Running}}' "$server_id" 2>/dev/null)" = false ] ||
    die "docker update --cpu-shares refused the server container"
  if [ -n "${C1M_SERVER_CPUS:-}" ]; then
    docker update --cpus "$C1M_SERVER_CPUS" "$server_id" >/dev/null || die "C1M_SERVER_CPUS=$C1M_SERVER_CPUS: docker update --cpus refused it"
    say "the server container is capped at $C1M_SERVER_CPUS cores (C1M_SERVER_CPUS)"
  fi
  if [ -n "$TARGET" ]; then
    wait_for_listener
    start_meter
  else
    wait_for "http://127.0.0.1:${C1M_ADMIN_PORT:-9100}/stats" "the server's /stats"
  fi
  if [ -n "${C1M_SERVER_QDISC:-}" ]; then
    shape_server "$(service_ids server)" || die "C1M_SERVER_QDISC=$C1M_SERVER_QDISC: tc refused it on the server's lab interface (above)"
    say "the server's lab interface sends through: $C1M_SERVER_QDISC (C1M_SERVER_QDISC)"
  fi
  local untracker=""
  if [ "$C1M_CONNTRACK" = off ]; then
    untrack "$(service_ids server)" || die "could not untrack the server's namespace"
  fi
  [ "$C1M_CONNTRACK" = on ] || { untrack_clients_as_they_start & untracker=$!; }
  # The clients join this run (a one-off `compose run client` joins none). Every client counts HOLD
  # from when the server holds all N at once, so N are held together for HOLD. They wait for the
  # start file: compose starts them one after another (20 took 21 s on a tracked host with 1M in
  # the table), and a client that ramps while the next ones start makes the others' starts slower
  # and the lab's time to target theirs.
  local started_s=$SECONDS
  # Where the preflight cut N, the record says what was asked and what cut it.
  local asked=""; [ -n "$LIMIT_NOTE" ] && asked=$WANTED
  # A target has no /stats to count from: each client holds HOLD from its own ramp's end.
  C1M_JOIN_RUN=$RUN_ID C1M_RUN_CLIENTS=$CLIENTS C1M_HOLD_UNTIL_SERVER=$([ -n "$TARGET" ] && echo 0 || echo "$N") C1M_START_FILE=/run/go \
    C1M_RUN_ASKED=$asked C1M_RUN_CUT_BY=$LIMIT_NOTE \
    compose up -d --scale client="$CLIENTS" client 2>&1 | grep -v "is up-to-date" || true
  if [ -n "${C1M_CLIENT_CPUS:-}" ]; then  # before the start line: the whole ramp runs capped
    docker update --cpus "$C1M_CLIENT_CPUS" $(service_ids client) >/dev/null || die "C1M_CLIENT_CPUS=$C1M_CLIENT_CPUS: docker update --cpus refused it"
    say "each client container is capped at $C1M_CLIENT_CPUS cores (C1M_CLIENT_CPUS)"
  fi
  if [ -n "$untracker" ] && ! wait "$untracker"; then
    compose stop -t 20 client >/dev/null 2>&1
    die "C1M_CONNTRACK=$C1M_CONNTRACK: not every client's namespace could be untracked (above); the run is stopped"
  fi
  touch "$RUN_DIR/go"
  say "$(service_ids client | wc -l) client container(s) started in $(( SECONDS - started_s )) s; they ramp from now"
  # The run as it goes, from the participants' own counts (it ends when every client has ended).
  "$C1M" watch $([ -n "$TARGET" ] && echo "--target-pid $(target_pid)" || echo "--server-stats 127.0.0.1:${C1M_ADMIN_PORT:-9100}") \
    --dir "$RUN_DIR" -n "$N" --clients "$CLIENTS" --timeout 16m &
  local watcher=$! weigher=""
  if [ "$C1M_SERVER_CPU_SHARES_HELD" != "$C1M_SERVER_CPU_SHARES" ] && [ -z "$TARGET" ]; then
    weigh_server_when_held & weigher=$!
  fi
  # Bounded: each client stops by itself: a ramp or a wait that adds nothing for C1M_STALL_TIMEOUT,
  # the ramp timeout (10m), or the end of its hold.
  local deadline=$(( SECONDS + 900 ))
  while [ -n "$(service_ids client)" ]; do
    (( SECONDS < deadline )) || { say "clients still running after 15 min: stopping them"; compose stop -t 20 client; break; }
    sleep 2
  done
  kill "$watcher" $weigher 2>/dev/null || true
  wait "$watcher" $weigher 2>/dev/null || true
  explain_missing "$RUN_DIR"
  stop_meter
  local record status=0
  record=$(await_record "$RUN_ID") || exit 2
  echo "$record" > build/lab/last-record  # for scripts (make ci-bench), rather than reading the summary
  "$C1M" collect --show "$record" || status=$?
  way_out
  return "$status"
}

# From when the server holds all N until the run ends: its CPU weight C1M_SERVER_CPU_SHARES_HELD. It
# polls the server's /stats (as c1m watch does) while any client runs; a run that never reaches N keeps
# the ramp's weight, and says so.
weigh_server_when_held() {
  local held
  while [ -n "$(service_ids client)" ]; do
    held=$(curl -sf --max-time 2 "http://127.0.0.1:${C1M_ADMIN_PORT:-9100}/stats" 2>/dev/null |
      python3 -c 'import json, sys; print(json.load(sys.stdin)["connections"])' 2>/dev/null) || held=0
    if (( held >= N )); then
      docker update --cpu-shares "$C1M_SERVER_CPU_SHARES_HELD" "$(service_ids server)" >/dev/null &&
        say "the server holds $held: its CPU weight is now $C1M_SERVER_CPU_SHARES_HELD (C1M_SERVER_CPU_SHARES_HELD) to the end"
      return
    fi
    sleep 0.5
  done
  say "the server never held all $N: its CPU weight stayed $C1M_SERVER_CPU_SHARES"
}

# C1M_CONNTRACK=off or server. A container's network namespace tracks every connection it sees (in the
# lab the server's holds an entry for each, and each client's for its own). A NOTRACK rule in the raw
# table, both ways, leaves them untracked. Added from the host (nsenter, as root): the containers keep no
# capability. Verified by reading the rules back.
# A qdisc on the server container's lab interface (the macvlan end; its traffic never crosses the
# veth parent, so a qdisc there would shape nothing), set from the host as root.
shape_server() {  # CONTAINER_ID
  local pid dev
  pid=$(docker inspect -f '{{.State.Pid}}' "$1") && [ "$pid" -gt 0 ] || return 1
  dev=$(nsenter -t "$pid" -n ip -o -4 addr show to "$C1M_SERVER_IP" | awk '{print $2}') && [ -n "$dev" ] || return 1
  # shellcheck disable=SC2086 # the spec is words for tc
  nsenter -t "$pid" -n tc qdisc replace dev "$dev" root $C1M_SERVER_QDISC
}

untrack() {  # CONTAINER_ID
  local pid
  pid=$(docker inspect -f '{{.State.Pid}}' "$1") && [ "$pid" -gt 0 ] || return 1
  nsenter -t "$pid" -n iptables -w -t raw -A PREROUTING -j NOTRACK &&
    nsenter -t "$pid" -n iptables -w -t raw -A OUTPUT -j NOTRACK &&
    [ "$(nsenter -t "$pid" -n iptables -w -t raw -S | grep -c -- '-j CT --notrack\|-j NOTRACK')" -ge 2 ]
}

# Each client container as soon as it runs, before the start file lets it ramp, until all are
# done or 60 s have passed. Fails if one could not be untracked or did not come.
untrack_clients_as_they_start() {
  local seen=" " id deadline=$(( SECONDS + 60 ))
  while (( SECONDS < deadline )); do
    for id in $(service_ids client); do
      [[ "$seen" == *" $id "* ]] && continue
      untrack "$id" || { echo "lab: could not untrack client container $id" >&2; return 1; }
      seen+="$id "
    done
    (( $(wc -w <<<"$seen") >= CLIENTS )) && return 0
    sleep 0.1
  done
  echo "lab: only $(wc -w <<<"$seen") of $CLIENTS client containers came to be untracked within 60 s" >&2
  return 1
}

# What is known of a client that left no record of its own: how it ended, and its last words.
explain_missing() {  # RUN_DIR
  local dir=$1 id name
  for id in $(service_ids client -a); do
    name=$(docker inspect -f '{{.Config.Hostname}}' "$id")
    [ -f "$dir/client-$name.json" ] && continue
    docker logs --tail 50 "$id" > "$dir/client-$name.log" 2>&1 || true
    say "client $name left no record: $(docker inspect -f 'exit {{.State.ExitCode}}{{if .State.OOMKilled}}, OOM-killed{{end}} {{.State.Error}}' "$id"); log in $dir/client-$name.log"
  done
}

# Offline: merge again the records the clients of a run left in DIR (the collector wrote the run's
# record already; this is for records copied from elsewhere, or a run whose collector was not there).
collect() {
  local dir=${1:?run directory}
  "$C1M" collect --dir "$dir" --out results --approach "${C1M_APPROACH:-multi-ip}"
}

down() {
  compose down --remove-orphans -t 20 >/dev/null 2>&1 || true
  # One-off clients of either compose tool: one tool's `down` does not see the other's `run` containers.
  local oneoffs
  oneoffs=$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT")
  [ -z "$oneoffs" ] || docker rm -f $oneoffs >/dev/null 2>&1 || true
  # A container just removed can hold its endpoint on the network a moment longer (the engine says
  # "has active endpoints"): the removal is tried again for up to 5 s.
  local networks
  for _ in $(seq 1 10); do
    networks=$(docker network ls -q --filter "label=com.docker.compose.project=$PROJECT")
    [ -n "$networks" ] || break
    docker network rm $networks >/dev/null 2>&1 || sleep 0.5
  done
  networks=$(docker network ls -q --filter "label=com.docker.compose.project=$PROJECT")
  if ip link show "$VETH" >/dev/null 2>&1; then ip link del "$VETH"; fi
  local left
  left=$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT")
  [ -z "$left" ] || die "left behind: container(s) $left"
  # With no container left, a network the engine will not remove holds an endpoint of one that is gone.
  [ -z "$networks" ] || die "left behind: network(s) $networks, whose engine still counts an endpoint of a removed" \
    "container (docker network rm says \"has active endpoints\"); restarting the Docker engine clears it"
  say "down: no container, network or veth left"
}

# The server's line of a status: what it holds, from its /stats at ADDRESS:PORT.
server_status() {  # ADDRESS:PORT
  local stats
  if stats=$(curl -sf --max-time 2 "http://$1/stats" 2>/dev/null); then
    python3 -c 'import json, sys
s = json.load(sys.stdin)
print("server: %d connections held (peak %d), %d/%d workers, errors %d" % (
    s["connections"], s["connections_peak"], s["workers_alive"], s["workers"], sum(s["errors"].values())))' <<<"$stats"
  else
    echo "server: not answering on $1"
  fi
}

status() {
  docker ps -a --filter "label=com.docker.compose.project=$PROJECT" --format '{{.Names}}\t{{.Status}}' | sort
  local pid
  if grep -q '^COMPOSE_FILE=' .env 2>/dev/null && pid=$(target_pid); then
    echo "target: $(awk '/^Tcp:/ && ++n == 2 {print $10}' "/proc/$pid/net/snmp") connections established in its namespace"
  else
    server_status "127.0.0.1:${C1M_ADMIN_PORT:-9100}"
  fi
  if health=$(curl -sf "$COLLECTOR/health" 2>/dev/null); then
    echo "collector: $health"
  else
    echo "collector: not answering on $COLLECTOR"
  fi
}

# lab/swarm.sh sources this file for its settings, preflight and images: it runs nothing then.
[ "${BASH_SOURCE[0]}" = "$0" ] || return 0
case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  collect) set -a; [ -f .env ] && . ./.env; set +a; collect "${2:-${C1M_RUN_DIR:-}}" ;;
  images) build_images ;;
  *) die "usage: lab.sh up | down | status | images | collect [DIR]" ;;
esac
