#!/usr/bin/env bash
# fci-connector side by side with age, gpg, cp and ripgrep, on generated inputs, in one run (issues #8 and #16).
#
# fci-connector's rewrite flushes the new file to disk before the rename (what makes a crash safe), so its
# yardsticks are `age` and `cp` each followed by an fsync of their output; the plain rows stay for reference.
#
#   bash bench/compare.sh            full run: 64 KiB files, 1 GiB, 200 MB corpus, 2,000 docx; checks the targets,
#                                    rewrites the measured section of docs/PERFORMANCE.md; exit 1 if a target is missed
#   bash bench/compare.sh --quick    small inputs, few runs, no target checks, docs untouched (for CI)
#   bash bench/compare.sh --scale-only [--quick]    only the scale row (bench/scale.sh)
#   bash bench/compare.sh --core     the full run without its last two sections (service, scale): those keep the
#                                    figures their own scripts last wrote
#   bash bench/compare.sh --clean    remove the scale row's generated shares ($FCI_SCALE_DIR) and exit
#
# The last sections are the licensing service under load, bench/service.sh, and folder runs at scale over a
# generated share of 1,000,000 files, bench/scale.sh (each runnable alone; see their headers).
#
# On a fresh Debian machine it installs what it needs with apt-get (hyperfine, age, gnupg, ripgrep, time, python3),
# builds the release binary, and works in a temporary folder it removes at the end. Run it on a quiet machine:
# the load average before and after is recorded with the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

QUICK=0
SCALE_ONLY=0
CORE=0
for arg in "$@"; do
    case "$arg" in
        --quick) QUICK=1 ;;
        --scale-only) SCALE_ONLY=1 ;;
        --core) CORE=1 ;;
        --clean) exec bash bench/scale.sh --clean ;;
        -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "compare.sh: unknown option $arg" >&2; exit 2 ;;
    esac
done
if [ $SCALE_ONLY -eq 1 ]; then
    scale_args=()
    [ $QUICK -eq 0 ] || scale_args+=(--quick)
    exec bash bench/scale.sh "${scale_args[@]}"
fi

say() { printf '\n== %s\n' "$*" >&2; }

# --- tools -----------------------------------------------------------------------------------------------------
need=()
for pair in hyperfine:hyperfine age:age gpg:gnupg rg:ripgrep python3:python3; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
    say "installing ${need[*]}"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Microsoft's HealthCare package (row 3b; ../shared/interop beside the clone, as in CI), checked before anything is
# measured: a full run without it cannot report that target.
HEALTHCARE=${FCI_SHARED:-$ROOT/../shared}/interop/purview-rulepack/HealthCare.xml
if [ ! -f "$HEALTHCARE" ] && [ $QUICK -eq 0 ]; then
    echo "compare.sh: $HEALTHCARE is missing (set FCI_SHARED to the folder holding interop/)" >&2
    exit 2
fi

say "building the release binary"
cargo build --release --locked --quiet
BIN=$ROOT/target/release/fci-connector

W=$(mktemp -d "${TMPDIR:-/tmp}/fci-compare.XXXXXX")
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/in" "$W/work" "$W/logs" "$W/json"

if [ $QUICK -eq 1 ]; then
    BIG=$((8 * 1024 * 1024)); CORPUS=$((4 * 1024 * 1024)); DOCS=100; RUNS=(--runs 3); BIGRUNS=(--runs 2)
else
    BIG=$((1024 * 1024 * 1024)); CORPUS=$((200 * 1000 * 1000)); DOCS=2000; RUNS=(--warmup 5 --min-runs 40); BIGRUNS=(--warmup 1 --runs 5)
fi
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

say "generating inputs in $W"
python3 bench/gen.py text "$W/in/file64k.txt" 65536
python3 bench/gen.py docx "$W/in/file64k.docx" 65536
python3 bench/gen.py bytes "$W/in/big.bin" "$BIG"
python3 bench/gen.py text "$W/in/corpus.txt" "$CORPUS"
python3 bench/gen.py docxs "$W/in/docs" "$DOCS"

