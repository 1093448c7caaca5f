#!/usr/bin/env bash
# Runs fci-connector's main job — protect every file of a share in place, then report — on a copy of the sample
# share, so the repository is never modified. Uses the demo template (samples/templates/, DEMO ONLY keys) and the
# default rules (classification-rules/): only files the protection policy matches are protected. Then the other
# half: a licensing service (`serve`) on loopback, a template naming it, and `open` by a person the template grants,
# signed in with a client certificate of a demo CA made here with openssl (docs/SERVICE.md).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
template=e6ee2481-26b9-45e5-b34a-f744eacd53b0

cargo build --release --quiet --manifest-path "$repo/Cargo.toml"
exe="$repo/target/release/fci-connector"
work=$(mktemp -d)
service_pid=""
trap '[ -n "$service_pid" ] && kill "$service_pid" 2>/dev/null; rm -rf "$work"' EXIT
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

echo
echo "== The licensing service on loopback: a person the template names opens a file with their own sign-in"
if ! command -v openssl >/dev/null; then
    echo "   (skipped: openssl makes the demo's test certificates; install it to see this part)"
    exit 0
fi
svc="$work/service"
mkdir -p "$svc/tls" "$svc/keys" "$svc/templates"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 18443)
url="https://127.0.0.1:$port/"
licensed=0c6a1f5e-3d2b-4e7a-9c18-5b4d2e6f7a90
(
    cd "$svc/tls"
    ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
    openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -days 2 -subj "/CN=fci-connector demo CA" 2>/dev/null
    openssl req "${ec[@]}" -keyout server.key -out server.csr -subj "/CN=127.0.0.1" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext \
        -out server.pem 2>/dev/null
    openssl req "${ec[@]}" -keyout user.key -out user.csr -subj "/CN=Demo Admin" 2>/dev/null
    printf 'subjectAltName=email:admin@contoso.com\nextendedKeyUsage=clientAuth\n' >user.ext
    openssl x509 -req -in user.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile user.ext \
        -out user.pem 2>/dev/null
    chmod 600 ./*.key
)
openssl genpkey -algorithm ed25519 -out "$svc/keys/signing.key.pem" 2>/dev/null
cp "$here/keys/demo-issuer.key.pem" "$svc/keys/issuer.key.pem"
chmod 600 "$svc/keys/"*.pem
# A template like the demo one, whose licenses name this service.
"$exe" --templates "$svc/templates" templates create --id "$licensed" --name "Contoso - Confidential (licensed)" \
    --key "$here/keys/demo-issuer.pub.pem" --grant "admin@contoso.com=VIEW,EDIT,EXTRACT" --offline-days 7 \
    --license-server "$url" >/dev/null
printf '%s\n' "listen = \"127.0.0.1:$port\"" 'tls_cert = "tls/server.pem"' 'tls_key = "tls/server.key"' \
    'templates = "templates"' 'signing_key = "keys/signing.key.pem"' '[[issuer_keys]]' 'path = "keys/issuer.key.pem"' \
    '[store]' 'url = "sqlite://licensing.db"' '[auth.client_certs]' 'ca_file = "tls/ca.pem"' >"$svc/serve.toml"
"$exe" serve "$svc/serve.toml" 2>"$svc/serve.log" &
service_pid=$!
for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done
echo "   fci-connector serve listens on $url; client certificates of the demo CA sign in"
file="HR/Recruiting/interview-schedule.csv"
cp "$work/original/$file" "$work/licensed.csv"
"$exe" --templates "$svc/templates" --log-dir "$work/logs" protect "$work/licensed.csv" --always --quiet \
    --template "$licensed" --owner admin@contoso.com
signin=(--server "$url" --ca-file "$svc/tls/ca.pem" --client-cert "$svc/tls/user.pem" --client-key "$svc/tls/user.key")
"$exe" open "$work/licensed.csv" --output "$work/opened.csv" "${signin[@]}"
cmp "$work/opened.csv" "$work/original/$file" && echo "   opened through the service: identical to the original"
echo "   who opened it (licenses track):"
"$exe" licenses track "$work/licensed.csv" "${signin[@]}" | sed 's/^/   /'
