#!/usr/bin/env bash
# The licensing service under load (issue #14): `fci-connector serve` answering POST /v1/licenses over TLS to wrk,
# 64 connections on 2 threads, RSA-3072 issuer key, OpenID Connect bearer token, SQLite and PostgreSQL stores.
#
#   bash bench/service.sh            full run: checks the targets, rewrites the "Licensing service" figures in
#                                    docs/PERFORMANCE.md; exit 1 if a target is missed
#   bash bench/service.sh --quick    small counts, a few seconds, no target checks, docs untouched (for CI)
#   --no-build                       use target/release/fci-connector as it is (bench/compare.sh built it)
#   SIGNING=p256 bash bench/service.sh   sign use licenses with ECDSA P-256 instead of Ed25519
#
# Three loads: distinct files as fast as the service answers (every request a file the service has not seen: one RSA
# private-key operation each), distinct files offered at the target rate (the latency target: bench/service/paced.lua)
# and repeated opens (100 files, the content-key cache warm). Only 200 answers count; any other answer fails the run.
# Installs what it needs (wrk, openssl with apt-get; PyJWT and cryptography with pip). PostgreSQL (a throwaway
# cluster on a loopback port, run as the postgres user) needs root and PostgreSQL's server binaries; without them it
# is skipped with a note. The load average before and after is recorded with the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

QUICK=0
BUILD=1
for arg in "$@"; do
    case "$arg" in
        --quick) QUICK=1 ;;
        --no-build) BUILD=0 ;;
        -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "service.sh: unknown option $arg" >&2; exit 2 ;;
    esac
done

say() { printf '\n== %s\n' "$*" >&2; }

# --- tools -----------------------------------------------------------------------------------------------------
need=()
for pair in wrk:wrk openssl:openssl python3:python3; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ ${#need[@]} -gt 0 ]; then
    say "installing ${need[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
if ! python3 -c 'import jwt, cryptography' 2>/dev/null; then
    say "installing PyJWT and cryptography (pip)"
    python3 -m pip install --quiet --user PyJWT cryptography 2>/dev/null ||
        python3 -m pip install --quiet --break-system-packages PyJWT cryptography
fi

if [ $BUILD -eq 1 ]; then
    say "building the release binary"
    cargo build --release --locked --quiet
fi
BIN=$ROOT/target/release/fci-connector

if [ $QUICK -eq 1 ]; then
    DISTINCT=400; PACED=600; REPEAT=100; DISTINCT_SECONDS=2; PACED_SECONDS=1; DURATION=2
else
    DISTINCT=4000; PACED=4000; REPEAT=100; DISTINCT_SECONDS=6; PACED_SECONDS=6; DURATION=20
fi
# The offered rate of the paced load: the distinct-files target (PostgreSQL's is half, as bench/service/report.py has it).
PACED_RATE_SQLITE=500
PACED_RATE_POSTGRES=250
CONNECTIONS=64
THREADS=2
TEMPLATE=0b5e7c1d-93a4-4f2e-8d61-5c0a7e9f1b23
ISSUER=https://login.bench.test/
AUDIENCE=fci-connector
PRINCIPAL=reader@contoso.com
TICK=$(getconf CLK_TCK)

W=$(mktemp -d "${TMPDIR:-/tmp}/fci-service-bench.XXXXXX")
SERVE_PID=""
PG_BIN=""
PG_DIR=""
cleanup() {
    if [ -n "$SERVE_PID" ]; then kill "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true; fi
    if [ -n "$PG_BIN" ]; then
        runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$W" ${PG_DIR:+"$PG_DIR"}
}
trap cleanup EXIT
mkdir -p "$W/keys" "$W/tls" "$W/templates" "$W/distinct" "$W/paced" "$W/repeat" "$W/logs" "$W/runs"
chmod 700 "$W/keys" "$W/tls"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
HEALTH_PORT=$(free_port)
URL=https://127.0.0.1:$PORT

# --- the deployment, made through the release binary ------------------------------------------------------------
say "deployment in $W: RSA-3072 issuer key, template, signing key, TLS certificate, JWKS and token"
"$BIN" keys generate --name issuer --bits 3072 --out "$W/keys" >/dev/null
"$BIN" --templates "$W/templates" templates create --id "$TEMPLATE" --name "Bench - Confidential" \
    --grant "@contoso.com=VIEW" --offline-days 7 --license-server "$URL/" --key "$W/keys/issuer.pub.pem" >/dev/null
# The use-license signing key, PKCS#8: Ed25519 as docs/SERVICE.md sets it up (SIGNING=p256: ECDSA P-256, ES256).
case "${SIGNING:=ed25519}" in
    ed25519) openssl genpkey -algorithm ed25519 -out "$W/keys/signing.key.pem" 2>/dev/null; SIGNING_ALG=EdDSA ;;
    p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$W/keys/signing.key.pem" 2>/dev/null
        SIGNING_ALG=ES256 ;;
    *) echo "service.sh: SIGNING=$SIGNING: ed25519 or p256" >&2; exit 2 ;;
