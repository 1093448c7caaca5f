#!/usr/bin/env python3
"""Inputs of the licensing service benchmark (bench/service.sh).

    prepare.py idp DIR ISSUER AUDIENCE PRINCIPAL
        An RSA-2048 identity provider key: DIR/jwks.json (the service's jwks_file) and DIR/token (an RS256 bearer
        token for PRINCIPAL, valid for two hours), made with PyJWT and cryptography.
    prepare.py bodies OUT DIR
        One `POST /v1/licenses` JSON body per protected file in DIR, one per line, by name: the file's license
        block (bytes 0 .. 88+N+L, docs/FORMAT.md) and a fresh X25519 public key, both base64.
    prepare.py warm URL TOKEN BODIES CA_FILE
        Send every body once (8 at a time), so that the content keys are in the service's cache before a
        repeated-opens run; fails unless every answer is 200.
"""

import base64
import concurrent.futures
import json
import os
import ssl
import struct
import sys
import time
import urllib.request

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa, x25519

KID = "bench-rsa"


def idp(out, issuer, audience, principal):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwk.update({"kid": KID, "alg": "RS256", "use": "sig"})
    with open(os.path.join(out, "jwks.json"), "w") as f:
        json.dump({"keys": [jwk]}, f)
    now = int(time.time())
    claims = {"iss": issuer, "aud": audience, "sub": principal, "upn": principal,
              "iat": now, "nbf": now - 5, "exp": now + 7200}
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    token = jwt.encode(claims, pem, algorithm="RS256", headers={"kid": KID})
    with open(os.path.join(out, "token"), "w") as f:
        f.write(token)


def license_block(path):
    """The header from byte 0 through the header MAC."""
    with open(path, "rb") as f:
        head = f.read(16)
        if len(head) < 16 or head[:8] != b"FCI-PROT":
            raise SystemExit(f"{path}: not a protected file")
        (notice_len,) = struct.unpack_from("<I", head, 12)
        f.seek(16 + notice_len)
        (license_len,) = struct.unpack("<I", f.read(4))
        f.seek(0)
        block = f.read(88 + notice_len + license_len)
    if len(block) != 88 + notice_len + license_len:
        raise SystemExit(f"{path}: truncated header")
    return block


def bodies(out, folder):
    files = sorted(os.path.join(folder, n) for n in os.listdir(folder))
    b64 = lambda b: base64.b64encode(b).decode("ascii")
    raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
    with open(out, "w") as f:
        for path in files:
            client = x25519.X25519PrivateKey.generate().public_key().public_bytes(*raw)
            f.write(json.dumps({"license": b64(license_block(path)), "client_key": b64(client)}) + "\n")


def warm(url, token, bodies_file, ca_file):
    context = ssl.create_default_context(cafile=ca_file)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def ask(body):
        request = urllib.request.Request(url.rstrip("/") + "/v1/licenses", data=body.encode(), headers=headers)
        with urllib.request.urlopen(request, context=context, timeout=60) as answer:
            return answer.status

    with open(bodies_file) as f:
        bodies = [line.strip() for line in f if line.strip()]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(ask, bodies))
    if any(s != 200 for s in statuses):
        raise SystemExit(f"warm-up: answers other than 200: {sorted(set(statuses))}")


def main(argv):
    if len(argv) == 6 and argv[1] == "idp":
        idp(*argv[2:])
    elif len(argv) == 4 and argv[1] == "bodies":
        bodies(argv[2], argv[3])
    elif len(argv) == 6 and argv[1] == "warm":
        warm(*argv[2:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
