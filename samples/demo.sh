#!/usr/bin/env bash
# Runs fci-connector's main job — protect every file of a share in place, then report — on a copy of the sample
# share, so the repository is never modified. Uses the demo template (samples/templates/, DEMO ONLY keys) and the
# default rules (classification-rules/): only files the protection policy matches are protected.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
template=e6ee2481-26b9-45e5-b34a-f744eacd53b0

cargo build --release --quiet --manifest-path "$here/../Cargo.toml"
exe="$here/../target/release/fci-connector"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -R "$here/share" "$work/share"
cp -R "$here/share" "$work/original"

echo "== Protecting a copy of samples/share (as an FSRM task would: one process per file)"
find "$work/share" -type f -print0 | sort -z | while IFS= read -r -d '' file; do
  "$exe" --templates "$here/templates" --log-dir "$work/logs" protect "$file" --template "$template" --owner admin@contoso.com \
    || echo "   exit $? for $file"
done

echo
echo "== Status of the protected share (needs no key)"
find "$work/share" -mindepth 1 -type d -print0 | sort -z | xargs -0 "$exe" status

echo
echo "== Unprotecting one file with the demo issuer key and comparing it with the original"
file="$work/share/HR/employee 0417 review.txt"
"$exe" unprotect "$file" --key "$here/keys/demo-issuer.key.pem"
cmp "$file" "$work/original/HR/employee 0417 review.txt" && echo "   identical to the original"
