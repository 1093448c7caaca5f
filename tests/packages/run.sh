#!/usr/bin/env bash
# The packages an admin installs (packaging/build.sh), checked as an admin meets them: the .deb's contents, then
# installed with dpkg, used, upgraded keeping an edited config, removed and purged; the MSI's tables, then installed
# under Wine in a fresh prefix, used (the Wine suite's basic case with the installed exe), upgraded in place and
# uninstalled keeping logs, templates and the config; the Windows zip's contents. Prints one line per case and a
# closing "N passed, N failed"; exits non-zero when a case failed.
#
#   bash tests/packages/run.sh                 build dist/ (packaging/build.sh), then run every case
#   bash tests/packages/run.sh --no-build      reuse dist/
#   bash tests/packages/run.sh --exe FILE      the Windows executable for packaging/build.sh
#
# Needs what packaging/build.sh needs, plus msitools (msiinfo), wine64 and MinGW-w64 (the Wine suite's ProcessPrng
# shim), unzip. Installing the .deb needs root and a machine without fci-connector: otherwise those cases say
# "skipped". The machine is left as it was: a trap purges the package and removes what the cases made.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

BUILD=1
EXE_ARGS=()
while [ $# -gt 0 ]; do
    case $1 in
    --no-build) BUILD=0; shift ;;
    --exe) EXE_ARGS=(--exe "$2"); shift 2 ;;
    *) echo "usage: bash tests/packages/run.sh [--no-build] [--exe FILE]" >&2; exit 2 ;;
    esac
done

VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
# The version upgraded to: the next patch (an MSI compares major.minor.build only).
IFS=. read -r MAJOR MINOR PATCH <<<"${VERSION%%[-+~]*}"
NEXT=$MAJOR.$MINOR.$((PATCH + 1))
DIST=$ROOT/dist
DEB=$DIST/fci-connector_${VERSION}_amd64.deb
MSI=$DIST/fci-connector-$VERSION-x86_64.msi
ZIP=$DIST/fci-connector-$VERSION-windows-x86_64.zip
UPGRADE_CODE=755F9B90-0EA0-4EA2-B115-B21B8FA8587A
TEMPLATE_ID=e6ee2481-26b9-45e5-b34a-f744eacd53b0
SENSITIVE=$ROOT/samples/share/HR/Employees/"employee 0417 review.txt"

