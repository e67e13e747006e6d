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
