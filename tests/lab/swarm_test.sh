#!/usr/bin/env bash
# The lab as a Swarm stack over two nodes on this machine (make test): this engine the manager, with
# the server and the collector; a second engine in its own network namespace, joined over a veth, with
# 4 client tasks; macvlan across the veth "cable". Small N. Asserts from the record: complete, every
# participant's node named, each on the node its label sends it to, addresses from each node's own
# range. Then swarm-down, and checks nothing is left. Says SKIPPED and why where it cannot run.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lab/check.sh  # check DESCRIPTION COMMAND...: counted in passed, failed
skip() { echo "SKIPPED: swarm test: $*; the swarm lab was not tested"; exit 0; }

docker info >/dev/null 2>&1 || skip "no Docker engine answers here (docker info failed)"
[ "$(id -u)" -eq 0 ] || skip "needs root (a network namespace, veths and a second engine)"
command -v nsenter >/dev/null || skip "no nsenter (util-linux)"
docker compose version >/dev/null 2>&1 || skip "no docker compose v2 (make setup installs it)"
[ "$(docker info -f '{{.Swarm.LocalNodeState}}')" = inactive ] || skip "this engine is already in a swarm, which the test would change"
[ -z "$(docker ps -q --filter label=com.docker.compose.project=c1m)" ] || skip "the compose lab is up (make lab-down first)"
echo "swarm test: two nodes here (a second engine in a network namespace), 4 client tasks x 500 connections"
trap 'lab/swarm.sh down >/dev/null 2>&1' EXIT

