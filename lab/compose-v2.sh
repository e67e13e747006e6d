#!/usr/bin/env bash
# The `docker compose` v2 plugin, as users have it, for a host whose Debian (bookworm) ships only the
# v1 tool: Debian trixie's docker-compose package (it needs only libc6 >= 2.34) is fetched with apt
# through a package list of its own under build/ (the system's sources and packages are not touched),
# checked by apt against Debian's archive keys, and its plugin put in ~/.docker/cli-plugins/.
# Idempotent: nothing happens where `docker compose version` already answers.
set -euo pipefail
cd "$(dirname "$0")/.."
if docker compose version >/dev/null 2>&1; then exit 0; fi
command -v apt-get >/dev/null || { echo "compose-v2: no apt-get here; install Docker's compose plugin yourself"; exit 1; }
dir=$PWD/build/compose-v2
mkdir -p "$dir/lists/partial" "$dir/archives/partial"
echo "deb http://deb.debian.org/debian trixie main" > "$dir/sources.list"
apt=(apt-get -qq -o Dir::Etc::SourceList="$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
     -o Dir::State::Lists="$dir/lists" -o Dir::Cache::archives="$dir/archives" -o Debug::NoLocking=1
     -o APT::Sandbox::User=root)
echo "compose-v2: fetching Debian trixie's docker-compose package for its compose plugin"
"${apt[@]}" update >/dev/null
(cd "$dir" && "${apt[@]}" download docker-compose >/dev/null)
deb=$(ls "$dir"/docker-compose_*.deb | tail -1)
rm -rf "$dir/x" && dpkg-deb -x "$deb" "$dir/x"
mkdir -p "$HOME/.docker/cli-plugins"
install -m 0755 "$dir/x/usr/libexec/docker/cli-plugins/docker-compose" "$HOME/.docker/cli-plugins/docker-compose"
echo "compose-v2: $(docker compose version) in ~/.docker/cli-plugins (from $(basename "$deb"))"
