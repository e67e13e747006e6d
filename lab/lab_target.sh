# The lab against a server that is not c1m's (make lab-up TARGET=IMAGE), sourced by lab/lab.sh: the
# settings checked, the image found, a compose override that puts it in the server's place, a wait
# until it listens, and c1m meter beside it (the run's server side, read from its cgroup and network
# namespace on the host, for the record).

# TARGET=IMAGE: the user's server in c1m's server's place. TARGET_PORT is where it listens (default:
# the port the image exposes, when it exposes one), PROTOCOL what the clients speak to it (raw: connect
# and hold, which any listener takes), TARGET_ARGS its command instead of the image's own, TARGET_NAME
# what the record calls it; FIND_LIMIT=1 ramps until it fails and records what bound it (SLO_P99=50ms
# too, with C1M_PING_INTERVAL). Checked here; the image itself once the engine is known (check_target).
resolve_target() {
  TARGET=${TARGET:-}
  C1M_FIND_LIMIT=${FIND_LIMIT:-0}
  [[ "$C1M_FIND_LIMIT" =~ ^[01]$ ]] || die "FIND_LIMIT=$C1M_FIND_LIMIT: expected 1 or 0"
  C1M_SLO_P99=${SLO_P99:-}
  [ -z "$C1M_SLO_P99" ] || [ "$C1M_FIND_LIMIT" = 1 ] || die "SLO_P99=$C1M_SLO_P99 needs FIND_LIMIT=1 (and C1M_PING_INTERVAL)"
  PROTOCOL=${PROTOCOL:-$([ -n "$TARGET" ] && echo raw || echo echo)}
  [[ "$PROTOCOL" =~ ^(raw|echo|redis|http|mqtt|websocket)$ ]] ||
    die "PROTOCOL=$PROTOCOL: unknown protocol (raw, echo, redis, http, mqtt or websocket)"
  C1M_HTTP_PATH=${HTTP_PATH:-/}
  # TLS=1: every connection over TLS 1.3 (the target speaks it on TARGET_PORT; c1m's server gets
  # --tls); TLS_HELD=library has c1m's server keep the library's object instead of keys only;
  # TLS_RESUME=1 has the clients resume sessions (c1m's server then sends a ticket a handshake).
  C1M_TLS=${TLS:-0}
  [[ "$C1M_TLS" =~ ^[01]$ ]] || die "TLS=$C1M_TLS: expected 1 or 0"
  C1M_TLS_HELD=${TLS_HELD:-keys}
  [[ "$C1M_TLS_HELD" =~ ^(keys|library)$ ]] || die "TLS_HELD=$C1M_TLS_HELD: expected keys or library"
  [ "$C1M_TLS" = 1 ] || [ -z "${TLS_HELD:-}" ] || die "TLS_HELD=$TLS_HELD needs TLS=1"
  C1M_TLS_RESUME=${TLS_RESUME:-0}
  [[ "$C1M_TLS_RESUME" =~ ^[01]$ ]] || die "TLS_RESUME=$C1M_TLS_RESUME: expected 1 or 0"
  [ "$C1M_TLS" = 1 ] || [ "$C1M_TLS_RESUME" = 0 ] || die "TLS_RESUME=1 needs TLS=1"
  # RATE: each client's connects a second (0: as fast as its in-flight window allows); a paced ramp
  # is what lets FIND_LIMIT's latency objective (SLO_P99) see the latency grow.
  C1M_RATE=${RATE:-0}
  [[ "$C1M_RATE" =~ ^[0-9]+$ ]] || die "RATE=$C1M_RATE: expected connects a second, a whole number"
  TARGET_NAME=${TARGET_NAME:-}
  [ -n "$TARGET" ] || { [ -z "${TARGET_PORT:-}${TARGET_ARGS:-}" ] || die "TARGET_PORT and TARGET_ARGS need TARGET=IMAGE"; return 0; }
  [[ "$TARGET" =~ ^[A-Za-z0-9][A-Za-z0-9._/:@-]*$ ]] || die "TARGET=$TARGET: not an image reference"
  [ "$APPROACH" = multi-ip ] || die "TARGET=$TARGET: a server that is not c1m's is measured with APPROACH=multi-ip (one port, 20 client addresses)"
  if [ -n "${TARGET_PORT:-}" ]; then
    [[ "$TARGET_PORT" =~ ^[0-9]+$ ]] && (( TARGET_PORT >= 1 && TARGET_PORT <= 65535 )) || die "TARGET_PORT=$TARGET_PORT: expected a port, 1-65535"
  fi
  C1M_SERVER_PORTS=${TARGET_PORT:-}
}

