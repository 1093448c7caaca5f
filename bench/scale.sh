#!/usr/bin/env bash
# The scale row of bench/compare.sh (issue 21): folder runs over a generated share of 1,000,000 small text files, and
# one of 100,000 beside it to show the growth. For `classify --recurse`, `protect --recurse --dry-run --report r.json`
# and `status --recurse --summary`: files per second and peak resident memory (GNU time %M). The HTML report of the
# larger dry run is opened in headless Chromium, which must render its summary.
#
#   bash bench/scale.sh            10^5 and 10^6 files; checks the targets (peak RSS at 10^6 <= 1.2x the peak at
#                                  10^5 and <= 64 MiB), rewrites the scale section of docs/PERFORMANCE.md; exit 1 if
#                                  a target is missed
#   bash bench/scale.sh --quick    2,000 and 20,000 files, no target checks, docs untouched (for CI)
#   bash bench/scale.sh --clean    remove the generated shares and exit
#   bash bench/compare.sh --scale-only [--quick]    the same, through compare.sh
#
# The shares are generated once (by bench/gen.py) into $FCI_SCALE_DIR (default: target/bench-scale in the
# repository) and reused by later runs; the full row needs about 5 GiB of disk and 1.1 million inodes there.
# FCI_BIN names the binary to measure (default: the release build, built first unless --no-build is given);
# FCI_SCALE_COUNTS="SMALL LARGE" other share sizes (to try the script; the targets are about 10^5 and 10^6).
# Run it on a quiet machine: the load average before and after is recorded with the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SCALE_DIR=${FCI_SCALE_DIR:-$ROOT/target/bench-scale}

QUICK=0
BUILD=1
for arg in "$@"; do
    case "$arg" in
        --quick) QUICK=1 ;;
        --no-build) BUILD=0 ;;
        --clean)
            rm -rf "$SCALE_DIR"
            echo "removed $SCALE_DIR" >&2
            exit 0
            ;;
        -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
        *) echo "scale.sh: unknown option $arg" >&2; exit 2 ;;
    esac
done

say() { printf '\n== %s\n' "$*" >&2; }

if [ ! -x /usr/bin/time ]; then
    echo "scale.sh: /usr/bin/time not found (Debian package \`time\`)" >&2
    exit 2
fi
if [ -n "${FCI_BIN:-}" ]; then
    BIN=$FCI_BIN
else
    if [ $BUILD -eq 1 ]; then
        say "building the release binary"
        cargo build --release --locked --quiet
    fi
    BIN=$ROOT/target/release/fci-connector
fi

if [ -n "${FCI_SCALE_COUNTS:-}" ]; then
    read -r -a SIZES <<<"$FCI_SCALE_COUNTS"
elif [ $QUICK -eq 1 ]; then
    SIZES=(2000 20000)
else
    SIZES=(100000 1000000)
