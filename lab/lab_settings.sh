# The lab's settings and its host's preflight, sourced by lab/lab.sh (and so by lab/swarm.sh): the
# settings validated before anything starts, the doctor told the lab's shape, the run cut to what the
# host holds (or the host tuned, on a yes at a terminal), and the way out said at the end.

# --- settings, validated before anything starts ---------------------------------------------------
resolve_settings() {
  APPROACH=${APPROACH:-multi-ip}
  resolve_target
  case "$APPROACH" in
    multi-ip) CLIENTS=${CLIENTS:-20}; PORTS=${C1M_SERVER_PORTS:-9000}; C1M_SCHED=${C1M_SCHED:-normal} ;;
    multi-port) CLIENTS=${CLIENTS:-1}; PORTS=${C1M_SERVER_PORTS:-9000-9019}; C1M_SCHED=${C1M_SCHED:-batch} ;;
    *) die "APPROACH=$APPROACH: unknown approach (multi-ip or multi-port)" ;;
  esac
  # N is C1M_CONNECTIONS, the name compose.yaml reads (lab.sh writes it into .env): either may be given.
  if [ -n "${N:-}" ] && [ -n "${C1M_CONNECTIONS:-}" ] && [ "$N" != "$C1M_CONNECTIONS" ]; then
    die "N=$N and C1M_CONNECTIONS=$C1M_CONNECTIONS name one setting with two values: give one"
  fi
  N=${N:-${C1M_CONNECTIONS:-}}
  N_GIVEN=${N:+yes}
  N=${N:-1000000}
  [[ "$N" =~ ^[0-9]+$ && "$N" -gt 0 ]] || die "N=$N: not a positive whole number of connections"
  [[ "$CLIENTS" =~ ^[0-9]+$ && "$CLIENTS" -gt 0 && "$CLIENTS" -le 200 ]] || die "CLIENTS=$CLIENTS: expected 1-200"
  C1M_SUBNET=${C1M_SUBNET:-198.18.0.0/15}
  [[ "$C1M_SUBNET" =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)\.([0-9]+)/([0-9]+)$ ]] || die "C1M_SUBNET=$C1M_SUBNET: expected A.B.C.D/PREFIX"
  local prefix=${BASH_REMATCH[5]}
  # The server, the gateway and every client need an address: 2^(32-prefix) - 4 of them at most.
  (( prefix <= 30 && (1 << (32 - prefix)) - 4 >= CLIENTS + 1 )) || die "C1M_SUBNET=$C1M_SUBNET holds fewer than $CLIENTS clients and a server"
  if [ "$C1M_SUBNET" = "198.18.0.0/15" ]; then
    C1M_SERVER_IP=${C1M_SERVER_IP:-198.18.0.2}; C1M_GATEWAY=${C1M_GATEWAY:-198.18.0.1}; C1M_CLIENT_RANGE=${C1M_CLIENT_RANGE:-198.18.1.0/24}
  else
    [ -n "${C1M_SERVER_IP:-}" ] && [ -n "${C1M_GATEWAY:-}" ] && [ -n "${C1M_CLIENT_RANGE:-}" ] ||
      die "C1M_SUBNET=$C1M_SUBNET: also set C1M_SERVER_IP, C1M_GATEWAY and C1M_CLIENT_RANGE inside it"
  fi
  C1M_PARENT=${C1M_PARENT:-$VETH}
  if [ "$C1M_PARENT" != "$VETH" ] && ! ip link show "$C1M_PARENT" >/dev/null 2>&1; then
    die "C1M_PARENT=$C1M_PARENT: no such network interface"
  fi
  (( N % CLIENTS == 0 )) || die "N=$N does not divide over $CLIENTS clients"
  # (source, target) pairs: each client container has one address; each takes every server port.
  local nports=1
  [[ "$PORTS" =~ ^([0-9]+)-([0-9]+)$ ]] && nports=$(( BASH_REMATCH[2] - BASH_REMATCH[1] + 1 ))
  PAIRS=$(( CLIENTS * nports ))
  C1M_NOFILE=${C1M_NOFILE:-20000}
  # The workers' scheduling policy, by what each approach measured at 1M here. One client container
  # against the server: SCHED_BATCH, or each connect's SYN woke a server worker that preempted the
  # client for one accept (2.2 context switches a connection against 0.37; one run each at 1M: 1.31x
  # native, 1.10x with batch). Twenty client containers: normal, for the server is one cgroup against
  # twenty and gets the CPU back only by wake-up preemption; under batch it fell 185,000 accepts behind
  # and one run had 188 connects time out. (Weighting the server as the twenty together avoided that
  # but ramped slower: 39-49 s in seven runs, against 32-42 s.)
  [[ "$C1M_SCHED" =~ ^(batch|normal)$ ]] || die "C1M_SCHED=$C1M_SCHED: expected batch or normal"
  C1M_LIVE_SCHED=${C1M_LIVE_SCHED:-normal}
  [[ "$C1M_LIVE_SCHED" =~ ^(batch|normal)$ ]] || die "C1M_LIVE_SCHED=$C1M_LIVE_SCHED: expected batch or normal"
  # A live hold answers every connection every interval: the server needs the CPU when it is asked,
  # and as one cgroup of 21 it waited. At 1M, 33k pings/s (untracked, 11:00 UTC 2026-11-25): RTT p99
  # 553 ms at Docker's 1024 against 23 ms weighted as the twenty clients together; but that weight
  # through the ramp slowed it (36.0 s against 28.0 s). So the server ramps at C1M_SERVER_CPU_SHARES
  # and, once it holds all N, a live run weighs it as all its clients (C1M_SERVER_CPU_SHARES_HELD).
  C1M_SERVER_CPU_SHARES=${C1M_SERVER_CPU_SHARES:-1024}
  local live_shares=$(( 1024 * CLIENTS > 262144 ? 262144 : 1024 * CLIENTS ))
  C1M_SERVER_CPU_SHARES_HELD=${C1M_SERVER_CPU_SHARES_HELD:-$([ "${LIVE:-0}" = 0 ] && echo "$C1M_SERVER_CPU_SHARES" || echo "$live_shares")}
  local shares
  for shares in C1M_SERVER_CPU_SHARES C1M_SERVER_CPU_SHARES_HELD; do
    [[ "${!shares}" =~ ^[0-9]+$ ]] && (( ${!shares} >= 2 && ${!shares} <= 262144 )) ||
      die "$shares=${!shares}: expected 2-262144 (docker --cpu-shares)"
  done
  HOLD=${HOLD:-30s}
  LIVE=${LIVE:-0}
  C1M_PING_INTERVAL=${C1M_PING_INTERVAL:-0}
  C1M_CONNTRACK=${C1M_CONNTRACK:-on}
  [[ "$C1M_CONNTRACK" =~ ^(on|off|server)$ ]] || die "C1M_CONNTRACK=$C1M_CONNTRACK: expected on, off or server"
  if [ "$C1M_CONNTRACK" != on ]; then
    command -v iptables >/dev/null && command -v nsenter >/dev/null ||
      die "C1M_CONNTRACK=$C1M_CONNTRACK needs iptables and nsenter on the host (to add NOTRACK in the containers' namespaces)"
    [ "$(id -u)" -eq 0 ] || die "C1M_CONNTRACK=$C1M_CONNTRACK needs root: lab-up enters the containers' network namespaces"
  fi
  C1M_START_DELAY=${C1M_START_DELAY:-0}
  C1M_PORT_RANGE=${C1M_PORT_RANGE:-1024 65535}
  C1M_STALL_TIMEOUT=${C1M_STALL_TIMEOUT:-20s}
}

