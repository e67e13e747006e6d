# Sourced by the loopback tests against real servers (protocols_test.sh, tls_test.sh) after `set -euo
# pipefail`: a work directory and the servers started in it (pids) and cgroups made for them (cgroups),
# all gone at exit (KEEP=1 keeps them); ok/bad counted in passed/failed; free_port; wait_port PORT (5 s).
work=$(mktemp -d)
pids=() cgroups=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for g in "${cgroups[@]}"; do rmdir "$g" 2>/dev/null || true; done  # made by a test, empty once its server is gone
  rm -rf "$work"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT
passed=0 failed=0
ok() { echo "ok    $*"; passed=$((passed + 1)); }
bad() { echo "FAIL  $*"; failed=$((failed + 1)); }
need_tools() {  # every tool named is installed, or a FAIL line and exit 1
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "FAIL  $tool is not installed (make setup installs it)"; exit 1; }
  done
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 50); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
