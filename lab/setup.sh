#!/usr/bin/env bash
# make setup: install what building and testing need, from Debian's archive. Idempotent: installs
# only what is missing, so a second run is a no-op.
set -euo pipefail
need=(cmake ninja-build g++ binutils pkg-config libevent-dev libssl-dev openssl nlohmann-json3-dev libcli11-dev libgtest-dev clang-format python3 iproute2 procps curl)
# Real servers the tests speak to on loopback in their own protocols (tests/scripts/protocols_test.sh):
# installed, never started as services (the test starts its own, on ports it picks).
need+=(redis-server nginx-light mosquitto haproxy python3-websockets)
# The lab needs a Docker engine and a compose tool; Debian's are used if none is there.
command -v docker >/dev/null 2>&1 || need+=(docker.io)
# Both compose tools: Debian's docker-compose (v1) from the archive, and the v2 plugin users have
# (lab/compose-v2.sh); make test runs the lab under each.
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  lab/compose-v2.sh
  echo "setup: everything needed is installed"
  exit 0
fi
echo "setup: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
# No daemon starts because a package was installed (policy-rc.d says no to every service start).
# One the host already has is left as it is.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  $SUDO sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d'
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
lab/compose-v2.sh