# Bad input: one line, exit 2, before anything starts.
nodes=$(mktemp)
bad() {  # expected text, env assignments...
  local says=$1; shift
  local out rc
  out=$(env "$@" lab/swarm.sh up 2>&1); rc=$?
  [ "$rc" -eq 2 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && [[ "$out" == *"$says"* ]] ||
    { echo "    got exit $rc: $out"; return 1; }
  ! ip netns list | grep -qw c1m-w1 || { echo "    the worker's namespace was made"; return 1; }
}
printf 'server unix:///var/run/docker.sock eth1\nworker ssh://root@10.0.0.2 eth1\n' > "$nodes"
check "a nodes file with an unknown role refused" bad "role 'worker': expected server or client" C1M_SWARM_NODES="$nodes"
printf 'server unix:///var/run/docker.sock eth1\n' > "$nodes"
check "a nodes file with no client node refused" bad "no client node" C1M_SWARM_NODES="$nodes"
printf 'client unix:///var/run/docker.sock eth1\nserver ssh://root@10.0.0.2 eth1\n' > "$nodes"
check "a nodes file whose first node is not the server refused" bad "the first node, and only it, is the server node" C1M_SWARM_NODES="$nodes"
check "a subnet too small for a /24 a node refused" bad "holds fewer than 2 /24s" C1M_SUBNET=198.18.0.0/24 C1M_SERVER_IP=198.18.0.2 C1M_GATEWAY=198.18.0.1 C1M_CLIENT_RANGE=198.18.0.128/25
check "CPU shares, which Swarm lacks, refused rather than ignored" bad "Swarm has no CPU shares" C1M_SERVER_CPU_SHARES=4096
rm -f "$nodes"

# A node that cannot hold its share: its doctor says so, and nothing is deployed.
out=$(N=900000000 CLIENTS=4 lab/swarm.sh up 2>&1); rc=$?
check "a run past what the nodes hold is refused (exit 2), naming the nodes' doctors" \
  bash -c '[ "$1" -eq 2 ] && [[ "$2" == *"cannot hold their share"* ]] && [[ "$2" == *"FAIL"* ]]' _ "$rc" "$out"
check "and nothing was deployed" bash -c '! docker stack ls --format "{{.Name}}" | grep -qx c1m-swarm'

out=$(N=2000 CLIENTS=4 HOLD=5s lab/swarm.sh up 2>&1); rc=$?
echo "$out" | grep -E "^(swarm: (local|multi|images|node)|c1m collect|  )" | sed 's/^/    /'
check "swarm-up exits 0" test "$rc" -eq 0
record=$(cat build/lab/last-record 2>/dev/null)
check "swarm-up wrote a record" test -s "$record"
manager=$(docker info -f '{{.Swarm.NodeID}}')
worker=$(docker -H unix:///run/c1m-w1/docker.sock info -f '{{.Swarm.NodeID}}' 2>/dev/null)
status_out=$(lab/swarm.sh status 2>&1)
check "swarm-status names both nodes with their roles" \
  bash -c 'grep -q "^node $2 .*role=server" <<<"$1" && grep -q "^node $3 .*role=client" <<<"$1"' _ "$status_out" "$manager" "$worker"

# Each assertion on the record prints its own ok/FAIL line and is counted like the others.
record_checks() {  # record manager worker
python3 - "$@" <<'PY'
import ipaddress, json, sys
r, manager, worker = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
res, parts = r["results"], r["participants"]
clients = [p for p in parts if p.get("role") == "client"]
servers = [p for p in parts if p.get("role") == "server"]
nodes = {n["id"]: n for n in r.get("nodes", [])}
def check(what, ok):
    print(f"  {'ok   ' if ok else 'FAIL '} {what}")
worker_range = ipaddress.ip_network("198.18.1.0/24")
check("record status complete, 2,000 established on both sides, 0 errors",
      r["status"] == "complete" and res["established_peak_client"] == 2000 and res["established_peak_server"] == 2000
      and res["errors_total"] == 0)
check("the record names two nodes: the manager (1 server) and the worker (4 clients)",
      len(nodes) == 2 and nodes.get(manager, {}).get("servers") == 1 and nodes.get(manager, {}).get("clients") == 0
      and nodes.get(worker, {}).get("clients") == 4 and nodes.get(worker, {}).get("servers") == 0)
check("every client ran on the worker, the server on the manager (by node label)",
      len(clients) == 4 and all(p.get("node", {}).get("id") == worker for p in clients)
      and len(servers) == 1 and servers[0].get("node", {}).get("id") == manager)
check("each node's hostname and kernel, as the participants read them",
      all(n.get("hostname") and n.get("kernel") for n in nodes.values()))
check("clients' addresses from the worker's own range (198.18.1.0/24), one each",
      len({a for p in clients for a in p["addresses"]}) == 4
      and all(ipaddress.ip_address(a) in worker_range for p in clients for a in p["addresses"]))
check("sysctls and limits from compose.yaml read back on both nodes",
      all(p["sysctls"]["net.ipv4.ip_local_port_range"] == "1024 65535" and p["limits"]["nofile_hard"] == 20000 for p in clients)
      and servers[0]["sysctls"]["net.core.somaxconn"] == "65535" and servers[0]["limits"]["nofile_hard"] == 20000)
check("the lab says it ran on swarm", r["lab"].get("orchestrator") == "swarm")
PY
}
checks=$(record_checks "$record" "$manager" "$worker" 2>&1)
echo "$checks"
passed=$((passed + $(grep -c '^  ok' <<<"$checks")))
failed=$((failed + $(grep -c '^  FAIL' <<<"$checks"))); [[ "$checks" == *"  ok"* ]] || failed=$((failed + 1))

out=$(lab/swarm.sh down 2>&1); rc=$?
echo "    $out"
check "swarm-down exits 0" test "$rc" -eq 0
check "this engine left the swarm the lab made" test "$(docker info -f '{{.Swarm.LocalNodeState}}')" = inactive
check "no worker namespace, veth, engine or data root left" \
  bash -c '! ip netns list | grep -qw c1m-w1 && ! ip link show c1msw0 >/dev/null 2>&1 && ! ip link show c1mswc0 >/dev/null 2>&1 &&
           ! pgrep -f "[d]ockerd.*c1m-w1" >/dev/null && [ ! -e /var/lib/c1m-w1 ] && [ ! -e /run/c1m-w1 ]'
check "no lab network left (swarm, config-only, shim, docker_gwbridge)" \
  bash -c '! docker network ls --format "{{.Name}}" | grep -qE "^(c1m-swarm-lab|c1m-swarm-cfg|docker_gwbridge)$" && ! ip link show c1msw-host >/dev/null 2>&1'
trap - EXIT

echo "swarm test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
