#!/usr/bin/env bash
# The long modes of the reliability suite, then every fuzz target for a given time.
#
#   bash tests/long.sh            # long tests, then each of the 14 fuzz targets for 600 s (about 2 h 25 min)
#   bash tests/long.sh 60         # each fuzz target for 60 s
#   bash tests/long.sh 0          # long tests only
#   FUZZ_TARGETS="container license_xml" bash tests/long.sh 1200
#
# Needs: the Rust toolchain (cargo fuzz uses nightly features; RUSTC_BOOTSTRAP=1 lets the installed stable
# toolchain provide them) and root for the tmpfs full-disk test (ignored, so not run, otherwise).
# Findings land in fuzz/artifacts/<target>/; new corpus entries in fuzz/corpus/<target>/ (not committed: copy
# the interesting ones to fuzz/seeds/<target>/). The extractor and PFILE targets write their input to a
# temporary file: the fuzzing uses /dev/shm for it unless TMPDIR is set.
set -euo pipefail
cd "$(dirname "$0")/.."

per_target="${1:-600}"

echo "== reliability suite, long mode (400 crash trials, files to 32 MB, 2 GB classify, more tampering)"
ignored=()
if [ "$(id -u)" = 0 ]; then
    ignored=(--include-ignored)
fi
FCI_LONG_TESTS=1 cargo test --locked --test integration reliability_ -- --nocapture "${ignored[@]}" 2>&1 |
    grep -Ev '^test .* ok$'

if [ "$per_target" = "0" ]; then
    exit 0
fi

echo "== fuzzing, ${per_target}s per target"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
if [ -z "${TMPDIR:-}" ] && [ -w /dev/shm ]; then
    export TMPDIR=/dev/shm
fi
cd fuzz
targets="${FUZZ_TARGETS:-$(cargo fuzz list)}"
cargo fuzz build
for target in $targets; do
    mkdir -p "corpus/$target"
    extra=()
    # Real-world files from the shared test data, read as extra seeds (never copied into the repository).
    case "$target" in
        purview_package) shared=../../shared/interop/purview-rulepack ;;
        pfile_header) shared=../../shared/interop/ms-rms-pfile ;;
        *) shared= ;;
    esac
    if [ -n "$shared" ] && [ -d "$shared" ]; then
        extra+=("$shared")
    fi
    echo "-- $target"
    cargo fuzz run "$target" "corpus/$target" "seeds/$target" "${extra[@]}" -- \
        -max_total_time="$per_target" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1
done
echo "== done: no crash found (a crash stops the run with its input in fuzz/artifacts/)"
