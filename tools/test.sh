#!/usr/bin/env bash
# Runs the test files with Node's test runner (TypeScript through tsx) on Node 22.
#   tools/test.sh            every test file
#   tools/test.sh unit       tests/unit only (no services)
#   tools/test.sh FILE...    the named files
# A run that finds no test file fails: zero tests is not a pass.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
case "${1:-all}" in
  all) mapfile -t files < <(find tests -name '*.test.ts' | sort) ;;
  unit) mapfile -t files < <(find tests/unit -name '*.test.ts' | sort) ;;
  integration) mapfile -t files < <(find tests/integration -name '*.test.ts' | sort) ;;
  *) files=("$@") ;;
esac
if [ "${#files[@]}" -eq 0 ]; then
  echo "tools/test.sh: no test files found" >&2
  exit 1
fi
# One file at a time: integration tests each start real servers on a 2-core machine.
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