# Recipients: age X25519; gpg RSA of the template key's size (what a PKI-minded site would use), fci-connector the
# demo template (two RSA-OAEP recipients: issuer and recovery key).
age-keygen -o "$W/age.key" 2>/dev/null
AGE_R=$(sed -n 's/^# public key: //p' "$W/age.key")
export GNUPGHOME=$W/gnupg
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key 'bench <bench@example.com>' rsa3072 encrypt never 2>/dev/null
GPG=(gpg --batch --yes --quiet --trust-model always -r bench@example.com)
TEMPLATE=e6ee2481-26b9-45e5-b34a-f744eacd53b0
# The rule folder by path: fci-connector looks only beside the executable and in /etc/fci-connector/.
RULES="--rules $ROOT/classification-rules"
FCI="$BIN --templates $ROOT/samples/templates $RULES --log-dir $W/logs"

# hyperfine NAME ARGS...: run, export JSON to $W/json/NAME.json (quiet unless it fails).
bench() {
    local name=$1; shift
    hyperfine --style basic --export-json "$W/json/$name.json" "$@" >&2
}

# --- 1. one whole per-file protect (default rules, classification on) ------------------------------------------
for kind in txt docx; do
    say "1. per-file protect of a 64 KiB .$kind"
    src=$W/in/file64k.$kind
    # Through the shell (hyperfine subtracts its start-up from every command): `age + fsync` is two commands.
    bench "file-$kind" "${RUNS[@]}" --prepare "cp $src $W/work/f.$kind" \
        -n fci-connector "$FCI protect $W/work/f.$kind --template $TEMPLATE" \
        -n age "age -r $AGE_R -o $W/work/f.age $src" \
        -n "age + fsync" "age -r $AGE_R -o $W/work/f.age $src && sync $W/work/f.age" \
        -n gpg "${GPG[*]} -o $W/work/f.gpg -e $src" \
        -n cp "cp $src $W/work/f.copy"
    # The invocation must really have protected the file, or the figure means nothing.
    "$BIN" status "$W/work/f.$kind" | grep -q protected
done

# --- 2. protect of a large file against cp and age --------------------------------------------------------------
say "2. protect of $((BIG / 1024 / 1024)) MiB"
# `sync` in the preparation: every command starts with no dirty pages of the previous run to write back.
bench big "${BIGRUNS[@]}" --prepare "rm -f $W/work/big.* && cp $W/in/big.bin $W/work/big.bin && sync" \
    -n fci-connector "$FCI protect $W/work/big.bin --template $TEMPLATE --always" \
    -n age "age -r $AGE_R -o $W/work/big.age $W/in/big.bin" \
    -n cp "cp $W/in/big.bin $W/work/big.copy" \
    -n "cp + fsync" "cp $W/in/big.bin $W/work/big.copy && sync $W/work/big.copy"
rm -f "$W"/work/big.*

# --- 3. classify a text corpus against rg -c with the rules' primary patterns ----------------------------------
say "3. classify $((CORPUS / 1000 / 1000)) MB of text against rg -c"
# The candidate patterns of the default rules' Func_credit_card, Func_ssn, Func_iban and Func_email_address
# (src/classify/builtin/mod.rs), verbatim: rg and fci-connector use the same regex engine family.
PATTERNS=(
    '(?-u:\b)(?:[0-9]{14,19}|[0-9]{4}(?:-[0-9]{4}){2}-[0-9]{2,7}|[0-9]{4}(?: [0-9]{4}){2} [0-9]{2,7}|[0-9]{4}[ -][0-9]{6}[ -][0-9]{4,5})(?-u:\b)'
    '(?-u:\b)(?:[0-9]{3}-[0-9]{2}-[0-9]{4}|[0-9]{3} [0-9]{2} [0-9]{4})(?-u:\b)'
    '(?-u:\b)[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?-u:\b)'
    '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}(?-u:\b)'
)
printf '%s\n' "${PATTERNS[@]}" >"$W/patterns"
bench corpus -N "${BIGRUNS[@]}" \
    -n fci-connector "$BIN $RULES classify $W/in/corpus.txt" \
    -n "rg -c" "rg -c -f $W/patterns $W/in/corpus.txt"