# The host must hold the run: check, say, and change it only when a person at a terminal says yes.
# The doctor is told the lab's shape: each side in its own network namespace (the server's tracks
# every connection), 20 (source, target) pairs, the clients' own port range, one stats poller each.
doctor() {
  "$C1M" doctor --connections "$N" --both-ends-here --in-containers --pairs "$PAIRS" --client-port-range "$C1M_PORT_RANGE" \
    --stats-pollers "$CLIENTS" --tls "$(doctor_tls)" $([ "$C1M_CONNTRACK" = off ] && echo --untracked) "$@"
}

# Down to two significant figures, then to a whole share per client: 254,486 -> 250,000.
round_down() {
  local n=$1 unit=1
  while (( n / unit >= 100 )); do unit=$(( unit * 10 )); done
  n=$(( n / unit * unit ))
  echo $(( n / CLIENTS * CLIENTS ))
}

# On a terminal, and never in CI, offer what make host-tune would change, and apply it on a yes.
# offer_host_tune MAX LIMIT
offer_host_tune() {
  [ -t 0 ] && [ -t 1 ] && [ -z "${CI:-}" ] || return 1
  say "this host can hold about $1 connections (limited by $2), not $WANTED; make host-tune would change:"
  "$C1M" host-tune --connections "$WANTED" --both-ends-here --dry-run | sed 's/^/lab: /'
  local answer=""
  read -r -t 60 -p "lab: apply these now (root) and run all $WANTED? [y/N] " answer || true
  [[ "$answer" =~ ^[yY] ]] || return 1
  "$C1M" host-tune --connections "$WANTED" --both-ends-here
}

preflight() {
  local max limit
  WANTED=$N LIMIT_NOTE=""
  read -r max limit < <(doctor --print-max)
  if (( N > max )) && [ -z "${FORCE:-}" ] && [ -z "$N_GIVEN" ] && offer_host_tune "$max" "$limit"; then
    read -r max limit < <(doctor --print-max)
  fi
  (( N <= max )) && return 0
  if [ -n "${FORCE:-}" ]; then
    say "FORCE=1: running $N although the preflight says about $max (limited by $limit)"
    LIMIT_NOTE="FORCE=1 ran $N past the preflight's $max (limited by $limit)"
  elif [ -n "$N_GIVEN" ]; then
    die "N=$N is more than this host can hold (about $max, limited by $limit): lower N, see make doctor, run make host-tune, or FORCE=1"
  else
    doctor --quiet || true
    N=$(round_down "$max")
    (( N > 0 )) || die "this host can hold no lab run (about $max connections, limited by $limit): see make doctor"
    say "this host can hold about $max connections (limited by $limit, less a 2% margin), not $WANTED: running N=$N"
    LIMIT_NOTE="ran N=$N, not $WANTED: this host's $limit limits it"
  fi
}

# The last lines of a run the host limited: what ran, what limited it, the one command that lifts it.
way_out() {
  [ -n "$LIMIT_NOTE" ] || return 0
  say "$LIMIT_NOTE"
  say "to run $WANTED: make host-tune N=$WANTED (root; sets the host sysctls the doctor names, until reboot), then make lab-up again"
}
