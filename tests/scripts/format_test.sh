#!/usr/bin/env bash
# Every C++ file is as clang-format (.clang-format: 120 columns) would write it; make format fixes it.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v clang-format >/dev/null || { echo "FAIL: clang-format is not installed (make setup installs it)"; exit 1; }
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' 2>/dev/null || find src tests -name '*.cpp' -o -name '*.hpp')
if ! clang-format --dry-run --Werror "${files[@]}" 2>/tmp/c1m-format.$$; then
  grep -o '^[^:]*:[0-9]*' /tmp/c1m-format.$$ | sort -u | head -20
  rm -f /tmp/c1m-format.$$
  echo "FAIL: the files above are not formatted (make format)"
  exit 1
fi
rm -f /tmp/c1m-format.$$
echo "format: ${#files[@]} files as clang-format writes them"
