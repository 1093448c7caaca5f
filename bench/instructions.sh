#!/usr/bin/env bash
# The instruction-count budget (issue #16): per-file cost must not creep back.
#
#   bash bench/instructions.sh             measure, compare with bench/instructions.budget; exit 1 if a count grew
#                                          more than 10% past its budget
#   bash bench/instructions.sh --update    measure and rewrite the budget file with the new counts
#   --bin PATH                             measure this binary instead of building the release binary
#
# Wall-clock figures move with the machine's load; the number of instructions a process executes does not
# (valgrind's callgrind counts them, Ir). Each measurement is one whole fci-connector process, start to exit, on a
# deterministic input made by bench/gen.py: what FSRM pays per file. Repeated runs agree within about 0.1%; the
# counts still depend on the toolchain and the CPU features valgrind reports, so the budget is re-measured when
# either changes. A count that grows past its budget + 10% fails CI: if the growth is meant, run --update and say
# why in the commit that changes the budget file.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUDGET=$ROOT/bench/instructions.budget
TOLERANCE_PERCENT=10

UPDATE=0
BIN=""
while [ $# -gt 0 ]; do
    case "$1" in
        --update) UPDATE=1 ;;
        --bin) BIN=$2; shift ;;
        -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "instructions.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

if ! command -v valgrind >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq valgrind >/dev/null
fi
if [ -z "$BIN" ]; then
    cargo build --release --locked --quiet
    BIN=$ROOT/target/release/fci-connector
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/fci-instructions.XXXXXX")
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/logs"
python3 bench/gen.py text "$W/in.txt" 65536
python3 bench/gen.py docx "$W/in.docx" 65536
TEMPLATE=e6ee2481-26b9-45e5-b34a-f744eacd53b0
FCI=("$BIN" --templates "$ROOT/samples/templates" --rules "$ROOT/classification-rules" --log-dir "$W/logs")

# instructions COMMAND...: the Ir count of one run of COMMAND (which must succeed).
instructions() {
    valgrind --tool=callgrind --callgrind-out-file="$W/callgrind.out" "$@" >"$W/out" 2>"$W/err" || {
        cat "$W/out" "$W/err" >&2
        echo "instructions.sh: the measured command failed: $*" >&2
        exit 1
    }
    sed -n 's/^summary: //p' "$W/callgrind.out"
}

declare -A measured
cp "$W/in.txt" "$W/f.txt"
measured[protect-64k-txt]=$(instructions "${FCI[@]}" protect "$W/f.txt" --template "$TEMPLATE")
cp "$W/in.docx" "$W/f.docx"
measured[protect-64k-docx]=$(instructions "${FCI[@]}" protect "$W/f.docx" --template "$TEMPLATE")
measured[rules-load]=$(instructions "${FCI[@]}" rules check)
# The protects must really have protected, or the counts measure an early exit.
for f in "$W/f.txt" "$W/f.docx"; do
    "$BIN" status "$f" | grep -q ' protected ' || { echo "instructions.sh: $f was not protected" >&2; exit 1; }
done

NAMES=(protect-64k-txt protect-64k-docx rules-load)
if [ $UPDATE -eq 1 ]; then
    {
        echo "# Instruction counts (valgrind callgrind, Ir) of whole fci-connector processes, release build:"
        echo "# bench/instructions.sh measures them and fails when one grows more than ${TOLERANCE_PERCENT}% past its"
        echo "# line here. Update with --update in the commit that makes a count grow, and say why in it."
        echo "# Measured with $(rustc --version), $(valgrind --version)."
        for name in "${NAMES[@]}"; do echo "$name ${measured[$name]}"; done
    } >"$BUDGET"
    echo "instructions.sh: budget written to bench/instructions.budget"
    exit 0
fi

status=0
printf '%-18s %14s %14s %8s\n' measurement budget measured change
for name in "${NAMES[@]}"; do
    budget=$(sed -n "s/^$name \\([0-9]*\\)\$/\\1/p" "$BUDGET")
    if [ -z "$budget" ]; then
        echo "instructions.sh: bench/instructions.budget has no line for $name (run --update)" >&2
        status=1
        continue
    fi
    now=${measured[$name]}
    change=$(awk -v n="$now" -v b="$budget" 'BEGIN { printf "%+.1f%%", (n - b) * 100 / b }')
    verdict=""
    if [ $((now * 100)) -gt $((budget * (100 + TOLERANCE_PERCENT))) ]; then
        verdict="  over budget by more than ${TOLERANCE_PERCENT}%"
        status=1
    fi
    printf '%-18s %14s %14s %8s%s\n' "$name" "$budget" "$now" "$change" "$verdict"
done
[ $status -eq 0 ] || echo "instructions.sh: a count grew past its budget; if that is meant, run --update and say why" >&2
exit $status
