#!/usr/bin/env bash
# The lab as a Docker Swarm stack, over as many hosts as the swarm has: swarm.sh up | down | status
#   up      images on every node, each node's doctor, labels, per-node macvlan, the stack (rendered
#           from compose.yaml by lab/swarm_stack.py), the run, its record in results/
#   down    the stack, networks, labels, shim; and here, the second engine, its namespace and veths
#   status  nodes, services, tasks, and how many connections the server holds
# Nodes: C1M_SWARM_NODES names a file, a line a node (the server node first, and it is this host,
# a manager: the collector writes results/ here):
#   server  unix:///var/run/docker.sock   eth1      # ROLE  DOCKER ENDPOINT  MACVLAN PARENT
#   client  ssh://root@10.0.0.12          eth1
#   client  ssh://root@10.0.0.13          eth1.20
# Without it, the lab makes its own two-node swarm on this machine: this engine is the manager and
# holds the server and the collector; a second engine in the network namespace c1m-w1 joins as a
# worker and holds the clients; a veth pair is the cable between the two "hosts" (one kernel: this
# proves the orchestration, not capacity past one host).
# Settings as lab/lab.sh's (APPROACH, N, HOLD, CLIENTS, C1M_NOFILE, C1M_SUBNET, ...), FORCE=1 past the
# nodes' doctors.
set -euo pipefail
cd "$(dirname "$0")/.."
. lab/lab.sh  # settings, images, wait_for, await_record (sourcing it runs nothing)
STACK=c1m-swarm
NET=c1m-swarm-lab   # the swarm-scoped macvlan network
CFG=c1m-swarm-cfg   # each node's config-only network of the same name: its parent and address range
STATE=build/swarm
# The local second node: its namespace, engine and the veths to it (cable: macvlan; control: swarm).
NS=c1m-w1
NS_RUN=/run/$NS
NS_DATA=/var/lib/$NS
WORKER=unix://$NS_RUN/docker.sock
CABLE=c1msw0 CABLE_PEER=c1msw0p
CONTROL=c1mswc0 CONTROL_PEER=c1mswc0p
MANAGER_ADDR=198.19.255.1 WORKER_ADDR=198.19.255.2  # the control veth's /30, in the lab range
SHIM=c1msw-host  # the host's own macvlan leg: a host cannot reach its macvlan children otherwise

die() { echo "swarm: $*" >&2; exit 2; }
say() { echo "swarm: $*"; }
collector_logs() { docker service logs --tail 20 "${STACK}_collector" 2>&1; }

ip2int() { local IFS=.; set -- $1; echo $(( ($1 << 24) | ($2 << 16) | ($3 << 8) | $4 )); }
int2ip() { echo "$(( $1 >> 24 & 255 )).$(( $1 >> 16 & 255 )).$(( $1 >> 8 & 255 )).$(( $1 & 255 ))"; }

