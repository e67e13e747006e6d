#!/usr/bin/env bash
# make target-image: a server from this host's Debian packages as a FROM-scratch image for the lab's
# TARGET=, with no registry: its binary, the shared libraries ldd names, a config file, a nobody user.
#   SERVER=redis | nginx | mosquitto | haproxy | websockets   a preset: binary, port, command and config
#   BIN=/usr/sbin/foo PORT=N [ARGS='...'] [CONF=/path/file ...] [NAME=foo]   any other server
# CONF files go to /etc/c1m-target/ in the image (ARGS names them there). Prints the image's name;
# the image says its package's version (org.opencontainers.image.version), which the record keeps.
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "target-image: $*" >&2; exit 2; }

STAGE=build/target-image
case "${SERVER:-}" in
  "") [ -n "${BIN:-}" ] && [ -n "${PORT:-}" ] || die "give SERVER=redis|nginx|mosquitto|haproxy|websockets, or BIN=/path/to/server PORT=N (see lab/target-image.sh)" ;;
  redis)
    BIN=/usr/bin/redis-server PORT=6379
    # maxclients above the container's file limit: redis lowers it to what the limit allows, and says so.
    ARGS=${ARGS:-"--port 6379 --bind 0.0.0.0 --protected-mode no --save '' --appendonly no --maxclients 1000000 --tcp-backlog 65535"} ;;
  nginx)
    BIN=/usr/sbin/nginx PORT=8080 ARGS=${ARGS:-"-e stderr -c /etc/c1m-target/nginx.conf"}
    WRITABLE=/var/lib/nginx  # its compiled-in temporary directories, made at start
    CONF=$STAGE/nginx.conf
    mkdir -p "$STAGE"
    # Keep-alive connections held as long as a lab run; NGINX_WORKERS workers [2] of up to 19,000 each
    # (a process may open 20,000 files here): 60 hold a million.
    [[ "${NGINX_WORKERS:-2}" =~ ^[0-9]+$ ]] && (( ${NGINX_WORKERS:-2} >= 1 )) || die "NGINX_WORKERS=$NGINX_WORKERS: expected a count"
    cat > "$CONF" <<CONF
daemon off;
master_process on;
worker_processes ${NGINX_WORKERS:-2};
worker_rlimit_nofile 20000;
pid /tmp/nginx.pid;
error_log stderr warn;
events { worker_connections 19000; }
http {
  access_log off;
  client_body_temp_path /tmp/body;
  proxy_temp_path /tmp/proxy;
  keepalive_timeout 3600s;
  keepalive_requests 1000000;
  server { listen 8080 backlog=65535 reuseport; location / { return 200 "ok\\n"; } }
}
CONF
    ;;
  mosquitto)
    BIN=/usr/sbin/mosquitto PORT=1883 ARGS=${ARGS:-"-c /etc/c1m-target/mosquitto.conf"}
    CONF=$STAGE/mosquitto.conf
    mkdir -p "$STAGE"
    printf 'listener 1883 0.0.0.0\nallow_anonymous true\nmax_connections -1\npersistence false\nlog_dest stderr\nlog_type error\n' > "$CONF" ;;
  haproxy)
    BIN=/usr/sbin/haproxy PORT=8080 ARGS=${ARGS:-"-db -f /etc/c1m-target/haproxy.cfg"}
    CONF=$STAGE/haproxy.cfg
    mkdir -p "$STAGE"
    # One process, which counts two files a connection (2 x maxconn + 17, as if each were proxied):
    # under the container's 20,000, at most 9,991 connections, which its maxconn says rather than
    # haproxy refusing to start. HTTP keep-alive answered by haproxy itself, no backend.
    cat > "$CONF" <<CONF
global
  maxconn 9991
defaults
  mode http
  timeout client 3600s
  timeout http-keep-alive 3600s
frontend http
  bind :8080 backlog 65535
  http-request return status 200 content-type text/plain string ok
