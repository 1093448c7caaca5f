# The licensing cases of tests/windows/run.sh (sourced by it, after the Wine prefix is made; uses its helpers win,
# fci, ok, not_ok, skip, unix_path and its variables ROOT, OUT, C, APP, FCI, WINE).
#
# 1. The reader under Wine: the Windows exe protects a file with a template whose licensing URL is the Linux
#    `serve` (built natively, on loopback, with a deployment made here: `keys generate`, `templates create
#    --license-server`, an openssl CA, server certificate and user certificates), then `open --output` signs in with
#    a client certificate and must write the original bytes; the use license is kept in the offline cache, whose key
#    DPAPI seals (`licenses cache list` says so; the key file is not the raw key), and opens the file again once the
#    service is stopped; a user the template does not grant is refused (exit 15) and no plaintext is written.
# 2. The Windows service under Wine: the exe registered with Wine's service manager (sc create) as
#    `serve <config> --windows-service`, started (sc start), queried until RUNNING, asked over TLS for /healthz,
#    stopped (sc stop) until STOPPED, and its log must show the graceful shutdown; a service whose config is broken
#    stops with serve's exit code as its service-specific exit code; `--windows-service` from a console is refused.

LINUX_FCI=$ROOT/target/debug/fci-connector
LIC=$OUT/licensing-test
LIC_TEMPLATE=3f0e7c1a-5b2d-4c8e-9a61-2d4b8f0c7e15
LIC_WIN='C:\Licensing'
LIC_C=$C/Licensing

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Poll until $1 (a command) succeeds, at most $2 tries a tenth of a second apart (a bound, not a timing).
poll() {
    local i
    for ((i = 0; i < $2; i++)); do
        if eval "$1"; then return 0; fi
        sleep 0.1
    done
    return 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A test PKI with openssl: P-256 keys (PKCS#8), a server CA and a server certificate for 127.0.0.1 and localhost,
# a users CA and user certificates naming an e-mail address in their SAN.
make_pki() {
    local d=$1/tls
    mkdir -p "$d"
    (
        cd "$d"
        key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null && chmod 600 "$1"; }
        ca() {
            key "$1.key"
            openssl req -x509 -new -key "$1.key" -subj "/CN=$2" -days 30 -out "$1.pem" \
                -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
        }
        leaf() {
            # $1 name, $2 CA, $3 CN, $4 SAN, $5 extended key usage
            key "$1.key"
            openssl req -new -key "$1.key" -subj "/CN=$3" -out "$1.csr" 2>/dev/null
            printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectAltName=%s\n' \
                "$5" "$4" >"$1.ext"
            openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 30 -extfile "$1.ext" \
                -out "$1.pem" 2>/dev/null
        }
        ca server-ca "Test Server CA"
        ca users-ca "Test Users CA"
        leaf server server-ca localhost "IP:127.0.0.1,DNS:localhost" serverAuth
        leaf finance users-ca finance@contoso.com "email:finance@contoso.com" clientAuth
        leaf stranger users-ca stranger@contoso.com "email:stranger@contoso.com" clientAuth
    )
}

# A service config in $1 listening on $2, the store and everything else beside it.
write_service_config() {
    cat >"$1/licensing.toml" <<EOF
listen = "127.0.0.1:$2"
tls_cert = "tls/server.pem"
tls_key = "tls/server.key"
templates = "templates"
admins = ["secadmin@contoso.com"]
signing_key = "keys/signing.key.pem"
audit_retention_days = 365

[[issuer_keys]]
path = "keys/issuer.key.pem"

[store]
url = "sqlite://licensing.db"

[limits]
requests_per_minute = 0

[auth.client_certs]
ca_file = "tls/users-ca.pem"
EOF
}

echo "== licensing: the Windows reader against the Linux service"
rm -rf "$LIC" "$LIC_C"
mkdir -p "$LIC/keys" "$LIC/templates" "$LIC_C"
LIC_PORT=$(free_port)
LIC_URL="https://127.0.0.1:$LIC_PORT/"
make_pki "$LIC"
"$LINUX_FCI" keys generate --name issuer --bits 2048 --out "$LIC/keys" >/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$LIC/keys/signing.key.pem" 2>/dev/null
chmod 600 "$LIC/keys/signing.key.pem"
"$LINUX_FCI" --templates "$LIC/templates" templates create --id $LIC_TEMPLATE --name "Contoso - Licensed" \
    --key "$LIC/keys/issuer.pub.pem" --grant "finance@contoso.com=VIEW,EDIT" --offline-days 7 \
    --license-server "$LIC_URL" >/dev/null
write_service_config "$LIC" "$LIC_PORT"
"$LINUX_FCI" serve "$LIC/licensing.toml" >"$LIC/serve.out" 2>"$LIC/serve.log" &
LIC_PID=$!
stop_linux_service() { kill "$LIC_PID" 2>/dev/null && wait "$LIC_PID" 2>/dev/null; }

if ! poll "port_open $LIC_PORT" 300; then
    not_ok "Linux serve starts" "it does not accept on $LIC_PORT: $(tail -5 "$LIC/serve.log")"
else
    # The client's side: the template store (for protect), the users' certificates, the server CA, reader.toml.
    cp -r "$LIC/templates" "$LIC_C/templates"
    cp "$LIC/tls/server-ca.pem" "$LIC/tls/finance.pem" "$LIC/tls/finance.key" "$LIC/tls/stranger.pem" \
        "$LIC/tls/stranger.key" "$LIC_C/"
    printf 'trusted_servers = ["%s"]\r\n' "$LIC_URL" >"$LIC_C/reader.toml"
    cp "$SENSITIVE" "$LIC_C/report.txt"
    fci --templates "$LIC_WIN\\templates" protect "$LIC_WIN\\report.txt" --template $LIC_TEMPLATE --always \
        --owner anna@contoso.com
    if [ $RC != 0 ]; then
        not_ok "protect with a licensing URL" "exit $RC: $OUTPUT"
    else
        reader=(--reader-config "$LIC_WIN\\reader.toml" --ca-file "$LIC_WIN\\server-ca.pem")
        # First (a refusal discards the cached use license of that file: all the certificates here are one Windows
        # user, so it would discard the granted user's).
        fci open "$LIC_WIN\\report.txt" --output "$LIC_WIN\\report.stranger.txt" "${reader[@]}" \
            --client-cert "$LIC_WIN\\stranger.pem" --client-key "$LIC_WIN\\stranger.key"
        if [ $RC = 15 ] && [ ! -e "$LIC_C/report.stranger.txt" ]; then
            ok "open by a user the template does not grant: exit 15, nothing written"
        else
            not_ok "open by a user not granted" "exit $RC (want 15), output file: $(ls "$LIC_C" | grep -c stranger.txt): $OUTPUT"
        fi
        fci open "$LIC_WIN\\report.txt" --output "$LIC_WIN\\report.opened.txt" "${reader[@]}" \
            --client-cert "$LIC_WIN\\finance.pem" --client-key "$LIC_WIN\\finance.key"
        if [ $RC = 0 ] && cmp -s "$LIC_C/report.opened.txt" "$SENSITIVE"; then
            ok "open --output through the Linux service (client certificate): the original bytes"
        else
            not_ok "open --output through the Linux service" "exit $RC: $OUTPUT"
        fi
        # The use license allows 7 days offline: it is cached, under a key file whose key DPAPI seals (so the
        # file is not the raw 32-byte key), and the cache says so.
        fci licenses cache list
        KEY_FILE=$(find "$C/users" -path '*/AppData/Local/FciConnector/licenses/cache.key' 2>/dev/null | head -1)
        KEY_SIZE=$(stat -c %s "$KEY_FILE" 2>/dev/null || echo none)
        if [ $RC = 0 ] && [[ $OUTPUT == *"sealed with Windows DPAPI"* ]] && [[ $OUTPUT == *"finance"* ]] \
            && [ "$KEY_SIZE" != none ] && [ "$KEY_SIZE" -gt 32 ]; then
            ok "the offline cache holds the use license, its key sealed with DPAPI (key file $KEY_SIZE bytes)"
        else
            not_ok "the offline cache under DPAPI" "exit $RC, key file size $KEY_SIZE: $OUTPUT"
        fi
    fi
fi
stop_linux_service
if [ -e "$LIC_C/report.opened.txt" ]; then
    # The service is gone: the cached use license opens the file (DPAPI unseals the cache key).
    fci open "$LIC_WIN\\report.txt" --output "$LIC_WIN\\report.offline.txt" "${reader[@]}" \
        --client-cert "$LIC_WIN\\finance.pem" --client-key "$LIC_WIN\\finance.key"
    if [ $RC = 0 ] && cmp -s "$LIC_C/report.offline.txt" "$SENSITIVE" && [[ $OUTPUT == *"offline cache"* ]]; then
        ok "open with the service stopped: from the DPAPI-sealed offline cache, the original bytes"
    else
        not_ok "open from the offline cache" "exit $RC: $OUTPUT"
    fi
fi

echo "== licensing: the Windows service under Wine's service manager"
SVC_C=$LIC_C/svc
SVC_WIN="$LIC_WIN\\svc"
SVC_NAME=FciLicensing
mkdir -p "$SVC_C"
cp -r "$LIC/keys" "$LIC/templates" "$LIC/tls" "$SVC_C/"
chmod 600 "$SVC_C"/keys/*.key.pem "$SVC_C"/tls/*.key
SVC_PORT=$(free_port)
write_service_config "$SVC_C" "$SVC_PORT"
sc() { win sc "$@"; }
svc_state() { sc query "$SVC_NAME" && [[ $OUTPUT == *"$1"* ]]; }

# Not started by the service manager: refused with a clear message.
fci serve "$SVC_WIN\\licensing.toml" --windows-service
if [ $RC = 2 ] && [[ $OUTPUT == *"Service Control Manager"* ]]; then
    ok "serve --windows-service from a console: exit 2, says the SCM starts it"
else
    not_ok "serve --windows-service from a console" "exit $RC (want 2): $OUTPUT"
fi

# Wine ends its service manager and every service once the last ordinary Wine process exits (each `wine` call here
# is one): an idle `cmd /c pause`, reading from a FIFO held open until the end of the section, keeps them alive.
rm -f "$OUT/keepalive"
mkfifo "$OUT/keepalive"
"$WINE" cmd /c pause <"$OUT/keepalive" >/dev/null 2>&1 &
KEEPALIVE=$!
exec 7>"$OUT/keepalive"
# The keepalive's Wine must be the one that starts the wineserver and the service manager: started by a command
# below whose output is captured, they would inherit the capture's pipe and it would never end (a hang, not a fail).
for _ in $(seq 200); do
    pgrep -f 'system32.services\.exe' >/dev/null && break
    sleep 0.1
done
sc create "$SVC_NAME" binPath= "\"$FCI\" serve \"$SVC_WIN\\licensing.toml\" --windows-service"
if [ $RC != 0 ]; then
    not_ok "sc create" "exit $RC: $OUTPUT"
else
    ok "sc create $SVC_NAME (binPath: serve <config> --windows-service)"
    sc failure "$SVC_NAME" reset= 86400 actions= restart/5000/restart/5000/restart/60000
    if [ $RC = 0 ]; then
        ok "sc failure: restart policy accepted"
    else
        skip "sc failure (the installer's restart policy)" "Wine's sc.exe: exit $RC: ${OUTPUT//$'\r'/}"
    fi
    sc start "$SVC_NAME"
    if ! poll "svc_state RUNNING" 600; then
        not_ok "sc start: RUNNING" "sc start exit $RC; state: ${OUTPUT//$'\r'/}; log: $(tail -3 "$SVC_C/licensing.log" 2>&1)"
    else
        ok "sc start: the service reports RUNNING (after StartPending)"
        if curl -fsS --cacert "$SVC_C/tls/server-ca.pem" "https://127.0.0.1:$SVC_PORT/healthz" >/dev/null 2>&1; then
            ok "the running service answers /healthz over TLS"
        else
            not_ok "the running service answers /healthz" "$(curl -sS --cacert "$SVC_C/tls/server-ca.pem" "https://127.0.0.1:$SVC_PORT/healthz" 2>&1)"
        fi
        sc stop "$SVC_NAME"
        if poll "svc_state STOPPED" 600 && grep -q '"stopped"' "$SVC_C/licensing.log" &&
            grep -q 'finishing requests in flight' "$SVC_C/licensing.log"; then
            ok "sc stop: STOPPED after the graceful shutdown (the log shows it)"
        else
            not_ok "sc stop" "state: ${OUTPUT//$'\r'/}; log: $(tail -3 "$SVC_C/licensing.log" 2>&1)"
        fi
    fi
    sc delete "$SVC_NAME"
    [ $RC = 0 ] && ok "sc delete" || not_ok "sc delete" "exit $RC: $OUTPUT"
    # A broken config: the service stops, with serve's exit code (6) as its service-specific exit code, and says why
    # in its log. (A second service: Wine's sc.exe has no "config".)
    printf 'listen = \r\n' >"$SVC_C/broken.toml"
    sc create "${SVC_NAME}Broken" binPath= "\"$FCI\" serve \"$SVC_WIN\\broken.toml\" --windows-service"
    sc start "${SVC_NAME}Broken"
    if poll "sc query ${SVC_NAME}Broken && [[ \$OUTPUT == *STOPPED* ]] && [ -s \"$SVC_C/broken.log\" ]" 600 &&
        grep -q 'broken.toml' "$SVC_C/broken.log"; then
        code=$(echo "${OUTPUT//$'\r'/}" | sed -n 's/.*SERVICE_EXIT_CODE *: *\([0-9]*\).*/\1/p')
        if [ "$code" = 6 ]; then
            ok "a broken config: STOPPED, service-specific exit code 6, the log names the file"
        else
            not_ok "a broken config" "service exit code '$code' (want 6): ${OUTPUT//$'\r'/}"
        fi
    else
        not_ok "a broken config stops the service" "${OUTPUT//$'\r'/}; log: $(tail -3 "$SVC_C/broken.log" 2>&1)"
    fi
    sc delete "${SVC_NAME}Broken"
fi
exec 7>&-
wait "$KEEPALIVE" 2>/dev/null || true
