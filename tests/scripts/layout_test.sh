#!/usr/bin/env bash
# The layout's two promises, checked: core/ never includes libevent, and only core's system files
# (host, procfs, process_tree, cgroup, atomic_file, record_file, spool, record_store, clock) touch the system; everything else in core takes
# what it needs as arguments, so it is tested without a host.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root/src/core"
fail=0
if grep -rln --include='*.cpp' --include='*.hpp' "event2/\|<event\.h>" .; then echo "FAIL: core includes libevent (above)"; fail=1; fi
system='ifstream\|ofstream\|::open(\|fopen\|opendir\|read_text(\|read_sysctl(\|clock_gettime\|getrandom\|gethostname\|setrlimit\|getrlimit\|sched_set\|\bstat(\|rename(\|fsync\|host_fingerprint()\|read_host_facts()'
allowed='/\(host\|procfs\|process_tree\|cgroup\|atomic_file\|record_file\|spool\|record_store\|clock\)\.\(cpp\|hpp\)$'
for f in $(grep -rl --include='*.cpp' --include='*.hpp' "$system" . | grep -v "$allowed" || true); do
  echo "FAIL: $f touches the system (move the read to host/procfs, or take the value as an argument):"
  grep -n "$system" "$f" | head -5
  fail=1
done
[ "$fail" = 0 ] && echo "layout: core is libevent-free and pure outside host, procfs, process_tree, cgroup, atomic_file, record_file, spool, record_store, clock"
exit "$fail"