# The image is here and says where it listens: TARGET_PORT, or the one port it exposes.
check_target() {
  [ -n "$TARGET" ] || return 0
  local exposed
  exposed=$(docker image inspect -f '{{range $p, $_ := .Config.ExposedPorts}}{{$p}} {{end}}' "$TARGET" 2>/dev/null) ||
    die "TARGET=$TARGET: no such image here (docker image inspect failed): build one (make target-image SERVER=redis) or docker pull it"
  if [ -z "${TARGET_PORT:-}" ]; then
    local ports=($exposed)
    [ ${#ports[@]} = 1 ] && [[ "${ports[0]}" == */tcp ]] ||
      die "TARGET=$TARGET exposes ${exposed:-no port}: say which port it listens on (TARGET_PORT=6379)"
    TARGET_PORT=${ports[0]%/tcp}
  fi
  PORTS=$TARGET_PORT
  TARGET_REF="$TARGET@$(docker image inspect -f '{{.Id}}' "$TARGET" | cut -c1-19)"
}


# The override compose reads after compose.yaml (.env names both in COMPOSE_FILE, so `docker compose
# run client` finds it too): the image in the server's place, with its own command or TARGET_ARGS.
# Not hardened as c1m's server is: a user's server may write its files and drop root as it would
# under `docker run` (Docker's default capabilities back; compose.yaml's cap_drop stays in force
# for every other one).
TARGET_OVERRIDE=build/lab/target.compose.yaml
write_target_override() {
  rm -f "$TARGET_OVERRIDE"
  [ -n "$TARGET" ] || return 0
  local command="[]"  # compose: the image's own command
  [ -z "${TARGET_ARGS:-}" ] || command=$(python3 -c 'import json, shlex, sys; print(json.dumps(shlex.split(sys.argv[1])))' "$TARGET_ARGS") ||
    die "TARGET_ARGS=$TARGET_ARGS: not a command line (unbalanced quotes?)"
  mkdir -p build/lab
  cat > "$TARGET_OVERRIDE" <<YAML
# Written by lab/lab.sh for TARGET=$TARGET: this image in c1m's server's place (see compose.yaml).
services:
  server:
    image: "$TARGET"
    command: $command
    read_only: false
    cap_add: [CHOWN, DAC_OVERRIDE, FSETID, FOWNER, SETGID, SETUID, SETPCAP, NET_BIND_SERVICE, KILL, SYS_CHROOT, SETFCAP]
YAML
}

# The lines .env adds for a target: compose's file list, and what the clients are told.
target_env() {
  if [ -n "$TARGET" ]; then
    echo "COMPOSE_FILE=compose.yaml:$TARGET_OVERRIDE"
    echo "C1M_SERVER_STATS="
    echo "C1M_TARGET_IMAGE=$TARGET_REF"
    echo "C1M_HOLD_UNTIL_SERVER=0"
  else
    echo "C1M_SERVER_STATS=$C1M_SERVER_IP:9100"
  fi
  echo "C1M_PROTOCOL=$PROTOCOL"
  echo "C1M_HTTP_PATH=$C1M_HTTP_PATH"
  echo "C1M_FIND_LIMIT=$C1M_FIND_LIMIT"
  echo "C1M_SLO_P99=$C1M_SLO_P99"
  echo "C1M_TARGET_NAME=$TARGET_NAME"
  echo "C1M_TLS=$C1M_TLS"
  echo "C1M_TLS_HELD=$C1M_TLS_HELD"
  echo "C1M_TLS_RESUME=$C1M_TLS_RESUME"
  echo "C1M_TLS_TICKETS=$C1M_TLS_RESUME"
  echo "C1M_RATE=$C1M_RATE"
}

# What the doctor is told of TLS: the state each held connection keeps (none without TLS).
doctor_tls() {
  [ "${C1M_TLS:-0}" = 1 ] || { echo none; return; }
  echo "${C1M_TLS_HELD:-keys}"
}

# The target's main process, seen from the host (its namespaces and cgroup are read through it).
target_pid() {
  local id pid
  id=$(service_ids server -a | head -1)
  [ -n "$id" ] && pid=$(docker inspect -f '{{.State.Pid}}' "$id") && [ "$pid" -gt 0 ] && echo "$pid"
}

# Until something listens on TARGET_PORT in its namespace (/proc/PID/net/tcp and tcp6, state 0A), 20 s
# at most; a container that exits meanwhile is named with its last words.
wait_for_listener() {
  local hex pid id
  hex=$(printf ':%04X 00000000:0000 0A\|:%04X 00000000000000000000000000000000:0000 0A' "$PORTS" "$PORTS")
  for _ in $(seq 1 100); do
    if pid=$(target_pid); then
      grep -qs "$hex" "/proc/$pid/net/tcp" "/proc/$pid/net/tcp6" && return 0
    else
      id=$(service_ids server -a | head -1)
      [ -z "$id" ] || { docker logs --tail 10 "$id" 2>&1 | sed 's/^/lab: target: /' >&2;
        die "TARGET=$TARGET exited ($(docker inspect -f 'exit {{.State.ExitCode}}' "$id")) before it listened on $PORTS (its log above)"; }
    fi
    sleep 0.2
  done
  die "TARGET=$TARGET: nothing listens on port $PORTS in its container after 20 s (TARGET_PORT?)"
}

# c1m meter, the run's server side for a target: from before the ramp until every client has ended.
start_meter() {
  C1M_RUN_TOKEN=$RUN_TOKEN "$C1M" meter --pid "$(target_pid)" --expect "$N" --listen "$C1M_SERVER_IP:$PORTS" \
    --report-to "127.0.0.1:${C1M_COLLECTOR_PORT:-9200}" --run-id "$RUN_ID" --name target --duration 20m &
  METER=$!
}

stop_meter() {
  [ -n "${METER:-}" ] || return 0
  kill -TERM "$METER" 2>/dev/null || true
  wait "$METER" || say "c1m meter ended with status $?: the record may lack the target's own figures"
}