# --- nodes ------------------------------------------------------------------------------------------
# ROLES, ENDPOINTS, PARENTS: one entry a node, the server node first.
read_nodes() {
  ROLES=() ENDPOINTS=() PARENTS=()
  if [ -z "${C1M_SWARM_NODES:-}" ]; then
    ROLES=(server client) ENDPOINTS=(unix:///var/run/docker.sock "$WORKER") PARENTS=("$CABLE" "$CABLE_PEER")
    LOCAL_PAIR=1
    return
  fi
  LOCAL_PAIR=""
  [ -r "$C1M_SWARM_NODES" ] || die "C1M_SWARM_NODES=$C1M_SWARM_NODES: no such file (a line a node: ROLE ENDPOINT PARENT)"
  local n=0 role ep parent extra
  while read -r role ep parent extra; do
    n=$((n + 1))
    [[ -z "$role" || "$role" == \#* ]] && continue
    [[ "$role" =~ ^(server|client)$ ]] || die "$C1M_SWARM_NODES line $n: role '$role': expected server or client"
    [ -n "$parent" ] && [[ -z "$extra" || "$extra" == \#* ]] ||
      die "$C1M_SWARM_NODES line $n: expected ROLE ENDPOINT PARENT (like: client ssh://root@10.0.0.12 eth1)"
    [[ "$parent" =~ ^[A-Za-z0-9_.@-]{1,15}$ ]] || die "$C1M_SWARM_NODES line $n: parent '$parent' is not an interface name"
    ROLES+=("$role") ENDPOINTS+=("$ep") PARENTS+=("$parent")
  done < "$C1M_SWARM_NODES"
  local servers=0
  for role in "${ROLES[@]}"; do [ "$role" = server ] && servers=$((servers + 1)); done
  [ "$servers" -eq 1 ] && [ "${ROLES[0]:-}" = server ] || die "$C1M_SWARM_NODES: the first node, and only it, is the server node"
  (( ${#ROLES[@]} >= 2 )) || die "$C1M_SWARM_NODES: no client node"
}

on() { local i=$1; shift; docker -H "${ENDPOINTS[$i]}" "$@"; }  # a command on node i's engine
client_nodes() { echo $(( ${#ROLES[@]} - 1 )); }

# Node i's address range: a /24 each, in order, from the subnet's start (the server node's /25, the
# rest of its /24 left to the gateway and the host's shim). Derived, so no two can overlap.
node_range() {
  local i=$1 base
  base=$(( $(ip2int "${C1M_SUBNET%/*}") + i * 256 ))
  if [ "$i" -eq 0 ]; then echo "$(int2ip "$base")/25"; else echo "$(int2ip "$base")/24"; fi
}
shim_addr() { int2ip $(( $(ip2int "${C1M_SUBNET%/*}") + 254 )); }

check_ranges() {
  local prefix=${C1M_SUBNET#*/} nodes=${#ROLES[@]} per_node
  (( (1 << (32 - prefix)) >= nodes * 256 )) || die "C1M_SUBNET=$C1M_SUBNET holds fewer than $nodes /24s, one a node"
  (( $(ip2int "${C1M_SUBNET%/*}") % 256 == 0 )) || die "C1M_SUBNET=$C1M_SUBNET: its start must be a /24's"
  per_node=$(( (CLIENTS + $(client_nodes) - 1) / $(client_nodes) ))
  (( per_node <= 250 )) || die "CLIENTS=$CLIENTS over $(client_nodes) client node(s) is $per_node a node: a node's /24 holds 250"
}

. lab/swarm_local.sh  # local_worker_up, local_worker_down

# --- swarm membership, labels, networks, images ---------------------------------------------------
# NODE_IDS, NODE_NAMES: each node's swarm id and hostname, asked of its own engine.
check_nodes() {
  NODE_IDS=() NODE_NAMES=()
  local i info
  for i in "${!ROLES[@]}"; do
    info=$(on "$i" info -f '{{.Swarm.LocalNodeState}}|{{.Swarm.NodeID}}|{{.Name}}' 2>/dev/null) ||
      die "node $i (${ENDPOINTS[$i]}): its Docker engine does not answer"
    IFS='|' read -r state id name <<<"$info"
    [ "$state" = active ] || die "node $i (${ENDPOINTS[$i]}) is not in a swarm ($state): docker swarm join it first (README: Many hosts: Docker Swarm)"
    NODE_IDS+=("$id") NODE_NAMES+=("$name")
  done
  [ "$(docker info -f '{{.Swarm.NodeID}}')" = "${NODE_IDS[0]}" ] || die "the server node (${ENDPOINTS[0]}) is not this host's engine: run swarm-up on it"
  [ "$(docker info -f '{{.Swarm.ControlAvailable}}')" = true ] || die "this engine is not a swarm manager: run swarm-up on a manager"
}

label_nodes() {
  local i
  for i in "${!ROLES[@]}"; do
    docker node update --label-add "c1m.role=${ROLES[$i]}" --label-add c1m.lab=1 "${NODE_IDS[$i]}" >/dev/null
  done
}

make_networks() {
  local i gateway
  gateway=$(int2ip $(( $(ip2int "${C1M_SUBNET%/*}") + 1 )))
  docker network rm "$NET" >/dev/null 2>&1 || true
  for i in "${!ROLES[@]}"; do
    on "$i" network rm "$CFG" >/dev/null 2>&1 || true
    on "$i" network create --config-only --subnet "$C1M_SUBNET" --gateway "$gateway" --ip-range "$(node_range "$i")" \
      -o parent="${PARENTS[$i]}" -o macvlan_mode=bridge "$CFG" >/dev/null ||
      die "node $i: cannot make its config-only network (parent ${PARENTS[$i]}, range $(node_range "$i"))"
  done
  docker network create -d macvlan --scope swarm --config-from "$CFG" "$NET" >/dev/null
  # The host's own leg on the server node's parent, to reach the collector and the server's /stats.
  ip link del "$SHIM" 2>/dev/null || true
  ip link add "$SHIM" link "${PARENTS[0]}" type macvlan mode bridge
  ip addr add "$(shim_addr)/24" dev "$SHIM"
  ip link set "$SHIM" up
}

# Images reach each node by `docker save | docker load` through its endpoint, only where they differ.
ship_images() {
  local i images=(c1m-server:latest c1m-client:latest c1m-collector:latest) want have
  want=$(docker image inspect -f '{{.Id}}' "${images[@]}" | tr '\n' ' ')
  for i in "${!ROLES[@]}"; do
    [ "$i" -eq 0 ] && continue
    have=$(on "$i" image inspect -f '{{.Id}}' "${images[@]}" 2>/dev/null | tr '\n' ' ' || true)
    [ "$have" = "$want" ] && continue
    docker save "${images[@]}" | on "$i" load -q >/dev/null || die "node $i (${ENDPOINTS[$i]}): docker load failed"
  done
  say "images on ${#ROLES[@]} nodes ($(docker save "${images[@]}" | wc -c | awk '{printf "%.1f MB", $1 / 1e6}') a node, by docker save | docker load)"
}

# --- each node's doctor ------------------------------------------------------------------------------
# A one-shot job on each node, in the host's network namespace (the host-wide sysctls), for that
# node's share: the server node all N, a client node its clients' part. Refuses the run when a node
# cannot hold its share, unless FORCE=1.
node_doctors() {
  local i share args state failed=0 svc
  for i in "${!ROLES[@]}"; do
    svc=c1m-doctor-$i
    docker service rm "$svc" >/dev/null 2>&1 || true
    if [ "${ROLES[$i]}" = server ]; then
      share=$N args=(--in-containers --pairs "$PAIRS" --stats-pollers "$CLIENTS")
    else
      share=$(( N / CLIENTS * $(clients_on "$i") ))
      args=(--in-containers --pairs "$(( $(clients_on "$i") * PAIRS / CLIENTS ))" --client-port-range "$C1M_PORT_RANGE" --stats-pollers 0)
    fi
    # One kernel under both "hosts" here: the server node's doctor counts both ends.
    [ -n "$LOCAL_PAIR" ] && [ "$i" -eq 0 ] && args+=(--both-ends-here)
    docker service create -q -d --no-resolve-image --name "$svc" --mode replicated-job --network host --restart-condition none \
      --constraint "node.id == ${NODE_IDS[$i]}" --entrypoint /c1m c1m-server:latest \
      doctor --quiet --connections "$share" "${args[@]}" >/dev/null
  done
  for i in "${!ROLES[@]}"; do
    svc=c1m-doctor-$i state=""
    for _ in $(seq 1 150); do
      state=$(docker service ps --format '{{.CurrentState}}' "$svc" 2>/dev/null | head -1)
      [[ "$state" == Complete* || "$state" == Failed* || "$state" == Rejected* ]] && break
      sleep 0.2
    done
    echo "swarm: node $i (${ROLES[$i]}, ${NODE_NAMES[$i]}, ${NODE_IDS[$i]:0:12}):"
    docker service logs --raw "$svc" 2>&1 | sed 's/^/swarm:   /'
    [[ "$state" == Complete* ]] || failed=$((failed + 1))
    docker service rm "$svc" >/dev/null
  done
  if (( failed > 0 )); then
    [ -n "${FORCE:-}" ] || die "$failed node(s) cannot hold their share (above): make host-tune on each, lower N, or FORCE=1"
    say "FORCE=1: running although $failed node(s) cannot hold their share"
  fi
}

# Replicas on client node i (1-based among the nodes) under an even spread.
clients_on() {
  local i=$1 nodes per
  nodes=$(client_nodes) per=$(( (CLIENTS + nodes - 1) / nodes ))
  local before=$(( (i - 1) * per ))
  (( before >= CLIENTS )) && { echo 0; return; }
  echo $(( CLIENTS - before < per ? CLIENTS - before : per ))
}

# --- the stack ----------------------------------------------------------------------------------------
render_stack() {
  C1M_PARENT=$(for i in "${!ROLES[@]}"; do printf '%s ' "${NODE_NAMES[$i]}:${PARENTS[$i]}"; done)
  write_env "$STATE/env"
  # The services find each other by name: Swarm's DNS answers on the macvlan network (dnsrr), and c1m
  # resolves a name once at start. No fixed addresses: a stack drops ipv4_address (moby/moby#24170).
  {
    echo "C1M_SERVER_IP=server"
    echo "C1M_SERVER_STATS=server:9100"
    echo "C1M_COLLECTOR_IP=collector"
    echo "C1M_JOIN_RUN=$RUN_ID"
    echo "C1M_RUN_CLIENTS=$CLIENTS"
    echo "C1M_HOLD_UNTIL_SERVER=$N"
  } >> "$STATE/env"
  # compose v2 renders compose.yaml as JSON (v1 has no JSON output). The file holds the settings as
  # resolved; the same names in the environment (which compose would prefer) are unset for it.
  env $(sed -n 's/^\(C1M_[A-Z_]*\)=.*/-u \1/p' "$STATE/env") docker compose --env-file "$STATE/env" -p "$STACK" \
    -f compose.yaml config --format json > "$STATE/compose.json" || die "docker compose could not render compose.yaml"
  lab/swarm_stack.py "$CLIENTS" "$(client_nodes)" "$NET" < "$STATE/compose.json" > "$STATE/stack.json"
}

stack_rm() {
  docker stack rm "$STACK" >/dev/null 2>&1 || return 0
  local i
  for _ in $(seq 1 150); do
    local left=""
    for i in "${!ROLES[@]}"; do left+=$(on "$i" ps -aq --filter "label=com.docker.stack.namespace=$STACK" 2>/dev/null || true); done
    [ -z "$left" ] && return 0
    sleep 0.2
  done
  die "the stack's containers did not go within 30 s"
}

task_ip() {  # SERVICE: its task's address on the lab network (the task runs on this host)
  local id
  id=$(docker ps -q --filter "label=com.docker.swarm.service.name=${STACK}_$1" | head -1)
  [ -n "$id" ] && docker inspect -f "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}" "$id"
}

server_count() {  # SERVER_IP: the connections it holds now, or "n/a"
  curl -sf --max-time 2 "http://$1:9100/stats" 2>/dev/null | python3 -c 'import json, sys; print(json.load(sys.stdin)["connections"])' 2>/dev/null || echo n/a
}

clients_running() {
  docker service ps --filter desired-state=running --format '{{.CurrentState}}' "${STACK}_client" 2>/dev/null |
    grep -cE '^(New|Pending|Assigned|Accepted|Preparing|Ready|Starting|Running)' || true
}

up() {
  C1M_PARENT=$VETH  # the parents are per node, checked by each node's engine (render_stack names them)
  local asked_held=${C1M_SERVER_CPU_SHARES_HELD:-1024}
  resolve_settings
  C1M_SERVER_CPU_SHARES_HELD=$asked_held  # not the compose lab's live-hold weighting: Swarm has no shares
  [ -z "$TARGET" ] || die "TARGET=$TARGET: only the compose lab runs a server that is not c1m's (make lab-up TARGET=...)"
  [ "$C1M_CONNTRACK" = on ] ||
    die "C1M_CONNTRACK=$C1M_CONNTRACK: only the compose lab (lab-up enters each container's namespace; a swarm's are on other hosts)"
  local shares
  for shares in C1M_SERVER_CPU_SHARES C1M_SERVER_CPU_SHARES_HELD; do
    [ "${!shares}" = 1024 ] ||
      die "$shares=${!shares}: Swarm has no CPU shares (a stack refuses cpu_shares); every task keeps Docker's 1024"
  done
  need_docker
  docker compose version >/dev/null 2>&1 || die "the swarm lab renders compose.yaml with docker compose v2: make setup installs it"
  [ -z "$(docker ps -q --filter label=com.docker.compose.project=c1m)" ] ||
    die "the compose lab is up (same lab range): make lab-down first"
  mkdir -p "$STATE" results build/lab
  read_nodes
  check_ranges
  [ -n "$LOCAL_PAIR" ] && local_worker_up
  check_nodes
  build_images
  ship_images
  node_doctors
  label_nodes
  stack_rm
  make_networks
  RUN_ID=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
  lab_tokens
  RUN_DIR=./$STATE/run-$RUN_ID
  mkdir -p "$RUN_DIR"
  rm -f build/lab/last-record
  render_stack
  docker stack deploy --resolve-image never -c "$STATE/stack.json" "$STACK" >/dev/null 2>"$STATE/deploy.log" ||
    { cat "$STATE/deploy.log" >&2; die "docker stack deploy failed (above)"; }
  local collector_ip server_ip
  for _ in $(seq 1 100); do collector_ip=$(task_ip collector || true); server_ip=$(task_ip server || true)
    [ -n "$collector_ip" ] && [ -n "$server_ip" ] && break; sleep 0.2; done
  [ -n "$collector_ip" ] && [ -n "$server_ip" ] || { docker service ps --no-trunc "${STACK}_server" "${STACK}_collector" >&2; die "the server and collector tasks did not start (above)"; }
  COLLECTOR=http://$collector_ip:9200
  wait_for "$COLLECTOR/health" "the collector"
  wait_for "http://$server_ip:9100/stats" "the server's /stats"
  say "$APPROACH: $N connections from $CLIENTS client task(s) on $(client_nodes) node(s) to server ($server_ip:$PORTS, node ${NODE_NAMES[0]}), run $RUN_ID"
  docker service scale -d "${STACK}_client=$CLIENTS" >/dev/null
  # The run as it goes: the server's own count, and the client tasks' states as Swarm has them (the
  # clients' status files stay on their nodes). Bounded: each client stops by itself (its ramp
  # timeout, a stall, the end of its hold); past 15 min they are scaled to none.
  local deadline=$(( SECONDS + 900 )) start=$SECONDS running
  for _ in $(seq 1 150); do [ "$(clients_running)" -gt 0 ] && break; sleep 0.2; done  # Swarm made the tasks
  while running=$(clients_running); [ "$running" -gt 0 ]; do
    (( SECONDS < deadline )) || { say "clients still running after 15 min: stopping them"; docker service scale -d "${STACK}_client=0" >/dev/null; break; }
    say "$(( SECONDS - start ))s  server $(server_count "$server_ip") of $N  client tasks running $running of $CLIENTS"
    sleep 5
  done
  docker service ps --no-trunc -f desired-state=shutdown --format '{{.Name}} {{.Node}} {{.CurrentState}} {{.Error}}' "${STACK}_client" |
    grep -v Complete | sed 's/^/swarm: client task not complete: /' || true
  local record status=0
  record=$(await_record "$RUN_ID") || exit 2
  echo "$record" > build/lab/last-record
  "$C1M" collect --show "$record" || status=$?
  return "$status"
}

down() {
  read_nodes
  local i
  stack_rm
  for svc in $(docker service ls -q --filter name=c1m-doctor- 2>/dev/null); do docker service rm "$svc" >/dev/null; done
  docker network rm "$NET" >/dev/null 2>&1 || true
  ip link del "$SHIM" 2>/dev/null || true
  for i in "${!ROLES[@]}"; do on "$i" network rm "$CFG" >/dev/null 2>&1 || true; done
  if [ "$(docker info -f '{{.Swarm.ControlAvailable}}' 2>/dev/null)" = true ]; then
    for id in $(docker node ls -q --filter node.label=c1m.lab=1); do
      docker node update --label-rm c1m.role --label-rm c1m.lab "$id" >/dev/null 2>&1 || true
    done
  fi
  if [ -n "$LOCAL_PAIR" ]; then
    local_worker_down
    if [ -e "$STATE/made-swarm" ]; then
      docker swarm leave --force >/dev/null 2>&1 || true
      docker network rm docker_gwbridge >/dev/null 2>&1 || true
      # dockerd leaves the swarm's sandboxes (ingress_sbox, the ingress network's) as dead files.
      local f
      for f in /run/docker/netns/*; do
        if [ -e "$f" ] && ! grep -qxF "${f##*/}" "$STATE/made-swarm" && ! mountpoint -q "$f"; then rm -f "$f"; fi
      done
      rm -f "$STATE/made-swarm"
    fi
  fi
  left_behind
}

# What swarm-down checks it removed; anything left is named and fails it.
left_behind() {
  local left=()
  docker stack ls --format '{{.Name}}' 2>/dev/null | grep -qx "$STACK" && left+=("stack $STACK")
  docker network ls --format '{{.Name}}' | grep -qxE "$NET|$CFG" && left+=("network $NET/$CFG")
  ip link show "$SHIM" >/dev/null 2>&1 && left+=("link $SHIM")
  if [ "$(docker info -f '{{.Swarm.ControlAvailable}}' 2>/dev/null)" = true ] &&
     [ -n "$(docker node ls -q --filter node.label=c1m.lab=1)" ]; then left+=("node labels c1m.*"); fi
  if [ -n "$LOCAL_PAIR" ]; then
    ip netns list | grep -qw "$NS" && left+=("namespace $NS")
    ip link show "$CABLE" >/dev/null 2>&1 && left+=("veth $CABLE")
    ip link show "$CONTROL" >/dev/null 2>&1 && left+=("veth $CONTROL")
    [ -e "$NS_DATA" ] || [ -e "$NS_RUN" ] && left+=("$NS_DATA or $NS_RUN")
    pgrep -f "dockerd.*$NS_RUN/docker.sock" >/dev/null && left+=("the worker engine")
    [ -e "$STATE/made-swarm" ] && left+=("the swarm this lab made")
  fi
  [ ${#left[@]} -eq 0 ] || die "down: left behind: ${left[*]}"
  say "down: no stack, network, label or shim left${LOCAL_PAIR:+; the local worker engine, its namespace and veths are gone}"
}

status() {
  read_nodes
  if [ "$(docker info -f '{{.Swarm.LocalNodeState}}' 2>/dev/null)" != active ]; then echo "swarm: this engine is in no swarm"; return 0; fi
  docker node ls --format '{{.ID}}\t{{.Hostname}}\t{{.Status}}\t{{.ManagerStatus}}' | while IFS=$'\t' read -r id host st mgr; do
    echo "node $id $host $st ${mgr:-worker} role=$(docker node inspect -f '{{index .Spec.Labels "c1m.role"}}' "$id")"
  done
  docker stack services "$STACK" --format '{{.Name}}\t{{.Replicas}}' 2>/dev/null | sed 's/^/service /' || echo "stack $STACK: not deployed"
  local server_ip
  server_ip=$(task_ip server || true)
  if [ -n "$server_ip" ]; then server_status "$server_ip:9100"; else echo "server: not running here"; fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) die "usage: swarm.sh up | down | status" ;;
esac