# --- 3b. a real Purview package with look-arounds against the default rules, on the same corpus ---------------
if [ -f "$HEALTHCARE" ]; then
    say "3b. classify $((CORPUS / 1000 / 1000)) MB of text with the Purview HealthCare package"
    mkdir -p "$W/healthcare"
    cp "$HEALTHCARE" "$W/healthcare/"
    bench lookaround -N "${BIGRUNS[@]}" \
        -n "default rules" "$BIN $RULES classify $W/in/corpus.txt" \
        -n "HealthCare.xml" "$BIN --rules $W/healthcare classify $W/in/corpus.txt"
fi

# --- 4. classify --recurse of a folder of docx ------------------------------------------------------------------
say "4. classify --recurse of $DOCS docx"
bench folder -N "${BIGRUNS[@]}" -n fci-connector "$BIN $RULES classify $W/in/docs --recurse"

# --- 5. peak resident memory ------------------------------------------------------------------------------------
say "5. peak resident memory"
rss() { # NAME COMMAND...: peak RSS in KiB to $W/json/rss-NAME
    local name=$1; shift
    /usr/bin/time -f %M -o "$W/json/rss-$name" "$@" >/dev/null 2>&1
}
# $FCI and $RULES are command lines: split on purpose.
# shellcheck disable=SC2086
{
cp "$W/in/file64k.txt" "$W/work/f.txt"
rss protect-64k $FCI protect "$W/work/f.txt" --template "$TEMPLATE"
cp "$W/in/big.bin" "$W/work/big.bin"
rss protect-big $FCI protect "$W/work/big.bin" --template "$TEMPLATE"
rm -f "$W"/work/big.*
rss classify-corpus "$BIN" $RULES classify "$W/in/corpus.txt"
}
rss age-64k age -r "$AGE_R" -o "$W/work/f.age" "$W/in/file64k.txt"
rss gpg-64k "${GPG[@]}" -o "$W/work/f.gpg" -e "$W/in/file64k.txt"
rss rg-corpus rg -c -f "$W/patterns" "$W/in/corpus.txt"

# --- rule-set load and compile: in process, with criterion (benches/classify.rs) ----------------------------------
if [ $QUICK -eq 1 ]; then
    say "micro-benchmarks, each run once (cargo bench -- --test)"
    cargo bench --locked --quiet -- --test >&2
    RULES_LOAD_MS=""
else
    say "rule-set load and compile (criterion)"
    cargo bench --locked --quiet --bench classify -- --warm-up-time 1 --measurement-time 5 \
        'rules: load and compile the default rule set' | tee "$W/criterion.txt" >&2
    # "time:   [low estimate high]", each with its unit; the estimate, in milliseconds.
    RULES_LOAD_MS=$(python3 -c '
import re, sys
m = re.search(r"time:\s+\[\S+ \S+ (\S+) (\S+)", open(sys.argv[1]).read())
print(float(m.group(1)) * {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)])' "$W/criterion.txt")
fi
export RULES_LOAD_MS

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report -----------------------------------------------------------------------------------------------------
say "results"
export W QUICK BIG CORPUS DOCS LOAD_BEFORE LOAD_AFTER ROOT
V_FCI="$($BIN --version 2>/dev/null || echo fci-connector) ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown))"
V_HYPERFINE=$(hyperfine --version)
V_AGE="age $(age --version)"
# sed reads to the end: `head -1` would close the pipe early and, under pipefail, fail on the writer's SIGPIPE.
V_GPG=$(gpg --version | sed -n 1p)
V_RG=$(rg --version | sed -n 1p)
V_RUSTC=$(rustc --version)
CPU=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | sed -n 1p)
CORES=$(nproc)
KERNEL=$(uname -sr)
MEM=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
export V_FCI V_HYPERFINE V_AGE V_GPG V_RG V_RUSTC CPU CORES KERNEL MEM
status=0
PYTHONDONTWRITEBYTECODE=1 python3 bench/report.py || status=1

[ $CORE -eq 0 ] || exit $status

# --- 6. the licensing service under load (bench/service.sh: its own deployment, figures and targets) -----------
say "6. the licensing service (bench/service.sh)"
service_args=(--no-build)
[ $QUICK -eq 0 ] || service_args+=(--quick)
bash bench/service.sh "${service_args[@]}" || status=1

# --- 7. folder runs at scale (bench/scale.sh: generated shares of 10^5 and 10^6 files, kept between runs) -------
say "7. folder runs at scale (bench/scale.sh)"
bash bench/scale.sh "${service_args[@]}" || status=1
exit $status