esac
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$W/tls/server.key" -out "$W/tls/server.pem" 2>/dev/null
chmod 600 "$W"/keys/*.key.pem "$W/tls/server.key"
python3 bench/service/prepare.py idp "$W" "$ISSUER" "$AUDIENCE" "$PRINCIPAL"
TOKEN=$(cat "$W/token")

# store_url: the config for a store.
write_config() {
    cat >"$W/serve.toml" <<EOF
listen = "127.0.0.1:$PORT"
health_listen = "127.0.0.1:$HEALTH_PORT"
tls_cert = "tls/server.pem"
tls_key = "tls/server.key"
templates = "templates"
admins = ["secadmin@contoso.com"]
signing_key = "keys/signing.key.pem"
audit_retention_days = 365

[[issuer_keys]]
path = "keys/issuer.key.pem"

[store]
url = "$1"

[limits]
requests_per_minute = 0

[auth.oidc]
issuer = "$ISSUER"
audience = "$AUDIENCE"
jwks_file = "jwks.json"
EOF
}

# --- the protected files and the request bodies -----------------------------------------------------------------
say "protecting $DISTINCT + $PACED distinct files and $REPEAT for repeated opens"
python3 - "$W" "$DISTINCT" "$PACED" "$REPEAT" <<'EOF'
import os, sys
w, distinct, paced, repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
for folder, n in (("distinct", distinct), ("paced", paced), ("repeat", repeat)):
    for i in range(n):
        with open(os.path.join(w, folder, f"f{i:06}.txt"), "w") as f:
            f.write(f"benchmark file {folder} {i}\n" * 8)
EOF
for set in distinct paced repeat; do
    "$BIN" --templates "$W/templates" --log-dir "$W/logs" protect "$W/$set" --recurse --template "$TEMPLATE" \
        --always --owner owner@contoso.com >/dev/null
    python3 bench/service/prepare.py bodies "$W/$set.jsonl" "$W/$set"
done
[ "$(wc -l <"$W/distinct.jsonl")" -eq "$DISTINCT" ] && [ "$(wc -l <"$W/paced.jsonl")" -eq "$PACED" ] &&
    [ "$(wc -l <"$W/repeat.jsonl")" -eq "$REPEAT" ]

# --- the service ------------------------------------------------------------------------------------------------
start_service() { # STORE_URL
    write_config "$1"
    "$BIN" serve "$W/serve.toml" >"$W/serve.out" 2>"$W/serve.log" &
    SERVE_PID=$!
    for _ in $(seq 600); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then return 0; fi
        kill -0 "$SERVE_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "service.sh: serve did not start:" >&2
    tail -20 "$W/serve.log" >&2
    exit 1
}

stop_service() {
    kill "$SERVE_PID"
    wait "$SERVE_PID" || true
    SERVE_PID=""
}

# Grants and denials so far, from the loopback /metrics: "GRANTS DENIALS".
metrics() {
    python3 - "http://127.0.0.1:$HEALTH_PORT/metrics" <<'EOF'
import sys, urllib.request
text = urllib.request.urlopen(sys.argv[1], timeout=10).read().decode()
total = lambda name: sum(float(l.rsplit(" ", 1)[1]) for l in text.splitlines() if l.startswith(name))
print(int(total("fci_licensing_grants_total")), int(total("fci_licensing_denials_total")))
EOF
}

# CPU ticks (user + system) of a process.
ticks() { local s; read -r -a s <"/proc/$1/stat"; echo $((s[13] + s[14])); }

# run NAME BODIES MODE SECONDS [RATE]: one wrk run (with RATE: paced.lua, requests offered at RATE per second); its
# RESULT line, CPU seconds and /metrics deltas to $W/runs/NAME.
run() {
    local name=$1 bodies=$2 mode=$3 seconds=$4 rate=${5:-}
    local script=bench/service/licenses.lua
    [ -z "$rate" ] || script=bench/service/paced.lua
    local m0 m1 s0 s1
    m0=$(metrics)
    s0=$(ticks "$SERVE_PID")
    # wrk in a subshell of its own: its CPU time is what the subshell's cutime/cstime gain once it has waited for
    # it (read with the `read` builtin, so no other child is counted).
    (
        read -r -a a <"/proc/$BASHPID/stat"
        wrk -t "$THREADS" -c "$CONNECTIONS" -d "${seconds}s" --timeout 10s --latency -s "$script" \
            "$URL" -- "$bodies" "$TOKEN" "$mode" "$THREADS" $rate >"$W/runs/$name.wrk"
        read -r -a b <"/proc/$BASHPID/stat"
        echo $((b[15] + b[16] - a[15] - a[16])) >"$W/runs/$name.wrk-ticks"
    )
    s1=$(ticks "$SERVE_PID")
    m1=$(metrics)
    echo $((s1 - s0)) >"$W/runs/$name.serve-ticks"
    echo "$m0 $m1" >"$W/runs/$name.metrics"
    grep -v '^RESULT' "$W/runs/$name.wrk" >&2 || true
}

loads() { # STORE PACED_RATE
    local store=$1 paced_rate=$2
    say "$store: distinct files (${DISTINCT_SECONDS}s, $DISTINCT files to ask for)"
    run "$store-distinct" "$W/distinct.jsonl" distinct "$DISTINCT_SECONDS"
    say "$store: distinct files offered at $paced_rate/s (${PACED_SECONDS}s, $PACED files to ask for)"
    run "$store-paced" "$W/paced.jsonl" distinct "$PACED_SECONDS" "$paced_rate"
    say "$store: repeated opens of $REPEAT files (each asked for once first, then ${DURATION}s)"
    python3 bench/service/prepare.py warm "$URL" "$TOKEN" "$W/repeat.jsonl" "$W/tls/server.pem"
    run "$store-repeat" "$W/repeat.jsonl" repeat "$DURATION"
}

start_service "sqlite://licensing.db"
loads sqlite "$PACED_RATE_SQLITE"
stop_service

# --- PostgreSQL: a throwaway cluster, as tests/integration/store_postgres.rs makes it ---------------------------
PG_NOTE=""
for v in 17 16 15; do
    [ -x "/usr/lib/postgresql/$v/bin/initdb" ] && { PG_FOUND=/usr/lib/postgresql/$v/bin; break; }
done
if [ "$(id -u)" -ne 0 ]; then
    PG_NOTE="skipped: not root (the throwaway cluster runs as the postgres user)"
elif [ -z "${PG_FOUND:-}" ] || ! id postgres >/dev/null 2>&1; then
    PG_NOTE="skipped: PostgreSQL's server binaries (initdb, pg_ctl) or the postgres user are missing"
else
    PG_PORT=$(free_port)
    # A folder of its own: the postgres user cannot enter $W (mode 700, root's).
    PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/fci-service-bench-pg.XXXXXX")
    chown postgres:postgres "$PG_DIR"
    say "PostgreSQL: a throwaway cluster on 127.0.0.1:$PG_PORT (default settings: fsync and synchronous_commit on)"
    if runuser -u postgres -- "$PG_FOUND/initdb" --auth=trust -U postgres -E UTF8 -D "$PG_DIR/data" >"$W/initdb.log" 2>&1 &&
        runuser -u postgres -- "$PG_FOUND/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
            -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1" start >/dev/null 2>&1; then
        PG_BIN=$PG_FOUND
        export PG_VERSION
        PG_VERSION=$("$PG_BIN/postgres" --version)
        start_service "postgres://postgres@127.0.0.1:$PG_PORT/postgres"
        loads postgres "$PACED_RATE_POSTGRES"
        stop_service
    else
        PG_NOTE="skipped: the throwaway cluster did not start ($(tail -1 "$W/initdb.log" 2>/dev/null))"
    fi
fi
export PG_NOTE

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report -----------------------------------------------------------------------------------------------------
say "results"
export W QUICK TICK SIGNING_ALG DISTINCT PACED PACED_SECONDS PACED_RATE_SQLITE PACED_RATE_POSTGRES REPEAT DISTINCT_SECONDS DURATION CONNECTIONS THREADS LOAD_BEFORE LOAD_AFTER ROOT
V_FCI="$($BIN --version 2>/dev/null || echo fci-connector) ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown))"
V_WRK=$( (wrk -v 2>&1 || true) | sed -n 1p | cut -d' ' -f1-2)
V_RUSTC=$(rustc --version 2>/dev/null || echo rustc)
CPU=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | sed -n 1p)
CORES=$(nproc)
KERNEL=$(uname -sr)
MEM=$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
export V_FCI V_WRK V_RUSTC CPU CORES KERNEL MEM
python3 bench/service/report.py
