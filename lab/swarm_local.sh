# The local second node of lab/swarm.sh, sourced by it: a second Docker engine in its own network
# namespace, joined to this one by veths, that joins the swarm as a worker and holds the clients. One
# kernel: it proves the orchestration, not capacity past one host.

# --- the local second node ----------------------------------------------------------------------------
local_worker_up() {
  command -v nsenter >/dev/null || die "nsenter not found (util-linux): the local worker engine needs it"
  [ "$(id -u)" -eq 0 ] || die "the local two-node swarm needs root (a network namespace, veths, a second engine)"
  if ! ip netns list | grep -qw "$NS"; then ip netns add "$NS"; fi
  ip -n "$NS" link set lo up
  if ! ip link show "$CABLE" >/dev/null 2>&1; then
    ip link add "$CABLE" type veth peer name "$CABLE_PEER" netns "$NS"
    ip link add "$CONTROL" type veth peer name "$CONTROL_PEER" netns "$NS"
    ip addr add "$MANAGER_ADDR/30" dev "$CONTROL"
    ip -n "$NS" addr add "$WORKER_ADDR/30" dev "$CONTROL_PEER"
  fi
  ip link set "$CABLE" up; ip link set "$CONTROL" up
  ip -n "$NS" link set "$CABLE_PEER" up; ip -n "$NS" link set "$CONTROL_PEER" up
  if ! docker -H "$WORKER" info >/dev/null 2>&1; then
    mkdir -p "$NS_RUN" "$NS_DATA"
    echo '{}' > "$NS_RUN/daemon.json"  # not /etc/docker/daemon.json: that names this engine's data root
    # `ip netns exec` remounts /sys and hides the cgroup mounts dockerd needs; nsenter only joins the
    # network namespace. vfs: no overlay inside overlay; the images are one small layer each.
    nsenter --net="/run/netns/$NS" dockerd --config-file "$NS_RUN/daemon.json" --data-root "$NS_DATA" \
      --exec-root "$NS_RUN/exec" --pidfile "$NS_RUN/docker.pid" -H "$WORKER" --bridge=none --iptables=false \
      --ip-masq=false --storage-driver=vfs --cgroup-parent="/$NS" --userland-proxy=false \
      --containerd-namespace "$NS" --containerd-plugins-namespace "$NS-plugins" > "$STATE/worker-dockerd.log" 2>&1 &
    for _ in $(seq 1 150); do docker -H "$WORKER" info >/dev/null 2>&1 && break; sleep 0.2; done
    docker -H "$WORKER" info >/dev/null 2>&1 || { tail -5 "$STATE/worker-dockerd.log" >&2; die "the worker engine in $NS did not start (log: $STATE/worker-dockerd.log)"; }
  fi
  if [ "$(docker info -f '{{.Swarm.LocalNodeState}}')" != active ]; then
    ls /run/docker/netns > "$STATE/made-swarm" 2>/dev/null || true  # what was there before it, for down
    docker swarm init --advertise-addr "$MANAGER_ADDR" --listen-addr "$MANAGER_ADDR:2377" >/dev/null
  fi
  if [ "$(docker -H "$WORKER" info -f '{{.Swarm.LocalNodeState}}')" != active ]; then
    docker -H "$WORKER" swarm join --token "$(docker swarm join-token -q worker)" --advertise-addr "$WORKER_ADDR" \
      --listen-addr "$WORKER_ADDR:2377" "$MANAGER_ADDR:2377" >/dev/null
  fi
  say "local two-node swarm: manager $(docker info -f '{{.Swarm.NodeID}}') here, worker $(docker -H "$WORKER" info -f '{{.Swarm.NodeID}}') in namespace $NS"
}

local_worker_down() {
  if docker -H "$WORKER" info >/dev/null 2>&1; then
    docker -H "$WORKER" swarm leave --force >/dev/null 2>&1 || true
    local pid
    pid=$(cat "$NS_RUN/docker.pid" 2>/dev/null || true)
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    for _ in $(seq 1 100); do [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  fi
  # The worker's node entry stays on the manager, down, until removed.
  local id
  for id in $(docker node ls -q --filter role=worker 2>/dev/null); do
    [ "$(docker node inspect -f '{{.Status.Addr}}' "$id")" = "$WORKER_ADDR" ] && docker node rm --force "$id" >/dev/null 2>&1
  done
  if ip netns list | grep -qw "$NS"; then
    for pid in $(ip netns pids "$NS"); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$NS"
  fi
  ip link del "$CABLE" 2>/dev/null || true
  ip link del "$CONTROL" 2>/dev/null || true
  # The engine's mounts under its run and data directories (its netns files, vfs layers), deepest first.
  local m
  for m in $(awk -v run="$NS_RUN/" -v data="$NS_DATA/" 'index($2, run) == 1 || index($2, data) == 1 {print $2}' /proc/mounts | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
  rm -rf "$NS_DATA" "$NS_RUN"
  local cg
  for cg in /sys/fs/cgroup/*/"$NS" /sys/fs/cgroup/"$NS"; do [ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null; done
  return 0
}
