#!/usr/bin/env python3
"""The licensing service benchmark's report (bench/service.sh): the figures from $W/runs, the checks, and in full
mode the "Licensing service" figures of docs/PERFORMANCE.md (between the service.sh markers).

Exit 1 when an answer other than 200 was seen (any mode), or, in full mode, when a target is missed."""

import json
import os
import sys

E = os.environ
W = E["W"]
QUICK = E["QUICK"] == "1"
TICK = int(E["TICK"])
DOC = os.path.join(E["ROOT"], "docs", "PERFORMANCE.md")
BEGIN, END = "<!-- service.sh:begin -->", "<!-- service.sh:end -->"

# Targets (issue #14): licenses per second (distinct files, repeated opens) and p99 latency; PostgreSQL within 2x.
# The latency target is checked where it can hold: repeated opens, and distinct files offered at the target rate
# ("paced"). Distinct files as fast as the service answers keep 64 requests waiting on every RSA operation, so there
# the latency is 64 / rate by Little's law (128 ms at 500/s) whatever the service does: shown, not checked.
RATE = {"distinct": 500.0, "paced": 500.0, "repeat": 3000.0}
P99_MS = 100.0
PG_FACTOR = 2.0
# A paced run kept up when it answered at least this share of the offered rate.
KEPT_UP = 0.95
LOAD_NAMES = {"distinct": "distinct files", "paced": "distinct files at the target rate", "repeat": "repeated opens"}


def run(name):
    base = os.path.join(W, "runs", name)
    if not os.path.exists(base + ".wrk"):
        return None
    text = open(base + ".wrk").read()
    line = next((l for l in text.splitlines() if l.startswith("RESULT ")), None)
    if line is None:
        sys.exit(f"service.sh: wrk printed no result for {name}:\n{text}")
    r = json.loads(line[len("RESULT "):])
    seconds = r["duration_us"] / 1e6
    wrk_cpu = int(open(base + ".wrk-ticks").read()) / TICK
    serve_cpu = int(open(base + ".serve-ticks").read()) / TICK
    g0, d0, g1, d1 = (int(x) for x in open(base + ".metrics").read().split())
    other = {k: v for k, v in r["statuses"].items() if k != "200"}
    errors = {k: v for k, v in r["errors"].items() if v and k != "status"}
    return {
        "name": name,
        "ok": r["ok"],
        "again": r["again"],
        "seconds": seconds,
        "rate": r["ok"] / seconds if seconds else 0.0,
        "p50_ms": r["p50_us"] / 1000,
        "p99_ms": r["p99_us"] / 1000,
        "max_ms": r["max_us"] / 1000,
        "wrk_cpu": wrk_cpu,
        "serve_cpu": serve_cpu,
        "share": wrk_cpu / (wrk_cpu + serve_cpu) if wrk_cpu + serve_cpu else 0.0,
        "grants": g1 - g0,
        "denials": d1 - d0,
        "other": other,
        "errors": errors,
    }


def main():
    rows, problems, missed, checks = [], [], [], []
    for store in ("sqlite", "postgres"):
        for load in ("distinct", "paced", "repeat"):
            r = run(f"{store}-{load}")
            if r is None:
                continue
            r["store"], r["load"] = store, load
            rows.append(r)
            if r["other"] or r["errors"] or r["denials"]:
                problems.append(f"{r['name']}: answers other than 200 {r['other']}, socket errors {r['errors']}, "
                                f"denials in /metrics {r['denials']}")
            if r["ok"] == 0:
                problems.append(f"{r['name']}: no use license was issued")
            if load in ("distinct", "paced") and r["again"]:
                note = (f"{r['name']}: {r['again']} requests asked for a file a second time (more requests than "
                        f"the {E['DISTINCT'] if load == 'distinct' else E['PACED']} files protected)")
                if QUICK:
                    sys.stderr.write(f"note: {note}\n")
                else:
                    problems.append(note + f": raise {load.upper()} in bench/service.sh")
            if r["grants"] < r["ok"]:
                problems.append(f"{r['name']}: /metrics counted {r['grants']} grants for {r['ok']} 200 answers")
            factor = PG_FACTOR if store == "postgres" else 1.0
            goal_rate = RATE[load] / factor
            goal_p99 = P99_MS * factor if load != "distinct" else None
            if load == "paced":
                # The offered rate is the target; the service must keep up with it.
                goal_rate = KEPT_UP * float(E["PACED_RATE_SQLITE" if store == "sqlite" else "PACED_RATE_POSTGRES"])
            checks.append((r, goal_rate, goal_p99))
            if r["rate"] < goal_rate:
                missed.append(f"{r['name']}: {r['rate']:.0f}/s < {goal_rate:.0f}/s")
            if goal_p99 is not None and r["p99_ms"] > goal_p99:
                missed.append(f"{r['name']}: p99 {r['p99_ms']:.1f} ms > {goal_p99:.0f} ms")

    sys.stderr.write(table(rows) + "\n")
    if E.get("PG_NOTE"):
        sys.stderr.write(f"PostgreSQL {E['PG_NOTE']}\n")
    if problems:
        sys.stderr.write("service.sh: FAILED:\n  " + "\n  ".join(problems) + "\n")
        sys.exit(1)
    if QUICK:
        sys.stderr.write("quick run: targets not checked, docs untouched\n")
        return
    write_doc(rows, checks)
    if missed:
        sys.stderr.write("service.sh: targets missed:\n  " + "\n  ".join(missed) + "\n")
        sys.exit(1)


