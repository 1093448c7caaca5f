# shellcheck shell=bash
# The cases of the shell suites (tests/windows/run.sh, tests/packages/run.sh), sourced: one line per case, a list of
# what was skipped and what failed, and "N passed, N failed"; `summary` fails when a case failed.
PASSED=0
FAILED=0
FAILURES=()
SKIPPED=()
ok() { PASSED=$((PASSED + 1)); echo "ok      $1"; }
not_ok() { FAILED=$((FAILED + 1)); FAILURES+=("$1: $2"); echo "FAILED  $1: $2"; }
skip() { SKIPPED+=("$1: $2"); echo "skipped $1: $2"; }

summary() {
    echo
    local s f
    for s in "${SKIPPED[@]}"; do echo "skipped: $s"; done
    for f in "${FAILURES[@]}"; do echo "failed: $f"; done
    echo "$PASSED passed, $FAILED failed"
    [ $FAILED = 0 ]
}
