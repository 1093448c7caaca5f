#!/usr/bin/env bash
# The Windows build, tested under Wine: cross-builds fci-connector.exe with MinGW-w64, makes a fresh Wine prefix, and
# runs the Windows test cases against the real executable. Prints one line per case and a closing
# "N passed, N failed"; exits non-zero when a case failed.
#
# Works on a fresh Debian machine: missing packages (rustc-web, rust-web-src, gcc-mingw-w64-x86-64, nasm, wine64) are
# installed with apt-get. Everything it builds or makes goes under target-windows/ (ignored by git).
#
#   bash tests/windows/run.sh             build, then run every case
#   bash tests/windows/run.sh --no-build  reuse the last build (for working on the cases)
#   FCI_WINDOWS_ONLY=licensing bash tests/windows/run.sh --no-build   only the licensing cases (licensing.sh)
#
# The ProcessPrng shim (processprng-shim.c) and the helper (wintest.c) are test scaffolding, never shipped.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
HERE=$ROOT/tests/windows

BUILD=1
for arg in "$@"; do
    case $arg in
    --no-build) BUILD=0 ;;
    *) echo "usage: bash tests/windows/run.sh [--no-build]" >&2; exit 2 ;;
    esac
done

TARGET=x86_64-pc-windows-gnu
OUT=$ROOT/target-windows
EXE=$OUT/$TARGET/release/fci-connector.exe
TEMPLATE_ID=e6ee2481-26b9-45e5-b34a-f744eacd53b0

# --- packages -------------------------------------------------------------------------------------------------------
WINE=$(command -v wine64 || echo /usr/lib/wine/wine64)
missing=()
[ -x /usr/bin/rustc ] || missing+=(rustc-web)
[ -d /usr/lib/rustlib/src/rust/library ] || missing+=(rust-web-src)
command -v x86_64-w64-mingw32-gcc >/dev/null || missing+=(gcc-mingw-w64-x86-64)
# AWS-LC (the licensing service's RSA private-key operation) assembles its x86-64 code with NASM for Windows.
command -v nasm >/dev/null || missing+=(nasm)
[ -x "$WINE" ] || missing+=(wine64)
command -v openssl >/dev/null || missing+=(openssl)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing ${missing[*]}"
    SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
    WINE=$(command -v wine64 || echo /usr/lib/wine/wine64)
fi

# --- build ----------------------------------------------------------------------------------------------------------
if [ $BUILD = 1 ]; then
    echo "== building $TARGET (Debian's rustc with the std sources; panic=abort std, as build-std needs)"
    # rustup cannot add targets here: Debian's rustc builds std for the target from rust-web-src (-Zbuild-std, which
    # RUSTC_BOOTSTRAP unlocks on a stable toolchain). The linker is set in .cargo/config.toml.
    RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 cargo build --release --locked \
        -Zbuild-std=std,panic_abort --target $TARGET --target-dir "$OUT"
    # The Linux executable, for the licensing service the Windows reader talks to (tests/windows/licensing.sh).
    echo "== building the Linux executable (the licensing service for the reader cases)"
    cargo build --locked --bin fci-connector
fi
[ -f "$EXE" ] || { echo "no $EXE: run without --no-build" >&2; exit 1; }
[ -x target/debug/fci-connector ] || { echo "no target/debug/fci-connector: run without --no-build" >&2; exit 1; }

# --- a fresh Wine prefix ----------------------------------------------------------------------------------------------
export WINEPREFIX=$OUT/wineprefix
export WINEDEBUG=-all
# Native bcryptprimitives (the shim) first; no Mono or Gecko installer prompts; no menu entries.
export WINEDLLOVERRIDES="bcryptprimitives=n,b;mscoree=;mshtml=;winemenubuilder.exe=d"
# Wine converts arguments and output with the locale's character set: UTF-8, for the non-ASCII names.
export LC_ALL=C.UTF-8
stop_wine() { "$(dirname "$WINE")/wineserver" -k 2>/dev/null || true; }
stop_wine
# Wine's own processes may still be writing into the old prefix for a moment after they are told to stop.
rm -rf "$WINEPREFIX" 2>/dev/null || { sleep 3; rm -rf "$WINEPREFIX"; }
echo "== Wine prefix $WINEPREFIX ($("$WINE" --version))"
"$WINE" wineboot --init >/dev/null 2>&1
trap stop_wine EXIT

