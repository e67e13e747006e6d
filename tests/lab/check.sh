# Sourced by the lab's tests from the repository's root: `check DESCRIPTION COMMAND...` runs one
# assertion, prints its ok/FAIL line and counts it in $passed or $failed.
passed=0 failed=0
check() {
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "  ok    $what"; else failed=$((failed + 1)); echo "  FAIL  $what"; fi
}
# Without a Docker engine a lab test says SKIPPED, what it did not test, and exits 0: never a silent pass.
skip_without_docker() {  # TEST, WHAT WAS NOT TESTED
  docker info >/dev/null 2>&1 && return 0
  echo "SKIPPED: $1: no Docker engine answers here (docker info failed); $2"
  exit 0
}
# field RECORD EXPR: a Python expression over the record r.
field() { python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null; }
# lab_run NAME env assignments...: lab-up with them, its headline lines shown; its record's path in
# $record (/dev/null, with the last lines of what it said, when it failed).
lab_run() {
  local name=$1; shift
  out=$(env "$@" lab/lab.sh up 2>&1); rc=$?
  echo "$out" | grep -E "^(lab: (multi|TARGET|done)|c1m (collect|meter))" | sed 's/^/    /'
  record=$(cat build/lab/last-record 2>/dev/null)
  [ "$rc" -eq 0 ] && [ -n "$record" ] || { echo "    $name: exit $rc"; echo "$out" | tail -5 | sed 's/^/    /'; record=/dev/null; }
}