CONF
    ;;
  websockets)
    # Python and its standard library, websockets from Debian's python3-websockets, and lab/ws_target.py.
    BIN=$(readlink -f /usr/bin/python3) PORT=8080 ARGS=${ARGS:-"/etc/c1m-target/ws_target.py 8080"}
    TREES="/usr/lib/$(basename "$BIN") /usr/lib/python3/dist-packages/websockets"
    CONF=lab/ws_target.py PACKAGE=python3-websockets ;;
  *) die "SERVER=$SERVER: no preset (redis, nginx, mosquitto, haproxy or websockets); for another, give BIN= and PORT=" ;;
esac
[ -x "$BIN" ] || die "BIN=$BIN: not an executable here (install its package first: make setup installs redis, nginx, mosquitto, haproxy, python3-websockets)"
[[ "$PORT" =~ ^[0-9]+$ ]] && (( PORT >= 1 && PORT <= 65535 )) || die "PORT=$PORT: expected a port, 1-65535"
command -v docker >/dev/null && docker info >/dev/null 2>&1 || die "no Docker engine answers here"
NAME=${NAME:-${SERVER:-$(basename "$BIN")}}
[[ "$NAME" =~ ^[a-z0-9][a-z0-9._-]*$ ]] || die "NAME=$NAME: an image name is lower case letters, digits, . _ -"
IMAGE=c1m-target-$NAME:latest
# The binary is the entrypoint and ARGS its command, so the lab's TARGET_ARGS replaces ARGS alone.
args=$(python3 -c 'import json, shlex, sys; print(json.dumps(shlex.split(sys.argv[1])))' "${ARGS:-}") ||
  die "ARGS=$ARGS: not a command line (unbalanced quotes?)"
package=${PACKAGE:-$(dpkg -S "$(readlink -f "$BIN")" 2>/dev/null | head -1 | cut -d: -f1)} || package=""
version=$([ -n "$package" ] && dpkg-query -W -f='${Version}' "$package" 2>/dev/null || echo unknown)

root=$STAGE/$NAME/rootfs
rm -rf "$STAGE/$NAME"
mkdir -p "$root/etc/c1m-target" "$root/tmp"
chmod 1777 "$root/tmp"
for d in ${WRITABLE:-}; do mkdir -p "$root$d" && chmod 1777 "$root$d"; done
cp -L --parents "$BIN" "$root"
# The libraries the binary and every module of the trees an interpreter reads (TREES) need, and the
# loader ldd names without an arrow; then the trees themselves (-r: -a's --parents fails on setting
# a parent directory's attributes here).
for t in ${TREES:-}; do [ -d "$t" ] || die "$t: not here (install its package first: make setup)"; done
{ ldd "$BIN"; for t in ${TREES:-}; do find "$t" -name '*.so' -exec ldd {} \; 2>/dev/null; done; } |
  awk '/=> \// {print $3} /^\t\/[^ ]+ \(/ {print $1}' | sort -u | while read -r lib; do cp -L --parents "$lib" "$root"; done
for t in ${TREES:-}; do cp -r --parents "$t" "$root"; done
for c in ${CONF:-}; do
  [ -r "$c" ] || die "CONF=$c: not a readable file"
  cp "$c" "$root/etc/c1m-target/"
done
printf 'root:x:0:0::/:/nonexistent\nnobody:x:65534:65534::/nonexistent:/nonexistent\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
cat > "$STAGE/$NAME/Dockerfile" <<DOCKERFILE
FROM scratch
COPY rootfs/ /
USER 65534:65534
EXPOSE $PORT/tcp
LABEL org.opencontainers.image.title="$NAME" org.opencontainers.image.version="$version" \\
      org.opencontainers.image.description="$NAME from Debian's ${package:-unknown} package, for c1m-lab's TARGET="
ENTRYPOINT ["$BIN"]
CMD $args
DOCKERFILE
DOCKER_BUILDKIT=0 docker build -q -t "$IMAGE" "$STAGE/$NAME" >"$STAGE/$NAME.log" 2>&1 ||
  { cat "$STAGE/$NAME.log" >&2; die "the image $IMAGE did not build (above)"; }
echo "target-image: $IMAGE built: $NAME ${package:+$package }$version, port $PORT, $(du -sh "$root" | cut -f1) FROM scratch" >&2
echo "$IMAGE"
