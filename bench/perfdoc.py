"""What bench/report.py and bench/scale_report.py share: print the targets, and (full mode) write a generated
section of docs/PERFORMANCE.md between its `<script>:begin` and `<script>:end` markers, then exit 1 if a target
was missed."""

import os
import sys


def finish(script, section, targets, quick, root):
    """Print `targets` ((what, measured, goal, met) each); unless `quick`, replace the section of `script` in
    docs/PERFORMANCE.md (under `root`) with the lines `section`. Exits: 0, or 1 in full mode when a target is
    missed."""
    print("\n".join(["%-62s %12s   goal %-10s %s" % (w, s, g, "met" if m else "MISSED") for w, s, g, m in targets]))
    if quick:
        print("\n(quick mode: small inputs, figures not comparable with the targets; docs/PERFORMANCE.md untouched)")
        sys.exit(0)
    path = os.path.join(root, "docs", "PERFORMANCE.md")
    begin, end = "<!-- %s:begin -->" % script, "<!-- %s:end -->" % script
    with open(path) as f:
        doc = f.read()
    if begin not in doc or end not in doc:
        sys.exit("docs/PERFORMANCE.md has no %s ... %s section to write into" % (begin, end))
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(path, "w") as f:
        f.write(head + begin + "\n" + "\n".join(section) + "\n" + end + tail)
    print("\nwrote docs/PERFORMANCE.md")
    sys.exit(0 if all(m for _, _, _, m in targets) else 1)
