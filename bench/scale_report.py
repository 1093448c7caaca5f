#!/usr/bin/env python3
"""The report of bench/scale.sh: read the elapsed seconds and peak RSS that GNU time wrote to $W/json/scale-*,
print files/s and peak RSS per command and size with the targets of issue 21, and (full mode) rewrite the scale
section of docs/PERFORMANCE.md, between the `scale.sh:begin` and `scale.sh:end` markers. Exit 1 in full mode when a
target is missed."""

import os

import perfdoc

env = os.environ
W, QUICK = env["W"], env["QUICK"] == "1"
SMALL, LARGE = int(env["SMALL"]), int(env["LARGE"])
COMMANDS = (
    ("classify", "`classify --recurse --format json`"),
    ("protect", "`protect --recurse --dry-run --report r.json`"),
    ("status", "`status --recurse --summary`"),
)


def measured(name):
    """(elapsed seconds, peak RSS in MiB) of one run (GNU time's `%e %M`; %M is KiB)."""
    with open(os.path.join(W, "json", "scale-" + name)) as f:
        elapsed, kib = f.read().split()[-2:]
    return float(elapsed), int(kib) / 1024


targets = []  # (what, measured, goal, met)
rows = ["| command | files | time | files/s | peak RSS |", "|---|---|---|---|---|"]
for name, label in COMMANDS:
    peaks = {}
    for n in (SMALL, LARGE):
        elapsed, peak = measured("%s-%d" % (name, n))
        peaks[n] = peak
        rate = n / elapsed if elapsed > 0 else float("inf")
        rows.append("| %s | %s | %.1f s | %.0f | %.1f MiB |" % (label, format(n, ","), elapsed, rate, peak))
    growth = peaks[LARGE] / peaks[SMALL]
    targets.append(("%s: peak RSS at %s / at %s files" % (name, format(LARGE, ","), format(SMALL, ",")),
                    "%.2f×" % growth, "≤ 1.2×", growth <= 1.2))
    targets.append(("%s: peak RSS at %s files" % (name, format(LARGE, ",")), "%.1f MiB" % peaks[LARGE], "≤ 64 MiB",
                    peaks[LARGE] <= 64))
elapsed, _ = measured("classify-%d" % LARGE)
rate = LARGE / elapsed if elapsed > 0 else float("inf")
targets.append(("classify --recurse at %s files (files/s)" % format(LARGE, ","), "%.0f/s" % rate, "≥ 60,000/s",
                rate >= 60000))

html_elapsed, html_peak = measured("html-%d" % LARGE)
rendered = env["HTML_RENDERED"]
dom = env.get("HTML_DOM_BYTES")
html = ("**HTML report of the %s-file dry run** (`--report r.html`): written in %.1f s at a peak RSS of %.1f MiB, "
        "%.1f MiB on disk; opened in headless Chromium (`--dump-dom`), its rendered summary shows the %s files: **%s**"
        % (format(LARGE, ","), html_elapsed, html_peak, int(env["HTML_BYTES"]) / 1024 / 1024, format(LARGE, ","),
           rendered))
if dom:
    html += " (DOM %.1f MiB)" % (int(dom) / 1024 / 1024)
html += "."
targets.append(("HTML report of %s files renders in Chromium" % format(LARGE, ","), rendered, "yes",
                rendered == "yes"))

summary = ["| target | measured | goal | |", "|---|---|---|---|"]
for what, shown, goal, met in targets:
    summary.append("| %s | %s | %s | %s |" % (what, shown, goal, "met" if met else "**missed**"))

section = [
    "Machine: %s, %s cores, %s, %s, shares on %s. Load average (1, 5, 15 min) before: %s; after: %s."
    % (env["CPU"], env["CORES"], env["MEM"], env["KERNEL"], env["FS"], env["LOAD_BEFORE"], env["LOAD_AFTER"]),
    "",
    "Version: %s. Generated shares of small text files (about 100 bytes, one in ten sensitive) in 1,000 folders; "
    "each command run once, after the share's folders were read into the cache." % env["V_FCI"],
    "",
] + summary + [""] + rows + ["", html]

print("\n".join(rows))
print()
print(html)
print()
perfdoc.finish("scale.sh", section, targets, QUICK, env["ROOT"])
