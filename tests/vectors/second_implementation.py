#!/usr/bin/env python3
"""An independent reader and writer of format v1 (versions 1.0 and 1.1), written from docs/FORMAT.md alone with the
`cryptography` package, checked against the test vectors. If this and the Rust implementation agree, the spec is
precise enough.

Usage: python3 tests/vectors/second_implementation.py   (exit 0 when every vector passes)
"""
import base64
import hashlib
import hmac
import json
import pathlib
import struct
import sys
import xml.etree.ElementTree as ET

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

HERE = pathlib.Path(__file__).resolve().parent
KEYS = HERE.parent / "fixtures" / "keys"
NS = "{urn:fci-connector:license:1}"
LABEL = b"fci-connector/v1 content key"


def hkdf(ck, salt, info):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ck)


def nonce(i, last):
    return i.to_bytes(11, "big") + bytes([1 if last else 0])


def pattern(n):
    x, out = 0x9E3779B9, bytearray()
    for _ in range(n):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        out.append(x >> 24)
    return bytes(out)


def license_server(license_xml):
    """The <LicenseServer url> of a license, or None."""
    el = ET.fromstring(license_xml).find(NS + "LicenseServer")
    return None if el is None else el.get("url")


def version_for(license_xml):
    """1.1 when the license names a licensing service, else 1.0 (docs/FORMAT.md, "Versions")."""
    return b"\x01\x01" if license_server(license_xml) is not None else b"\x01\x00"


def read(data, private_key):
    """Open a v1 file per docs/FORMAT.md; returns (license xml, plaintext)."""
    assert data[:8] == b"FCI-PROT", "magic"
    assert data[8:10] in (b"\x01\x00", b"\x01\x01"), "version"
    assert data[10:12] == b"\x00\x00", "flags"
    (n,) = struct.unpack_from("<I", data, 12)
    assert n <= 16384
    pos = 16 + n
    (l,) = struct.unpack_from("<I", data, pos)
    assert l <= 1 << 20
    license_xml = data[pos + 4 : pos + 4 + l].decode("utf-8")
    pos += 4 + l
    alg, s, r0, r1 = data[pos : pos + 4]
    assert alg == 1 and 16 <= s <= 20 and r0 == r1 == 0
    salt = data[pos + 4 : pos + 36]
    mac = data[pos + 36 : pos + 68]
    authenticated = data[: pos + 36]
    payload = data[pos + 68 :]

    spki = private_key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    key_id = hashlib.sha256(spki).hexdigest()
    assert data[8:10] == version_for(license_xml), "version does not match <LicenseServer>"
    root = ET.fromstring(license_xml)
    wraps = root.find(NS + "KeyWraps")
    wrap = next(w for w in wraps if w.get("keyId") == key_id)
    assert wrap.get("algorithm") == "RSA-OAEP-SHA256"
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=LABEL)
    ck = private_key.decrypt(base64.b64decode(wrap.text.strip()), oaep)
    assert len(ck) == 32

    header_key = hkdf(ck, salt, b"fci-connector/v1 header")
    payload_key = hkdf(ck, salt, b"fci-connector/v1 payload")
    assert hmac.compare_digest(hmac.new(header_key, authenticated, hashlib.sha256).digest(), mac), "header MAC"

    seg, aes, out, i, off = 1 << s, AESGCM(payload_key), bytearray(), 0, 0
    while True:
        remaining = len(payload) - off
        assert remaining >= 16, "truncated"
        last = remaining <= seg + 16
        chunk = payload[off : off + min(remaining, seg + 16)]
        assert not (last and len(chunk) == 16 and i > 0), "empty final segment"
        out += aes.decrypt(nonce(i, last), chunk, None)
        off += len(chunk)
        i += 1
        if last:
            return license_xml, bytes(out)


def write(notice, license_xml, ck, salt, s, plaintext):
    """Write a v1 file per docs/FORMAT.md."""
    notice, lic = notice.encode(), license_xml.encode()
    header = b"FCI-PROT" + version_for(license_xml) + b"\x00\x00" + struct.pack("<I", len(notice)) + notice + struct.pack("<I", len(lic)) + lic
    header += bytes([1, s, 0, 0]) + salt
    out = bytearray(header + hmac.new(hkdf(ck, salt, b"fci-connector/v1 header"), header, hashlib.sha256).digest())
    aes, seg = AESGCM(hkdf(ck, salt, b"fci-connector/v1 payload")), 1 << s
    count = max(1, -(-len(plaintext) // seg))
    for i in range(count):
        out += aes.encrypt(nonce(i, i == count - 1), plaintext[i * seg : (i + 1) * seg], None)
    return bytes(out)


def main():
    vectors = sorted(HERE.glob("*.json"))
    assert vectors, "no vectors"
    for path in vectors:
        v = json.loads(path.read_text())
        expected = (HERE / v["file"]).read_bytes()
        key = serialization.load_pem_private_key((KEYS / v["key"]).read_bytes(), password=None)
        plain = v["plaintext_text"].encode() if v.get("plaintext_text") is not None else pattern(v["plaintext_len"])
        license_xml, got = read(expected, key)
        assert got == plain, f"{path.name}: plaintext differs"
        assert license_xml == v["license_xml"], f"{path.name}: license differs"
        rebuilt = write(v["notice"], v["license_xml"], bytes.fromhex(v["content_key_hex"]), bytes.fromhex(v["salt_hex"]), v["segment_log2"], plain)
        assert rebuilt == expected, f"{path.name}: writer output differs"
        # Tampering with any payload byte must fail.
        bad = bytearray(expected)
        bad[-1] ^= 1
        try:
            read(bytes(bad), key)
        except Exception:
            pass
        else:
            raise AssertionError(f"{path.name}: tampered file accepted")
        # A header version that does not match the license (1.0 with <LicenseServer>, 1.1 without) is refused.
        bad = bytearray(expected)
        bad[9] ^= 1
        try:
            read(bytes(bad), key)
        except AssertionError as e:
            assert "version" in str(e), f"{path.name}: {e}"
        else:
            raise AssertionError(f"{path.name}: a header with the other minor version was accepted")
        server = license_server(license_xml)
        print(f"ok {path.name} (format {expected[8]}.{expected[9]}" + (f", license server {server})" if server else ")"))
    print(f"{len(vectors)} passed, 0 failed")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAILED: {e}")
        print("0 passed, 1 failed")
        sys.exit(1)