def table(rows):
    out = ["| store | load | use licenses/s (200 only) | p50 | p99 | max | answers | service CPU per license | "
           "wrk CPU share |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        load = LOAD_NAMES[r["load"]]
        if r["load"] == "repeat":
            load += f" ({E['REPEAT']} files)"
        elif r["load"] == "paced":
            load += f" ({E['PACED_RATE_SQLITE' if r['store'] == 'sqlite' else 'PACED_RATE_POSTGRES']}/s offered)"
        out.append(f"| {'SQLite' if r['store'] == 'sqlite' else 'PostgreSQL'} | {load} | **{r['rate']:.0f}/s** | "
                   f"{r['p50_ms']:.1f} ms | {r['p99_ms']:.1f} ms | {r['max_ms']:.0f} ms | {r['ok']} in "
                   f"{r['seconds']:.1f} s | {1000 * r['serve_cpu'] / max(r['ok'], 1):.2f} ms | "
                   f"{100 * r['share']:.0f}% ({r['wrk_cpu']:.1f} s wrk, "
                   f"{r['serve_cpu']:.1f} s serve) |")
    return "\n".join(out)


def write_doc(rows, checks):
    lines = [
        f"Machine: {E['CPU']}, {E['CORES']} cores, {E['MEM']}, {E['KERNEL']}; the load generator on the same cores. "
        f"Load average (1, 5, 15 min) before: {E['LOAD_BEFORE']}; after: {E['LOAD_AFTER']} — the machine is shared "
        "with other builds, and the figures were taken under that load.",
        "",
        f"Versions: {E['V_FCI']}; {E['V_RUSTC']}; {E['V_WRK']}"
        + (f"; {E['PG_VERSION']}" if E.get("PG_VERSION") else "") + ".",
        "",
        f"Load: wrk, {E['CONNECTIONS']} connections on {E['THREADS']} threads, keep-alive over TLS 1.3, one "
        "`POST /v1/licenses` per request with an RS256 bearer token; RSA-3072 issuer key, "
        f"{E['SIGNING_ALG']} use-license signing key, every request recorded in the store before its answer. "
        "Distinct files: "
        f"{E['DISTINCT']} files protected beforehand, each asked for at most once (one RSA private-key operation "
        "each), "
        f"{E['DISTINCT_SECONDS']} s, as fast as the answers come. Distinct files at the target rate: another "
        f"{E['PACED']} files, offered at {E['PACED_RATE_SQLITE']}/s (PostgreSQL {E['PACED_RATE_POSTGRES']}/s) on a "
        "fixed schedule (bench/service/paced.lua), "
        f"{E['PACED_SECONDS']} s; the service kept up when it answered {100 * KEPT_UP:.0f}% of that. Repeated opens: {E['REPEAT']} files in rotation, content-key cache warm (each "
        f"file asked for once before), {E['DURATION']} s. Only 200 answers are counted (and every answer was 200). "
        "Service CPU per license: the service's CPU time over the run divided by the licenses issued (PostgreSQL's "
        "own processes not included), the figure that does not depend on what else the machine runs.",
        "",
        "| target | measured | goal | |",
        "|---|---|---|---|",
    ]
    for r, goal_rate, goal_p99 in checks:
        store = "SQLite" if r["store"] == "sqlite" else "PostgreSQL"
        load = LOAD_NAMES[r["load"]]
        lines.append(f"| {store}, {load}: use licenses/s | {r['rate']:.0f}/s | ≥ {goal_rate:,.0f}/s | "
                     f"{'met' if r['rate'] >= goal_rate else '**missed**'} |")
        if goal_p99 is None:
            lines.append(f"| {store}, {load}: p99 latency | {r['p99_ms']:.1f} ms | (64 waiting: see below) | |")
        else:
            lines.append(f"| {store}, {load}: p99 latency | {r['p99_ms']:.1f} ms | ≤ {goal_p99:.0f} ms | "
                         f"{'met' if r['p99_ms'] <= goal_p99 else '**missed**'} |")
    lines += ["", table(rows)]
    if E.get("PG_NOTE"):
        lines += ["", f"PostgreSQL: {E['PG_NOTE']}."]
    block = BEGIN + "\n" + "\n".join(lines) + "\n" + END
    text = open(DOC).read()
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        sys.exit(f"{DOC}: the {BEGIN} … {END} markers are missing")
    open(DOC, "w").write(text)
    sys.stderr.write(f"wrote the figures into {DOC}\n")


if __name__ == "__main__":
    main()