WORK=$(mktemp -d /tmp/fci-packages.XXXXXX)
CLEANUPS=()
cleanup() {
    local c
    for c in "${CLEANUPS[@]}"; do eval "$c" || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

if [ $BUILD = 1 ]; then
    bash packaging/build.sh "${EXE_ARGS[@]}"
fi
echo "== the version upgraded to: $NEXT"
bash packaging/build.sh "${EXE_ARGS[@]}" --version "$NEXT" --out "$WORK/next" >/dev/null
NEXT_DEB=$WORK/next/fci-connector_${NEXT}_amd64.deb
NEXT_MSI=$WORK/next/fci-connector-$NEXT-x86_64.msi
for f in "$DEB" "$MSI" "$ZIP" "$NEXT_DEB" "$NEXT_MSI"; do
    [ -f "$f" ] || { echo "no $f: run packaging/build.sh" >&2; exit 1; }
done

# shellcheck source=tests/cases.sh
. "$ROOT/tests/cases.sh"
# check NAME COMMAND...: ok when the command succeeds, else FAILED with its output.
check() {
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "$out"; fi
}
# Run a command; its exit code in $RC, output in $OUTPUT.
run() {
    set +e
    OUTPUT=$("$@" 2>&1)
    RC=$?
    set -e
}
# Every file of a repository folder, relative to it.
files_of() { (cd "$ROOT/$1" && find . -type f | sed 's|^\./||' | LC_ALL=C sort); }

# ---------------------------------------------------------------------------------------------------------------------
echo "== the .deb's contents (dpkg-deb)"
dpkg-deb -c "$DEB" | awk '{print $1, $2, $6}' | sed 's| \./| /|' >"$WORK/deb-contents"
deb_has() { # $1 mode string, $2 path
    grep -qxF -e "$1 0/0 $2" "$WORK/deb-contents" || { echo "no '$1 0/0 $2' in:"; cat "$WORK/deb-contents"; return 1; }
}
check "deb: name, version and architecture" \
    test "$(dpkg-deb -f "$DEB" Package Version Architecture | tr '\n' ' ')" = "Package: fci-connector Version: $VERSION Architecture: amd64 "
check "deb: /usr/bin/fci-connector, root's, 0755" deb_has -rwxr-xr-x /usr/bin/fci-connector
rules_in_deb() {
    local f
    deb_has drwxr-xr-x /usr/share/fci-connector/classification-rules/ || return 1
    for f in $(files_of classification-rules); do
        deb_has -rw-r--r-- "/usr/share/fci-connector/classification-rules/$f" || return 1
    done
}
check "deb: every default rule file under /usr/share/fci-connector/classification-rules, 0644" rules_in_deb
check "deb: /etc/fci-connector/fci-connector.toml, 0644" deb_has -rw-r--r-- /etc/fci-connector/fci-connector.toml
check "deb: the watch and licensing-service units" bash -c "grep -q ' /lib/systemd/system/fci-connector-watch.service\$' '$WORK/deb-contents' && grep -q ' /lib/systemd/system/fci-connector-serve.service\$' '$WORK/deb-contents'"
check "deb: docs in /usr/share/doc/fci-connector" bash -c "grep -q ' /usr/share/doc/fci-connector/README.md\$' '$WORK/deb-contents' && grep -q ' /usr/share/doc/fci-connector/docs/LINUX.md\$' '$WORK/deb-contents'"
# Trust: fci-connector refuses rules, templates and a config that others than root can change.
check "deb: everything root's, nothing writable by group or others" \
    bash -c "! awk '\$2 != \"0/0\" || substr(\$1,6,1) == \"w\" || substr(\$1,9,1) == \"w\"' '$WORK/deb-contents' | grep ."
check "deb: no private key" bash -c "! grep -q 'key\\.pem' '$WORK/deb-contents'"
dpkg-deb -e "$DEB" "$WORK/control"
check "deb: the config file is a conffile (kept on upgrade)" \
    test "$(cat "$WORK/control/conffiles")" = /etc/fci-connector/fci-connector.toml
dpkg-deb -x "$DEB" "$WORK/deb-root"
packaged_config() {
    python3 - "$WORK/deb-root/etc/fci-connector/fci-connector.toml" <<'PY'
import sys, tomllib
c = tomllib.load(open(sys.argv[1], "rb"))
want = {"rules": "/usr/share/fci-connector/classification-rules", "templates": "/etc/fci-connector/templates"}
got = {k: c.get(k) for k in want}
assert got == want, got
assert c["log"]["dir"] == "/var/log/fci-connector", c.get("log")
PY
}
check "deb: the config names the rules, the template store and the log folder" packaged_config
watch_unit() {
    local u=$WORK/deb-root/lib/systemd/system/fci-connector-watch.service
    grep -qx 'ExecStart=/usr/bin/fci-connector --config /etc/fci-connector/fci-connector.toml watch /srv/shares' "$u" &&
        grep -qx 'WantedBy=multi-user.target' "$u" &&
        ! grep -q 'systemctl enable\|deb-systemd-helper enable' "$WORK"/control/post* "$WORK/control/prerm"
}
check "deb: the watch unit runs /usr/bin/fci-connector with the config file, and is not enabled" watch_unit

# ---------------------------------------------------------------------------------------------------------------------
echo "== the .deb installed, upgraded, removed, purged (dpkg)"
deb_cases() {
    local bin=/usr/bin/fci-connector conf=/etc/fci-connector/fci-connector.toml
    # Left as we found it: the package purged, the template store and the logs the cases made removed.
    CLEANUPS+=("dpkg -P fci-connector >/dev/null 2>&1; rm -rf /etc/fci-connector /var/log/fci-connector")
    run dpkg -i "$DEB" </dev/null
    [ $RC = 0 ] || { not_ok "dpkg -i" "exit $RC: $OUTPUT"; return; }
    ok "dpkg -i $(basename "$DEB")"
    run "$bin" --version
    # The version first (the commit and target may follow it).
    [ $RC = 0 ] && [[ $OUTPUT == "fci-connector $VERSION"* ]] &&
        ok "fci-connector --version: $OUTPUT" || not_ok "fci-connector --version" "exit $RC: $OUTPUT"
    local modes
    modes=$(stat -c '%n %a %U:%G' /etc/fci-connector /etc/fci-connector/templates /var/log/fci-connector \
        /usr/share/fci-connector/classification-rules "$conf" 2>&1 | tr '\n' ';' || true)
    [ "$modes" = "/etc/fci-connector 755 root:root;/etc/fci-connector/templates 755 root:root;/var/log/fci-connector 750 root:root;/usr/share/fci-connector/classification-rules 755 root:root;$conf 644 root:root;" ] &&
        ok "installed folders root's: 0755, the log folder 0750" || not_ok "installed modes" "$modes"
    # No option: the rules come from the installed config in /etc/fci-connector, which must pass the trust check.
    run bash -c "cd / && $bin rules check"
    [ $RC = 0 ] && [[ $OUTPUT == /usr/share/fci-connector/classification-rules:* ]] && [[ $OUTPUT == *"0 error(s)"* ]] &&
        ok "rules check on the installed rules, from the installed config" || not_ok "rules check" "exit $RC: $OUTPUT"
    # The template store and the log folder the config names, used by a real protect.
    run "$bin" templates create --id $TEMPLATE_ID --name "Contoso - Confidential" \
        --key "$ROOT/tests/fixtures/keys/issuer.pub.pem" --recovery-key "$ROOT/tests/fixtures/keys/recovery.pub.pem" \
        --grant "finance@contoso.com=VIEW,EDIT,PRINT"
    [ $RC = 0 ] && [ -n "$(ls /etc/fci-connector/templates)" ] || { not_ok "templates create into /etc/fci-connector/templates" "exit $RC: $OUTPUT"; return; }
    mkdir -p "$WORK/share"
    cp "$SENSITIVE" "$WORK/share/review.txt"
    run "$bin" protect "$WORK/share/review.txt" --template $TEMPLATE_ID --always
    if [ $RC = 0 ] && ! cmp -s "$SENSITIVE" "$WORK/share/review.txt" && grep -q review.txt /var/log/fci-connector/fci-connector.log; then
        ok "protect with the installed config: the store in /etc/fci-connector/templates, the log in /var/log/fci-connector"
    else
        not_ok "protect with the installed config" "exit $RC: $OUTPUT"
    fi
    echo "# edited by tests/packages/run.sh" >>"$conf"
    cp "$conf" "$WORK/edited.toml"
    run dpkg -i "$NEXT_DEB" </dev/null
    if [ $RC = 0 ] && [ "$(dpkg-query -W -f '${Version}' fci-connector)" = "$NEXT" ] && cmp -s "$conf" "$WORK/edited.toml"; then
        ok "upgrade to $NEXT keeps the edited config"
    else
        not_ok "upgrade to $NEXT" "exit $RC: $OUTPUT; version $(dpkg-query -W -f '${Version}' fci-connector); $(diff "$conf" "$WORK/edited.toml" 2>&1)"
    fi
    run bash -c "cd / && $bin rules check"
    [ $RC = 0 ] && ok "rules check after the upgrade" || not_ok "rules check after the upgrade" "exit $RC: $OUTPUT"
    run dpkg -r fci-connector
    if [ $RC = 0 ] && [ ! -e $bin ] && [ ! -e /usr/share/fci-connector ] && [ -f "$conf" ] &&
        [ -n "$(ls /etc/fci-connector/templates)" ] && [ -s /var/log/fci-connector/fci-connector.log ]; then
        ok "dpkg -r: binary and rules gone; config, templates and logs kept"
    else
        not_ok "dpkg -r" "exit $RC: $OUTPUT; $(ls -la /usr/bin/fci-connector /etc/fci-connector /var/log/fci-connector 2>&1)"
    fi
    run dpkg -P fci-connector
    if [ $RC = 0 ] && [ ! -e "$conf" ] && ! dpkg-query -W fci-connector >/dev/null 2>&1 &&
        [ -n "$(ls /etc/fci-connector/templates)" ] && [ -s /var/log/fci-connector/fci-connector.log ]; then
        ok "dpkg -P: config gone; templates and logs (the admin's data) kept"
    else
        not_ok "dpkg -P" "exit $RC: $OUTPUT; $(ls -laR /etc/fci-connector 2>&1)"
    fi
}
if [ "$(id -u)" != 0 ]; then
    skip "deb install, upgrade, remove, purge" "not root (CI runs this as root on a throwaway machine)"
elif dpkg-query -W fci-connector >/dev/null 2>&1 || [ -e /etc/fci-connector ] || [ -e /var/log/fci-connector ]; then
    skip "deb install, upgrade, remove, purge" "fci-connector is (or was) installed on this machine: not touching it"
else
    deb_cases
fi

# ---------------------------------------------------------------------------------------------------------------------
echo "== the MSI's tables (msiinfo)"
for t in File Component Directory Registry Upgrade Property; do
    msiinfo export "$MSI" $t | tr -d '\r' >"$WORK/msi-$t"
done
msi_has_files() {
    local f
    grep -qP '^fci_connector\.exe\tExecutable\tfci-connector\.exe\t' "$WORK/msi-File" || { echo "no fci-connector.exe"; return 1; }
    for f in $(files_of fci-scripts) $(files_of classification-rules) README.md $(cd docs && ls ./*.md | sed 's|^\./||'); do
        cut -f3 "$WORK/msi-File" | grep -qxF "$f" || { echo "no $f in the File table"; return 1; }
    done
}
check "msi: fci-connector.exe, every fci-scripts and rule file, the docs" msi_has_files
check "msi: never installs templates, logs or fci-connector.toml (uninstall and upgrade leave them)" \
    bash -c "! cut -f3 '$WORK/msi-File' | grep -qiE '^fci-connector\.toml\$|\.log\$' && ! cut -f3 '$WORK/msi-Directory' | grep -qixE 'templates|logs'"
check "msi: installs to ProgramFiles64Folder\\FciConnector" grep -qP '^INSTALLDIR\tProgramFiles64Folder\tFciConnector$' "$WORK/msi-Directory"
check "msi: 64-bit components" bash -c "awk -F'\t' 'NR>3 && !(\$4 % 512 >= 256) {print; bad=1} END {exit bad}' '$WORK/msi-Component'"
check "msi: the event source FciConnector (HKLM, EventMessageFile)" \
    grep -qP '^\S+\t2\tSYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\FciConnector\\?\tEventMessageFile\t%SystemRoot%\\Microsoft\.NET\\Framework64\\v4\.0\.30319\\EventLogMessages\.dll\t' "$WORK/msi-Registry"
check "msi: a major upgrade of every older version with the stable UpgradeCode" \
    grep -qP "^\{$UPGRADE_CODE\}\t\t$VERSION\t\t\d+\t\tWIX_UPGRADE_DETECTED$" "$WORK/msi-Upgrade"
check "msi: ProductVersion $VERSION, UpgradeCode" bash -c "grep -qP '^ProductVersion\t$VERSION\$' '$WORK/msi-Property' && grep -qiP '^UpgradeCode\t\{$UPGRADE_CODE\}\$' '$WORK/msi-Property'"
PRODUCT=$(sed -n 's/^ProductCode\t//p' "$WORK/msi-Property")
NEXT_PRODUCT=$(msiinfo export "$NEXT_MSI" Property | tr -d '\r' | sed -n 's/^ProductCode\t//p')
check "msi: each build has its own ProductCode" bash -c "[ -n '$PRODUCT' ] && [ '$PRODUCT' != '$NEXT_PRODUCT' ]"

# ---------------------------------------------------------------------------------------------------------------------
echo "== the MSI under Wine (fresh prefix): install, use, upgrade, uninstall"
WINE=$(command -v wine64 || echo /usr/lib/wine/wine64)
msi_cases() {
    export WINEPREFIX=$WORK/wineprefix WINEDEBUG=-all LC_ALL=C.UTF-8
    export WINEDLLOVERRIDES="bcryptprimitives=n,b;mscoree=;mshtml=;winemenubuilder.exe=d"
    CLEANUPS+=("WINEPREFIX='$WINEPREFIX' '$(dirname "$WINE")/wineserver' -k")
    "$WINE" wineboot --init >/dev/null 2>&1
    local C=$WINEPREFIX/drive_c
    # Rust's std calls ProcessPrng (bcryptprimitives.dll) at start-up; Wine 8 does not have it (tests/windows/).
    x86_64-w64-mingw32-gcc -shared -O2 -o "$C/windows/system32/bcryptprimitives.dll" \
        "$ROOT/tests/windows/processprng-shim.c" -ladvapi32
    local PF="$C/Program Files/FciConnector" FCI='C:\Program Files\FciConnector\fci-connector.exe'
    local EVENT_KEY='HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\FciConnector'
    local UNINSTALL='HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall'
    mkdir -p "$C/work/keys" "$C/work/share"
    cp "$ROOT"/tests/fixtures/keys/{issuer,recovery}.*.pem "$C/work/keys/"
    cp "$MSI" "$C/work/a.msi"
    cp "$NEXT_MSI" "$C/work/b.msi"

    run "$WINE" msiexec /i 'C:\work\a.msi' /qn
    if [ $RC = 0 ] && [ -f "$PF/fci-connector.exe" ] && [ -f "$PF/fci-scripts/Install-FciConnector.ps1" ] &&
        [ -f "$PF/classification-rules/$(files_of classification-rules | head -1)" ] && [ -f "$PF/docs/README.md" ]; then
        ok "msiexec /i /qn: fci-connector.exe, fci-scripts, classification-rules and docs in C:\\Program Files\\FciConnector"
    else
        not_ok "msiexec /i" "exit $RC: $OUTPUT; $(ls -R "$C/Program Files" 2>&1 | head -20)"
        return
    fi
    run "$WINE" "$FCI" --version
    [ $RC = 0 ] && [[ ${OUTPUT//$'\r'/} == "fci-connector $VERSION"* ]] && ok "installed exe: --version: ${OUTPUT//$'\r'/}" ||
        not_ok "installed exe --version" "exit $RC: $OUTPUT"
    run "$WINE" reg query "$EVENT_KEY" /v EventMessageFile
    [ $RC = 0 ] && [[ $OUTPUT == *EventLogMessages.dll* ]] && ok "the event source is registered" ||
        not_ok "event source" "exit $RC: $OUTPUT"

    # The Wine suite's basic case (tests/windows/run.sh round_trip) with the installed exe and its default places:
    # the template store and the log beside it.
    basic_case() { # $1 label
        local file='C:\work\share\Q3 report (final).txt' u="$C/work/share/Q3 report (final).txt"
        cp "$SENSITIVE" "$u"
        run "$WINE" "$FCI" protect "$file" --template $TEMPLATE_ID --always
        [ $RC = 0 ] && ! cmp -s "$SENSITIVE" "$u" || { not_ok "$1" "protect: exit $RC: $OUTPUT"; return; }
        run "$WINE" "$FCI" status --format json "$file"
        [[ $OUTPUT == *'"state":"protected"'* ]] || { not_ok "$1" "status: exit $RC: $OUTPUT"; return; }
        run "$WINE" "$FCI" unprotect "$file" --key 'C:\work\keys\issuer.key.pem'
        [ $RC = 0 ] && cmp -s "$SENSITIVE" "$u" || { not_ok "$1" "unprotect: exit $RC: $OUTPUT"; return; }
        [ -s "$PF/logs/fci-connector.log" ] || { not_ok "$1" "no logs\\fci-connector.log beside the exe"; return; }
        ok "$1"
    }
    run "$WINE" "$FCI" --templates 'C:\Program Files\FciConnector\templates' templates create --id $TEMPLATE_ID \
        --name "Contoso - Confidential" --key 'C:\work\keys\issuer.pub.pem' \
        --recovery-key 'C:\work\keys\recovery.pub.pem' --grant "finance@contoso.com=VIEW,EDIT,PRINT"
    [ $RC = 0 ] || not_ok "templates create in the install folder" "exit $RC: $OUTPUT"
    basic_case "installed exe: protect, status, unprotect (the store and the log beside it)"
    # The admin's files in the install folder: the MSI does not own them.
    printf '# the admin'"'"'s config\r\n' >"$PF/fci-connector.toml"
    ls "$PF/templates" >"$WORK/templates-before"
    cp "$PF/fci-connector.toml" "$WORK/config-before"

    run "$WINE" msiexec /i 'C:\work\b.msi' /qn
    local old_gone=no new_there=no
    "$WINE" reg query "$UNINSTALL\\$PRODUCT" >/dev/null 2>&1 || old_gone=yes
    "$WINE" reg query "$UNINSTALL\\$NEXT_PRODUCT" >/dev/null 2>&1 && new_there=yes
    if [ $RC = 0 ] && [ $old_gone = yes ] && [ $new_there = yes ] && [ -f "$PF/fci-connector.exe" ] &&
        cmp -s "$PF/fci-connector.toml" "$WORK/config-before" && [ "$(ls "$PF/templates")" = "$(cat "$WORK/templates-before")" ] &&
        [ -s "$PF/logs/fci-connector.log" ]; then
        ok "major upgrade to $NEXT in place: $VERSION's product gone, config, templates and logs kept"
    else
        not_ok "major upgrade" "exit $RC: $OUTPUT; old product gone: $old_gone, new registered: $new_there; $(ls -A "$PF" 2>&1)"
    fi
    basic_case "after the upgrade: protect, status, unprotect with the same store"

    run "$WINE" msiexec /x 'C:\work\b.msi' /qn
    local left
    left=$(cd "$PF" 2>/dev/null && find . -type f | LC_ALL=C sort | tr '\n' ' ' || true)
    if [ $RC = 0 ] && [ ! -e "$PF/fci-connector.exe" ] && [ ! -e "$PF/fci-scripts" ] && [ ! -e "$PF/classification-rules" ] &&
        [ ! -e "$PF/docs" ] && cmp -s "$PF/fci-connector.toml" "$WORK/config-before" &&
        [ "$(ls "$PF/templates")" = "$(cat "$WORK/templates-before")" ] && [ -s "$PF/logs/fci-connector.log" ]; then
        ok "msiexec /x /qn: what it installed is gone; fci-connector.toml, templates and logs kept ($left)"
    else
        not_ok "msiexec /x" "exit $RC: $OUTPUT; left: $left"
    fi
    run "$WINE" reg query "$EVENT_KEY" /v EventMessageFile
    [ $RC != 0 ] && ok "uninstall removes the event source it registered" || not_ok "event source after uninstall" "$OUTPUT"
}
if [ ! -x "$WINE" ] || ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
    skip "MSI under Wine" "no wine64 or MinGW-w64 (bash tests/windows/run.sh installs them)"
else
    msi_cases
fi

# ---------------------------------------------------------------------------------------------------------------------
echo "== the Windows zip's contents"
TOP=fci-connector-$VERSION-windows-x86_64
unzip -Z1 "$ZIP" | LC_ALL=C sort >"$WORK/zip-contents"
zip_has() {
    local f
    for f in fci-connector.exe $(files_of fci-scripts | sed 's|^|fci-scripts/|') \
        $(files_of classification-rules | sed 's|^|classification-rules/|') docs/README.md \
        $(cd docs && ls ./*.md | sed 's|^\./|docs/|') samples/templates/contoso-confidential.xml \
        samples/templates/keys/demo-issuer.pub.pem samples/templates/keys/demo-recovery.pub.pem; do
        grep -qxF "$TOP/$f" "$WORK/zip-contents" || { echo "no $TOP/$f in the zip"; return 1; }
    done
}
check "zip: the exe, fci-scripts, the default rules, the docs, the sample template" zip_has
check "zip: everything in one folder, no private key, no templates\\ store beside the exe" \
    bash -c "! grep -v '^$TOP/' '$WORK/zip-contents' && ! grep -q 'key\\.pem\$' '$WORK/zip-contents' && ! grep -q '^$TOP/templates/' '$WORK/zip-contents'"
summary