C=$WINEPREFIX/drive_c
# Rust's std calls ProcessPrng (bcryptprimitives.dll) at start-up; Wine 8 does not have it.
x86_64-w64-mingw32-gcc -shared -O2 -o "$C/windows/system32/bcryptprimitives.dll" "$HERE/processprng-shim.c" -ladvapi32
APP=$C/FciConnector
mkdir -p "$APP/keys" "$APP/templates" "$C/Shares" "$C/work"
cp "$EXE" "$APP/"
cp -r "$ROOT/classification-rules" "$APP/"
cp "$ROOT"/tests/fixtures/keys/{issuer,recovery,stranger}.*.pem "$APP/keys/"
cp "$HERE/exitcode.cmd" "$APP/"
x86_64-w64-mingw32-gcc -municode -O2 -Wall -o "$APP/wintest.exe" "$HERE/wintest.c" -ladvapi32
x86_64-w64-mingw32-gcc -municode -O2 -Wall -o "$APP/launcher.exe" "$HERE/launcher.c"

FCI='C:\FciConnector\fci-connector.exe'
HELPER='C:\FciConnector\wintest.exe'
SENSITIVE=$ROOT/samples/share/HR/Employees/"employee 0417 review.txt"
CLEAN=$ROOT/samples/share/Public/cafeteria-menu.txt

# --- helpers --------------------------------------------------------------------------------------------------------
# shellcheck source=tests/cases.sh
. "$ROOT/tests/cases.sh"

