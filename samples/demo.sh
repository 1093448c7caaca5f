#!/usr/bin/env bash
# Runs fci-connector's main job — protect every file of a share in place, then report — on a copy of the sample
# share, so the repository is never modified. Uses the demo template (samples/templates/, DEMO ONLY keys) and the
# default rules (classification-rules/): only files the protection policy matches are protected.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
template=e6ee2481-26b9-45e5-b34a-f744eacd53b0

cargo build --release --quiet --manifest-path "$repo/Cargo.toml"
exe="$repo/target/release/fci-connector"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -R "$here/share" "$work/share"
cp -R "$here/share" "$work/original"
run() { "$exe" --templates "$here/templates" --rules "$repo/classification-rules" --log-dir "$work/logs" "$@"; }

echo "== Do the rules still give the expected results on the sample share?"
run rules test --samples "$here/share" --expected "$here/expected.csv" | tail -n 1

echo
echo "== What would happen (dry run), with a report a manager can read"
run protect "$work/share" --recurse --dry-run --quiet --template "$template" --report "$work/dry-run.html"

echo
echo "== Protecting the copy of the share, in parallel"
run protect "$work/share" --recurse --template "$template" --owner admin@contoso.com --report "$work/report.json"
cp "$work/dry-run.html" "${TMPDIR:-/tmp}/fci-connector-demo-report.html"
echo "   HTML report of the dry run: ${TMPDIR:-/tmp}/fci-connector-demo-report.html"

echo
echo "== Running it again protects nothing twice"
run protect "$work/share" --recurse --quiet --template "$template"

echo
echo "== Status of the protected share (needs no key)"
find "$work/share" -mindepth 1 -type d -print0 | sort -z | xargs -0 "$exe" status

echo
echo "== Unprotecting one file with the demo issuer key and comparing it with the original"
file="HR/Employees/new-hire-diaz.docx"
"$exe" unprotect "$work/share/$file" --key "$here/keys/demo-issuer.key.pem"
cmp "$work/share/$file" "$work/original/$file" && echo "   $file is identical to the original"
