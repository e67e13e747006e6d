# Sourced by the benchmarks: wait_for_quiet_host waits, for a bounded time, until the last run's
# sockets and connection-tracking entries are gone, and prints one line saying what it saw.
#
# Why: a killed run leaves its connections in TIME_WAIT, in the socket table and in conntrack (120 s).
# The next run then shares the hash tables with a million stale entries and pays for it: measured on
# this machine, a c1m run started 5 s after the floor probe found 766k conntrack entries still there.
# Every measured run (the floor's too) starts from the same quiet host, or the ratios mean little.

QUIET_MAX_SOCKETS=${QUIET_MAX_SOCKETS:-10000}   # TCP sockets in use + TIME_WAIT, this namespace
QUIET_MAX_TRACKED=${QUIET_MAX_TRACKED:-10000}   # nf_conntrack_count, if conntrack is loaded
QUIET_TIMEOUT_S=${QUIET_TIMEOUT_S:-240}          # longer than conntrack's TIME_WAIT (120 s)

tcp_sockets_now() { awk '/^TCP:/ { for (i = 2; i < NF; i += 2) if ($i == "inuse" || $i == "tw") n += $(i + 1) } END { print n + 0 }' /proc/net/sockstat; }
tracked_now() { cat /proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null || echo 0; }

wait_for_quiet_host() {
  local start=$SECONDS sockets tracked
  while :; do
    sockets=$(tcp_sockets_now) tracked=$(tracked_now)
    if [ "$sockets" -le "$QUIET_MAX_SOCKETS" ] && [ "$tracked" -le "$QUIET_MAX_TRACKED" ]; then
      echo "quiet: after $((SECONDS - start)) s: $sockets TCP sockets (in use + TIME_WAIT), $tracked tracked connections"
      return 0
    fi
    if [ $((SECONDS - start)) -ge "$QUIET_TIMEOUT_S" ]; then
      echo "quiet: NOT quiet after ${QUIET_TIMEOUT_S} s: $sockets TCP sockets, $tracked tracked connections; measuring anyway, the ratio is suspect"
      return 0
    fi
    sleep 2
  done
}