fi
if [ ${#SIZES[@]} -ne 2 ]; then
    echo "scale.sh: FCI_SCALE_COUNTS: two counts, the smaller first" >&2
    exit 2
fi
LARGE=${SIZES[1]}

W=$(mktemp -d "${TMPDIR:-/tmp}/fci-scale.XXXXXX")
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/json"
TEMPLATE=e6ee2481-26b9-45e5-b34a-f744eacd53b0
FCI=("$BIN" --templates "$ROOT/samples/templates" --rules "$ROOT/classification-rules" --log-dir "$W/logs")
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# measure NAME COMMAND...: elapsed seconds and peak RSS (KiB) of COMMAND to $W/json/scale-NAME; its stdout to
# $W/out (which may be large: removed by the caller once checked), its stderr to $W/err.
measure() {
    local name=$1; shift
    rm -rf "$W/logs"
    if ! /usr/bin/time -f '%e %M' -o "$W/json/scale-$name" "$@" >"$W/out" 2>"$W/err"; then
        echo "scale.sh: $name failed:" >&2
        tail -5 "$W/err" >&2
        exit 1
    fi
}

# The summary object that ends a JSON report (read from its tail: the report of 10^6 files is hundreds of MB).
summary_files() {
    python3 - "$1" <<'EOF'
import json, os, sys
with open(sys.argv[1], "rb") as f:
    f.seek(max(0, os.path.getsize(sys.argv[1]) - 65536))
    tail = f.read().decode("utf-8", "replace")
at = tail.rindex('"summary":')
print(json.loads(tail[at + len('"summary":'):].rstrip().rstrip("}"))["files"])
EOF
}

check() { # WHAT GOT WANTED
    if [ "$2" != "$3" ]; then
        echo "scale.sh: $1: $2, expected $3" >&2
        exit 1
    fi
}

for n in "${SIZES[@]}"; do
    share=$SCALE_DIR/share$n
    if [ "$(cat "$share/.complete" 2>/dev/null)" != "$n" ]; then
        say "generating $n files in $share (once; reused by later runs, removed by --clean)"
        rm -rf "$share"
        mkdir -p "$share"
        python3 bench/gen.py share "$share" "$n"
    fi
    # Counts the files and brings the folders into the cache, so that no run below pays for a cold start.
    check "files in $share" "$(find "$share" -type f -name '*.txt' | wc -l)" "$n"

    say "$n files: classify --recurse"
    measure "classify-$n" "${FCI[@]}" classify "$share" --recurse --format json
    check "classify: JSON lines" "$(wc -l <"$W/out")" "$n"

    say "$n files: protect --recurse --dry-run --report r.json"
    measure "protect-$n" "${FCI[@]}" protect "$share" --recurse --dry-run --quiet --template "$TEMPLATE" \
        --report "$W/r.json"
    check "protect: files in the report's summary" "$(summary_files "$W/r.json")" "$n"
    rm -f "$W/r.json"

    say "$n files: status --recurse --summary"
    measure "status-$n" "${FCI[@]}" status "$share" --recurse --summary --format json
    check "status: files in the summary" "$(python3 -c 'import json, sys; print(json.load(sys.stdin)["files"])' <"$W/out")" "$n"
done

# The HTML report of the larger dry run, rendered by headless Chromium: its DOM must show the count of files.
say "$LARGE files: protect --recurse --dry-run --report r.html, opened in Chromium"
measure "html-$LARGE" "${FCI[@]}" protect "$SCALE_DIR/share$LARGE" --recurse --dry-run --quiet --template "$TEMPLATE" \
    --report "$W/r.html"
HTML_BYTES=$(stat -c %s "$W/r.html")
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
    HTML_RENDERED="not checked (no chromium: install the Debian package \`chromium\`)"
else
    # A guard against a browser that never exits, not a performance check.
    if timeout 900 "$CHROMIUM" --headless --no-sandbox --disable-gpu --dump-dom --no-first-run --disable-sync \
        --disable-background-networking --disable-component-update "--user-data-dir=$W/chromium" \
        "file://$W/r.html" >"$W/dom.html" 2>/dev/null && grep -q "data-card=\"files\">$LARGE<" "$W/dom.html"; then
        HTML_RENDERED="yes"
    else
        HTML_RENDERED="no"
    fi
    HTML_DOM_BYTES=$(stat -c %s "$W/dom.html")
fi
rm -f "$W/r.html" "$W/dom.html" "$W/out"

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
say "results"
V_FCI="$("$BIN" --version 2>/dev/null || echo fci-connector) ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown))"
CPU=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | sed -n 1p)
CORES=$(nproc)
KERNEL=$(uname -sr)
MEM=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
FS=$(df -T "$SCALE_DIR" | awk 'NR == 2 {print $2}')
SMALL=${SIZES[0]}
export W QUICK ROOT SMALL LARGE HTML_BYTES HTML_RENDERED LOAD_BEFORE LOAD_AFTER V_FCI CPU CORES KERNEL MEM FS
export HTML_DOM_BYTES=${HTML_DOM_BYTES:-}
PYTHONDONTWRITEBYTECODE=1 python3 bench/scale_report.py
