#!/usr/bin/env bash
# The packages an admin installs, made from binaries already built (nothing is compiled here), into dist/ (ignored
# by git):
#   dist/fci-connector_<version>_amd64.deb             cargo-deb --no-build, from target/release/fci-connector and
#                                                      Cargo.toml's [package.metadata.deb] (docs/LINUX.md)
#   dist/fci-connector-<version>-x86_64.msi            wixl, from packaging/windows/fci-connector.wxs and the
#                                                      cross-built .exe (docs/DEPLOYING.md)
#   dist/fci-connector-<version>-windows-x86_64.zip    the same files as the MSI, plus the sample template
#
#   bash packaging/build.sh [--version V] [--out DIR] [--exe FILE]
#     --version V  package version (default: Cargo.toml's); tests/packages/run.sh makes a higher one to upgrade to
#     --out DIR    where the packages go (default: dist/)
#     --exe FILE   the Windows executable (default: target-windows/x86_64-pc-windows-gnu/release/fci-connector.exe,
#                  which tests/windows/run.sh builds)
# The Linux binary is target/release/fci-connector (`cargo build --release --locked`).
# Needs cargo-deb (`cargo install cargo-deb --locked`), dpkg-shlibdeps (dpkg-dev), wixl and wixl-heat (Debian:
# wixl), python3.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

VERSION=
OUT=$ROOT/dist
EXE=$ROOT/target-windows/x86_64-pc-windows-gnu/release/fci-connector.exe
while [ $# -gt 0 ]; do
    case $1 in
    --version) VERSION=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --exe) EXE=$2; shift 2 ;;
    *) echo "usage: bash packaging/build.sh [--version V] [--out DIR] [--exe FILE]" >&2; exit 2 ;;
    esac
done
[ -n "$VERSION" ] || VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
[ -n "$VERSION" ] || { echo "build.sh: no version in Cargo.toml" >&2; exit 1; }
# An MSI version is numbers only (major.minor.build; the upgrade compares those three).
MSI_VERSION=${VERSION%%[-+~]*}

BIN=$ROOT/target/release/fci-connector
[ -x "$BIN" ] || { echo "build.sh: no $BIN: run cargo build --release --locked first" >&2; exit 1; }
[ -f "$EXE" ] || { echo "build.sh: no $EXE: run bash tests/windows/run.sh (or pass --exe)" >&2; exit 1; }
for tool in cargo-deb wixl wixl-heat python3; do
    command -v $tool >/dev/null || { echo "build.sh: $tool is missing (see the comment at the top)" >&2; exit 1; }
done

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "== $OUT/fci-connector_${VERSION}_amd64.deb"
cargo deb --no-build --locked --deb-version "$VERSION" --output "$OUT/fci-connector_${VERSION}_amd64.deb" >/dev/null

# What the MSI installs and the zip holds, staged: wixl reads sources by relative path only.
STAGE=$WORK/stage
mkdir -p "$STAGE"
cp "$EXE" "$STAGE/fci-connector.exe"
cp -r fci-scripts classification-rules "$STAGE/"
mkdir -p "$STAGE/docs"
cp README.md "$STAGE/docs/"
cp -r docs/. "$STAGE/docs/"

echo "== $OUT/fci-connector-$VERSION-x86_64.msi"
# One fragment per folder, every file in it (wixl has no wildcard): Directory and File ids are hashes of the paths,
# component GUIDs are derived by wixl (Guid="*").
heat() { # $1 folder, $2 directory id, $3 component group
    (cd "$STAGE" && find "$1" -type f | LC_ALL=C sort |
        wixl-heat -p "$1/" --directory-ref "$2" --component-group "$3" --var "var.${3}Dir" --win64) >"$WORK/$3.wxs"
}
heat fci-scripts SCRIPTSDIR Scripts
heat classification-rules RULESDIR Rules
heat docs DOCSDIR Docs
cp packaging/windows/fci-connector.wxs "$WORK/"
(cd "$STAGE" && wixl -a x64 -o "$OUT/fci-connector-$VERSION-x86_64.msi" \
    -D Version="$MSI_VERSION" -D Exe=fci-connector.exe -D Win64=yes \
    -D ScriptsDir=fci-scripts -D RulesDir=classification-rules -D DocsDir=docs \
    "$WORK/fci-connector.wxs" "$WORK/Scripts.wxs" "$WORK/Rules.wxs" "$WORK/Docs.wxs")

ZIP=$OUT/fci-connector-$VERSION-windows-x86_64.zip
echo "== $ZIP"
python3 - "$ZIP" "fci-connector-$VERSION-windows-x86_64" "$STAGE" <<'PY'
import os, sys, zipfile
zip_path, top, stage = sys.argv[1:]
entries = []
for base, dirs, files in os.walk(stage):
    dirs.sort()
    for name in sorted(files):
        path = os.path.join(base, name)
        entries.append((path, os.path.relpath(path, stage).replace(os.sep, "/")))
# The demo template with its public keys only, under samples\ (never templates\: a store beside the executable is
# used by default, and the demo's private keys are published).
entries.append(("samples/templates/contoso-confidential.xml", "samples/templates/contoso-confidential.xml"))
for name in sorted(os.listdir("samples/templates/keys")):
    if name.endswith(".pub.pem"):
        entries.append((f"samples/templates/keys/{name}", f"samples/templates/keys/{name}"))
with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as z:
    for src, dest in entries:
        z.write(src, f"{top}/{dest}")
PY
ls -l "$OUT"