# The Unix path of a C:\ path.
unix_path() { local p=${1#\\\\?\\}; p=${p#C:}; p=${p//\\//}; echo "$C$p"; }

# Run a Windows program; its exit code in $RC, output in $OUTPUT.
win() {
    set +e
    OUTPUT=$("$WINE" "$@" 2>&1)
    RC=$?
    set -e
}
fci() { win "$FCI" "$@"; }

# A test file: $1 the Windows path, $2 the content's source file. Keeps a copy of the original bytes.
make_file() {
    local u
    u=$(unix_path "$1")
    mkdir -p "$(dirname "$u")"
    cp "$2" "$u"
    cp "$2" "$u.orig-for-test"
    mv "$u.orig-for-test" "$C/work/$(echo -n "$1" | sha256sum | cut -c1-16).orig"
}
orig_of() { echo "$C/work/$(echo -n "$1" | sha256sum | cut -c1-16).orig"; }
unchanged() { cmp -s "$(unix_path "$1")" "$(orig_of "$1")"; }
is_protected() { fci status --format json "$1" && [[ $OUTPUT == *'"state":"protected"'* ]]; }
no_leftovers() { ! find "$(dirname "$(unix_path "$1")")" -maxdepth 1 \( -name '.~fci-*' -o -name 'rfc*.tmp' \) | grep -q .; }

# protect, status, unprotect; the bytes must come back and nothing may be left beside the file.
round_trip() {
    local name=$1 path=$2 status_path=${3:-$2}
    make_file "$path" "$SENSITIVE"
    fci protect "$path" --template $TEMPLATE_ID --always
    [ $RC = 0 ] || { not_ok "$name" "protect: exit $RC: $OUTPUT"; return; }
    ! unchanged "$path" || { not_ok "$name" "protect said exit 0 but the file is unchanged"; return; }
    is_protected "$status_path" || { not_ok "$name" "status does not say protected: exit $RC: $OUTPUT"; return; }
    win "$HELPER" attrs "$path"
    [ "${OUTPUT//$'\r'/}" = "-" ] || { not_ok "$name" "attributes after protect: $OUTPUT (want none)"; return; }
    fci unprotect "$path" --key 'C:\FciConnector\keys\issuer.key.pem'
    [ $RC = 0 ] || { not_ok "$name" "unprotect: exit $RC: $OUTPUT"; return; }
    unchanged "$path" || { not_ok "$name" "the bytes did not come back"; return; }
    no_leftovers "$path" || { not_ok "$name" "files left beside it: $(ls -A "$(dirname "$(unix_path "$path")")")"; return; }
    ok "$name"
}

# A command line in a file, for wintest run/hold/lock: $1 the file (Unix path), the rest the line.
write_line() { local f=$1; shift; printf '%s\r\n' "$*" >"$f"; }

if [ "${FCI_WINDOWS_ONLY:-}" = licensing ]; then
    # shellcheck source=tests/windows/licensing.sh
    . "$HERE/licensing.sh"
    summary
    exit
fi

# --- the template store, made by the executable itself ----------------------------------------------------------------
fci --templates 'C:\FciConnector\templates' templates create --id $TEMPLATE_ID --name "Contoso - Confidential" \
    --key 'C:\FciConnector\keys\issuer.pub.pem' --recovery-key 'C:\FciConnector\keys\recovery.pub.pem' \
    --grant "finance@contoso.com=VIEW,EDIT,PRINT"
[ $RC = 0 ] || { echo "cannot create the test template: exit $RC: $OUTPUT" >&2; exit 1; }

echo "== paths"
round_trip "drive path with spaces" 'C:\Shares\Finance Dept\Q3  report (final).txt'
round_trip "non-ASCII names" 'C:\Shares\Données\Résumé – Zoë Ångström 日本語 Ελληνικά.txt'
round_trip "forward slashes" 'C:/Shares/Finance Dept/forward/slashes.txt'
round_trip "mixed slashes" 'C:\Shares/Finance Dept\mixed/slashes.txt'
long='C:\Shares\long'
for i in 1 2 3 4 5; do long="$long\\Folder $i of a deep tree, named at length to go past MAX_PATH"; done
long="$long\\Quarterly report with a long name.txt"
[ ${#long} -gt 260 ] || { echo "the long path is only ${#long} characters" >&2; exit 1; }
round_trip "path of ${#long} characters in the \\\\?\\ form" "\\\\?\\$long" "$long"
long2=${long/Quarterly/Second quarterly}
round_trip "path of ${#long2} characters without the \\\\?\\ prefix" "$long2"

echo "== files in use"
# wintest holds the file open the way another program would, then runs fci-connector while it does.
busy_case() {
    local name=$1 how=$2 share=$3 path=$4
    make_file "$path" "$SENSITIVE"
    write_line "$C/work/line.txt" "\"$FCI\" protect \"$path\" --template $TEMPLATE_ID --always"
    if [ "$how" = lock ]; then
        win "$HELPER" lock "$path" 'C:\work\line.txt'
    else
        win "$HELPER" hold "$path" "$share" 'C:\work\line.txt'
    fi
    if [ $RC = 4 ] && unchanged "$path" && no_leftovers "$path"; then
        ok "$name: exit 4, original untouched"
    else
        not_ok "$name" "exit $RC (want 4), unchanged: $(unchanged "$path" && echo yes || echo no): $OUTPUT"
    fi
}
busy_case "open elsewhere, sharing nothing" hold none 'C:\Shares\Busy\deny all.txt'
busy_case "open for writing elsewhere, sharing only reading (an editor)" hold read 'C:\Shares\Busy\editor.txt'
busy_case "open elsewhere without delete sharing" hold readwrite 'C:\Shares\Busy\no delete.txt'
busy_case "byte-range lock held elsewhere (LockFileEx)" lock - 'C:\Shares\Busy\locked.txt'
# A writer that shares everything (as programs written for POSIX do) would go on writing into the old file after the
# swap: the original is opened without write sharing, so its open refuses the run (issue 13, open writers).
busy_case "open for writing elsewhere, sharing everything" hold all 'C:\Shares\Busy\shares all.txt'

echo "== attributes and streams"
attrs_case() {
    local name=$1 set=$2 path=$3
    make_file "$path" "$SENSITIVE"
    win "$HELPER" set-attrs "$path" "$set"
    fci protect "$path" --template $TEMPLATE_ID --always
    [ $RC = 0 ] || { not_ok "$name" "protect: exit $RC: $OUTPUT"; return; }
    is_protected "$path" || { not_ok "$name" "not protected: $OUTPUT"; return; }
    win "$HELPER" attrs "$path"
    [ "${OUTPUT//$'\r'/}" = "$set" ] || { not_ok "$name" "attributes after protect: $OUTPUT (want $set)"; return; }
    fci unprotect "$path" --key 'C:\FciConnector\keys\issuer.key.pem'
    [ $RC = 0 ] && unchanged "$path" || { not_ok "$name" "unprotect: exit $RC: $OUTPUT"; return; }
    win "$HELPER" attrs "$path"
    [ "${OUTPUT//$'\r'/}" = "$set" ] || { not_ok "$name" "attributes after unprotect: $OUTPUT (want $set)"; return; }
    no_leftovers "$path" || { not_ok "$name" "files left beside it"; return; }
    ok "$name: protected and unprotected, attributes kept"
}
attrs_case "read-only file" R 'C:\Shares\Attributes\read-only.txt'
attrs_case "read-only hidden file" RH 'C:\Shares\Attributes\read-only hidden.txt'
attrs_case "hidden file" H 'C:\Shares\Attributes\hidden.txt'

ads='C:\Shares\Streams\classified.txt'
make_file "$ads" "$SENSITIVE"
win "$HELPER" stream-write "$ads:FsrmTest" "Confidentiality=High"
if [ $RC != 0 ] || [ -e "$(unix_path "$ads"):FsrmTest" ]; then
    # Wine keeps "name:stream" as a separate file, so there is no stream for ReplaceFileW to carry over.
    skip "alternate data stream kept across protect" "Wine has no alternate data streams (it stores name:stream as a file)"
else
    fci protect "$ads" --template $TEMPLATE_ID --always
    win "$HELPER" stream-read "$ads:FsrmTest"
    [ "$OUTPUT" = "Confidentiality=High" ] && ok "alternate data stream kept across protect" ||
        not_ok "alternate data stream kept across protect" "stream now: $OUTPUT"
fi

echo "== links and security (issue 13)"
# A junction below the task's root must be refused, not followed: protect a file "beneath" one, whose real home is
# outside the share; it must stay as it was.
make_file 'C:\Outside\secret.txt' "$SENSITIVE"
mkdir -p "$(unix_path 'C:\Shares\Links\inside')"
win "$HELPER" junction 'C:\Shares\Links\inside' 'C:\Outside'
if [ $RC = 20 ]; then
    skip "junction below the root is refused" "Wine cannot create junctions (${OUTPUT//$'\r'/}); the refusal of symbolic-link and junction reparse tags is proven by the unit test platform::winrules::tests::links_are_refused_other_reparse_points_are_not"
elif [ $RC != 0 ]; then
    not_ok "junction below the root is refused" "cannot make the junction: exit $RC: $OUTPUT"
else
    fci protect 'C:\Shares\Links\inside\secret.txt' --template $TEMPLATE_ID --always
    if [ $RC = 3 ] && [[ $OUTPUT == *junction* ]] && unchanged 'C:\Outside\secret.txt'; then
        ok "junction below the root is refused (exit 3), the file outside untouched"
    else
        not_ok "junction below the root is refused" "exit $RC: $OUTPUT"
    fi
fi
# Every folder from the root down is held open without delete sharing while a file in it is worked on, so none of
# them can be renamed or replaced (swapped for a junction) in the meantime: a large file keeps the run busy while
# wintest tries to rename a folder on the way, again and again, from the moment the file is held.
big='C:\Shares\Held\during the run\large.txt'
mkdir -p "$(dirname "$(unix_path "$big")")"
yes "$(cat "$SENSITIVE")" | head -c 100000000 >"$C/work/large.txt" || true
make_file "$big" "$C/work/large.txt"
write_line "$C/work/line.txt" "\"$FCI\" protect \"$big\" --template $TEMPLATE_ID --always"
win "$HELPER" rename-while 'C:\Shares\Held' "$big" 'C:\work\line.txt'
tries=$(echo "${OUTPUT//$'\r'/}" | grep -o 'refused [0-9]* renamed [0-9]*' || true)
if [ $RC = 0 ] && ! unchanged "$big" && [ -d "$(unix_path 'C:\Shares\Held')" ]; then
    ok "a folder on the way cannot be renamed while its file is protected ($tries)"
else
    not_ok "folder renamed while held" "exit $RC: $OUTPUT"
fi
rm -f "$C/work/large.txt" "$(orig_of "$big")"

# The temporary file is created with the original's owner, group and DACL. Wine 8 keeps no ACLs (it reports one
# made from the Unix mode), so this shows only that what Wine reports survives; the DACL copy itself needs Windows.
sd_path='C:\Shares\Security\owner and dacl.txt'
make_file "$sd_path" "$SENSITIVE"
win "$HELPER" sddl-get "$sd_path"
before=${OUTPUT//$'\r'/}
fci protect "$sd_path" --template $TEMPLATE_ID --always
protect_rc=$RC
win "$HELPER" sddl-get "$sd_path"
after=${OUTPUT//$'\r'/}
if [ $protect_rc = 0 ] && [ -n "$before" ] && [ "$before" = "$after" ] && ! unchanged "$sd_path"; then
    ok "owner, group and DACL as Wine reports them are the same after protect"
else
    not_ok "owner, group and DACL kept" "exit $protect_rc; before: $before; after: $after"
fi

echo "== exit codes as a parent process sees them (cmd /c exitcode.cmd)"
# $1 the expected code, $2 what the case is, the rest the fci-connector arguments.
code_case() {
    local want=$1 name=$2
    shift 2
    win cmd /c 'C:\FciConnector\exitcode.cmd' "$FCI" "$@"
    local seen
    seen=$(echo "$OUTPUT" | tr -d '\r' | sed -n 's/^exitcode=//p')
    [ "$seen" = "$want" ] && ok "exit $want: $name" || not_ok "exit $want: $name" "cmd saw '${seen}': $OUTPUT"
}
codes='C:\Shares\Codes'
make_file "$codes\\plain.txt" "$SENSITIVE"
code_case 0 "protected" protect "$codes\\plain.txt" --template $TEMPLATE_ID --always
code_case 0 "status of a protected file" status "$codes\\plain.txt"
code_case 2 "template id that is not a GUID" protect "$codes\\plain.txt" --template not-a-guid
code_case 2 "unknown option" protect "$codes\\plain.txt" --frobnicate
code_case 3 "file not found" protect "$codes\\no such file.txt" --template $TEMPLATE_ID --always
code_case 3 "a folder" protect "$codes" --template $TEMPLATE_ID --always
make_file "$codes\\held.txt" "$SENSITIVE"
write_line "$C/work/held.txt" "cmd /c C:\\FciConnector\\exitcode.cmd \"$FCI\" protect \"$codes\\held.txt\" --template $TEMPLATE_ID --always"
win "$HELPER" hold "$codes\\held.txt" none 'C:\work\held.txt'
[[ $OUTPUT == *exitcode=4* ]] && ok "exit 4: file held open elsewhere" || not_ok "exit 4: file held open elsewhere" "$OUTPUT"
make_file "$codes\\other template.txt" "$SENSITIVE"
code_case 5 "unknown template" protect "$codes\\other template.txt" --template 0b9e5a3c-1111-4222-8333-944455556666 --always
code_case 5 "key that is not a recipient" unprotect "$codes\\plain.txt" --key 'C:\FciConnector\keys\stranger.key.pem'
printf 'rules = \r\n' >"$C/work/bad config.toml"
code_case 6 "invalid config file" --config 'C:\work\bad config.toml' protect "$codes\\other template.txt" \
    --template $TEMPLATE_ID --always
make_file "$codes\\tampered.txt" "$SENSITIVE"
fci protect "$codes\\tampered.txt" --template $TEMPLATE_ID --always
u=$(unix_path "$codes\\tampered.txt")
size=$(stat -c %s "$u")
printf '\x5a' | dd of="$u" bs=1 seek=$((size - 20)) conv=notrunc status=none
code_case 7 "protected file that fails its integrity check" unprotect "$codes\\tampered.txt" \
    --key 'C:\FciConnector\keys\issuer.key.pem'
skip "exit 1" "a bug; no input reaches it on purpose"
skip "exit 8" "needs a full disk or an I/O error, which Wine cannot simulate here"

clean="$codes\\menu.txt"
make_file "$clean" "$CLEAN"
code_case 0 "no protection policy line matched" protect "$clean" --template $TEMPLATE_ID
code_case 10 "no protection policy line matched, --strict-exit" protect "$clean" --template $TEMPLATE_ID --strict-exit
code_case 11 "already protected, --strict-exit" protect "$codes\\plain.txt" --template $TEMPLATE_ID --strict-exit
make_file "$codes\\setup.exe" "$SENSITIVE"
code_case 13 "excluded type, --strict-exit" protect "$codes\\setup.exe" --template $TEMPLATE_ID --strict-exit
u=$(unix_path "$codes\\sealed elsewhere.pdf")
cp "$ROOT/tests/fixtures/detect/encrypted.pdf" "$u"
cp "$u" "$(orig_of "$codes\\sealed elsewhere.pdf")"
code_case 12 "protected by another product, --strict-exit" protect "$codes\\sealed elsewhere.pdf" \
    --template $TEMPLATE_ID --strict-exit
unchanged "$codes\\sealed elsewhere.pdf" || not_ok "exit 12" "the other product's file was changed"

echo "== event log"
# Wine's ReportEventW is a stub that prints error events on its "eventlog" debug channel: that shows the call was
# made, with the message, and the run still ends with the failure's own code.
make_file "$codes\\event.txt" "$SENSITIVE"
WINEDEBUG=err+eventlog fci protect "$codes\\event.txt" --template 0b9e5a3c-1111-4222-8333-944455556666 --always
if [ $RC = 5 ] && [[ $OUTPUT == *eventlog* ]] && [[ $OUTPUT == *0b9e5a3c* ]] && unchanged "$codes\\event.txt"; then
    ok "a failure goes to the event log and still ends with its own code (5)"
else
    not_ok "event log" "exit $RC: $OUTPUT"
fi

echo "== the FSRM argument line (fci-scripts/fsrm-command-line.txt), expanded as FSRM does"
# FSRM replaces [Source File Path] and [Source File Owner Email] as plain text, without quoting, and starts the
# command line with CreateProcess: wintest run does the same. Each case has its own folder with decoys: files named
# like the pieces a wrong parse would find. Only the named file may change.
fsrm_line() {
    # $1 the file path, $2 the owner (or the unexpanded macro), $3 extra switches, $4 the order: installer (the line of
    # fsrm-command-line.txt, -File last, extra switches before -OwnerMail as Install-FciConnector.ps1 puts -Always) or microsoft
    # (RMS-Protect-FCI.ps1's order, -File first, extra switches after it, as a migrated task has them); prints the
    # whole command line.
    python3 - "$ROOT/fci-scripts/fsrm-command-line.txt" "$FCI" "$TEMPLATE_ID" "$1" "$2" "$3" "${4:-installer}" <<'PY'
import sys
spec, exe, template, path, owner, extra, order = sys.argv[1:]
extra = extra.strip()
if order == "microsoft":
    line = "-File '[Source File Path]' -TemplateID {TemplateID} -OwnerMail '[Source File Owner Email]'"
    line = f"{line} {extra}" if extra else line
else:
    line = next(l.strip() for l in open(spec, encoding="utf-8") if l.strip() and not l.lstrip().startswith("#"))
    line = line.replace(" -OwnerMail ", f" {extra} -OwnerMail ", 1) if extra else line
line = line.replace("{TemplateID}", template)
line = line.replace("[Source File Path]", path).replace("[Source File Owner Email]", owner)
print(f'"{exe}" {line}')
PY
}
make_docx() {
    # A minimal .docx (stored, not deflated) whose one paragraph per line holds the sensitive text.
    python3 - "$1" "$SENSITIVE" <<'PY'
import sys, zipfile
from xml.sax.saxutils import escape
out, source = sys.argv[1:]
paras = "".join(f"<w:p><w:r><w:t>{escape(l)}</w:t></w:r></w:p>" for l in open(source, encoding="utf-8").read().splitlines())
w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
    z.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
    z.writestr("_rels/.rels", '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')
    z.writestr("word/document.xml", f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{w}"><w:body>{paras}</w:body></w:document>')
PY
}
fsrm_case() {
    # $1 case folder, $2 file name, $3 owner text in the line, $4 the owner status must show ("" for none),
    # $5 extra switches, $6 content: sensitive, clean or docx, $7 want: protected, unchanged or logged (exit 0 and the
    # last log line names exactly this file), $8 the order of the line: installer (default) or microsoft
    local dir="C:\\Shares\\FSRM\\$1" name=$2 owner=$3 want_owner=$4 extra=$5 content=$6 want=$7 order=${8:-installer}
    local path="$dir\\$name" decoys=() d
    local src=$SENSITIVE
    [ "$content" = clean ] && src=$CLEAN
    make_file "$path" "$src"
    [ "$content" = docx ] && make_docx "$(unix_path "$path")" && cp "$(unix_path "$path")" "$(orig_of "$path")"
    # Decoys: the name with runs of spaces collapsed, and each space- or quote-separated piece of it.
    local collapsed
    collapsed=$(echo "$name" | tr -s ' ')
    [ "$collapsed" != "$name" ] && decoys+=("$collapsed")
    local pieces=()
    mapfile -t pieces < <(printf '%s\n' "$name" | tr "' " '\n\n')
    for d in "${pieces[@]}"; do
        [ -n "$d" ] && [ "$d" != "$name" ] && decoys+=("$d")
    done
    for d in "${decoys[@]}"; do make_file "$dir\\$d" "$SENSITIVE"; done
    fsrm_line "$path" "$owner" "$extra" "$order" >"$C/work/fsrm.txt"
    local line
    line=$(cat "$C/work/fsrm.txt")
    win "$HELPER" run 'C:\work\fsrm.txt'
    local label="$1: $name ($order order)"
    [ $RC = 0 ] || { not_ok "$label" "exit $RC for: $line: $OUTPUT"; return; }
    for d in "${decoys[@]}"; do
        unchanged "$dir\\$d" || { not_ok "$label" "the decoy '$d' changed, for: $line"; return; }
    done
    if [ "$want" = logged ]; then
        python3 - "$APP/logs/fci-connector.log" "$path" <<'PY' || { not_ok "$label" "the last log line is not about $path"; return; }
import json, sys
last = [l for l in open(sys.argv[1], encoding="utf-8") if l.strip()][-1]
record = json.loads(last)
sys.exit(0 if record["path"] == sys.argv[2] and record["exit_code"] == 0 else 1)
PY
    elif [ "$want" = unchanged ]; then
        unchanged "$path" || { not_ok "$label" "changed, but it should have been left alone: $line"; return; }
    else
        is_protected "$path" || { not_ok "$label" "not protected by: $line: $OUTPUT"; return; }
        local got_owner
        got_owner=$(echo "$OUTPUT" | sed -n 's/.*"owner":"\([^"]*\)".*/\1/p')
        [ "$got_owner" = "$want_owner" ] || { not_ok "$label" "owner '$got_owner', want '$want_owner'"; return; }
    fi
    no_leftovers "$path" || { not_ok "$label" "files left beside it"; return; }
    ok "$label ($want)"
}
OWNER=anna@contoso.com
fsrm_case spaces "Q3 report.txt" $OWNER $OWNER "" sensitive protected
fsrm_case "two spaces" "Q3  report  final.txt" $OWNER $OWNER "" sensitive protected
fsrm_case quote "O'Brien's notes.txt" $OWNER $OWNER "" sensitive protected
# Whether this document is protected is for the extractor and the rules to say; the case is that the invocation
# looked at exactly this file: its log line names it, and no decoy changed.
fsrm_case "quote, document" "O'Brien.docx" $OWNER $OWNER "" docx logged
fsrm_case "non-ASCII" "Müller Straße – 日本語.txt" $OWNER $OWNER "" sensitive protected
fsrm_case ampersand "R&D plans.txt" $OWNER $OWNER "" sensitive protected
fsrm_case percent "100% sure %USERNAME%.txt" $OWNER $OWNER "" sensitive protected
fsrm_case brackets "[x] draft.txt" $OWNER $OWNER "" sensitive protected
fsrm_case "owner unresolved" "owned by SYSTEM.txt" "[Source File Owner Email]" "" "" sensitive protected
fsrm_case "no protection policy line matched" "menu of the week.txt" $OWNER "" "" clean unchanged
fsrm_case "FsrmRules mode (-Always)" "menu, chosen by FSRM.txt" $OWNER $OWNER " -Always" clean protected
fsrm_case "Microsoft's order" "Q3 report.txt" $OWNER $OWNER "" sensitive protected microsoft
fsrm_case "Microsoft's order, -Always after it" "menu, chosen by FSRM.txt" $OWNER $OWNER " -Always" clean protected microsoft
# File names made to look like switches (issue 13): each protects exactly the named file, classified (a clean one
# stays as it is: -Always in its name is not read), and the files a wrong reading would take (decoy.txt, copy.txt,
# .txt, x, Payroll, Salaries, ...: the pieces of the name) stay as they are.
for order in installer microsoft; do
    fsrm_case "hostile $order 1" "x -Always -File 'decoy.txt" $OWNER $OWNER "" sensitive protected $order
    fsrm_case "hostile $order 1, clean" "x -Always -File 'decoy.txt" $OWNER "" "" clean unchanged $order
    fsrm_case "hostile $order 2" "Payroll -path copy.txt" $OWNER $OWNER "" sensitive protected $order
    fsrm_case "hostile $order 3" "Salaries -Dry-Run -Json .txt" $OWNER $OWNER "" sensitive protected $order
done

echo "== the invocation log beside the executable"
log=$APP/logs/fci-connector.log
if [ -f "$log" ] && python3 - "$log" <<'PY'
import json, sys
records = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
want = {r["path"].split("\\")[-1]: r for r in records}
ok = (want.get("Q3 report.txt", {}).get("decision") == "protected"
      and want["Q3 report.txt"].get("exit_code") == 0
      and want.get("menu of the week.txt", {}).get("exit_code") == 0)
sys.exit(0 if ok else 1)
PY
then
    ok "logs\\fci-connector.log has a line per FSRM invocation, with the decision and exit code"
else
    not_ok "invocation log" "$(tail -3 "$log" 2>&1)"
fi

echo "== the invocation log: nothing on stderr when an invocation succeeds (issue 20)"
# Every invocation used to warn "cannot write the log in …: Lock violation. (os error 33)" although its line was
# written: std's File::unlock unlocks twice, and Wine answers the second with ERROR_LOCK_VIOLATION. The log's lock is
# now released by closing its file. Two invocations: the first creates the lock file, the second finds it.
quiet='C:\Shares\Log\quiet.txt'
make_file "$quiet" "$SENSITIVE"
lines_before=$(wc -l <"$APP/logs/fci-connector.log" 2>/dev/null || echo 0)
quiet_case() {
    local name=$1 err
    shift
    set +e
    err=$("$WINE" "$FCI" "$@" 2>&1 >/dev/null)
    RC=$?
    set -e
    [ $RC = 0 ] && [ -z "$err" ] && ok "$name: exit 0, stderr empty" || not_ok "$name" "exit $RC, stderr: $err"
}
quiet_case "protect" protect "$quiet" --template $TEMPLATE_ID --always
quiet_case "protect again (already protected)" protect "$quiet" --template $TEMPLATE_ID --always
lines_after=$(wc -l <"$APP/logs/fci-connector.log" 2>/dev/null || echo 0)
[ $((lines_after - lines_before)) = 2 ] && ok "both invocations logged" ||
    not_ok "both invocations logged" "$((lines_after - lines_before)) new log lines (want 2)"

echo "== a path in double and single quotes (a wrapper's -File \"'\$path'\"; issue 20)"
# The program's command line holds "'C:\Shares\Quoted\Q3 report.txt'": Windows removes the double quotes, the
# single ones stay in the argument; fci-connector removes both. Once as Wine quotes an argument with a space, once
# with the double quotes written on the line (wintest run: CreateProcessW with the literal line).
quoted='C:\Shares\Quoted\Q3 report.txt'
make_file "$quoted" "$SENSITIVE"
fci protect "'$quoted'" --template $TEMPLATE_ID --always
if [ $RC = 0 ] && is_protected "$quoted" && no_leftovers "$quoted"; then
    ok "protect '<path>': the path without its quotes"
else
    not_ok "protect '<path>'" "exit $RC: $OUTPUT"
fi
quoted2='C:\Shares\Quoted\Q4 report.txt'
make_file "$quoted2" "$SENSITIVE"
write_line "$C/work/quoted.txt" "\"$FCI\" protect \"'$quoted2'\" --template $TEMPLATE_ID --always"
win "$HELPER" run 'C:\work\quoted.txt'
if [ $RC = 0 ] && is_protected "$quoted2"; then
    ok "protect \"'<path>'\" on the raw command line: the path without both pairs of quotes"
else
    not_ok "protect \"'<path>'\" on the raw command line" "exit $RC: $OUTPUT"
fi

echo "== no temporary files left anywhere"
left=$(find "$C/Shares" \( -name '.~fci-*' -o -name 'rfc*.tmp' \) | head -5)
[ -z "$left" ] && ok "no .~fci-*.tmp or rfc*.tmp under C:\\Shares" || not_ok "temporary files left" "$left"

echo "== program name on the raw command line (launcher.exe: CreateProcessW with the literal line)"
# FSRM's Command is C:\Program Files\FciConnector\fci-connector.exe and whether the task runner quotes it is not
# documented, so the line may start with the path quoted or not. launcher.exe gives CreateProcessW the literal line,
# with the program as lpApplicationName ("given": the line reaches GetCommandLineW as written, on Windows and Wine)
# and without ("searched": the program is found from the line; Wine may quote it). The drop-in's line
# (RMS-Protect-FCI.ps1's $LineForm) is run the same way.
PF="$C/Program Files/FciConnector"
mkdir -p "$PF"
cp "$EXE" "$PF/"
cp -r "$APP/templates" "$APP/classification-rules" "$PF/"
SPACED='C:\Program Files\FciConnector\fci-connector.exe'
launcher_case() {
    # $1 quoted|unquoted, $2 given|searched, $3 line|drop-in
    local quoting=$1 app=$2 which=$3 dir="C:\\Shares\\Launcher\\$1 $2 $3" args prog
    local path="$dir\\Q3 report (final).txt"
    make_file "$path" "$CLEAN"
    if [ "$which" = drop-in ]; then
        # The line RMS-Protect-FCI.ps1 starts fci-connector with: $LineForm, -Always after protect, values filled in.
        args=$(python3 - "$ROOT/fci-scripts/RMS-Protect-FCI.ps1" "$TEMPLATE_ID" "$path" "$OWNER" <<'PY'
import re, sys
script, template, path, owner = sys.argv[1:]
form = next(re.match(r"\$LineForm = '(.*)'\s*$", l).group(1) for l in open(script, encoding="utf-8") if l.startswith("$LineForm = "))
form = form.replace("protect ", "protect -Always ", 1)
print(form.replace("{TemplateID}", template).replace("[Source File Owner Email]", owner).replace("[Source File Path]", path))
PY
        )
    else
        # The installer's FsrmRules line (-Always before -OwnerMail): a clean file is protected only if the switches
        # were read.
        args=$(fsrm_line "$path" "$OWNER" "-Always" installer)
        args=${args#"\"$FCI\" "}
    fi
    prog=$SPACED
    [ "$quoting" = quoted ] && prog="\"$SPACED\""
    write_line "$C/work/launch.txt" "$prog $args"
    local given=-
    [ "$app" = given ] && given=$SPACED
    win 'C:\FciConnector\launcher.exe' "$given" 'C:\work\launch.txt'
    local label="program path with a space, $quoting, lpApplicationName $app, $which"
    if [ $RC = 0 ] && is_protected "$path"; then
        ok "$label"
    else
        not_ok "$label" "exit $RC for: $prog $args: $OUTPUT"
    fi
}
for quoting in quoted unquoted; do
    for app in given searched; do
        launcher_case $quoting $app line
    done
done
launcher_case quoted given drop-in
launcher_case unquoted given drop-in

# The reader against the Linux licensing service, and the licensing service as a Windows service.
# shellcheck source=tests/windows/licensing.sh
. "$HERE/licensing.sh"
summary
