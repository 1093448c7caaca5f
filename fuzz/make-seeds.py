#!/usr/bin/env python3
"""Make the committed seeds of the extractor and PFILE fuzz targets (fuzz/seeds/<target>/).

    python3 fuzz/make-seeds.py

The extractor seeds come from the repository's own sample files (samples/share/, tests/fixtures/extract/):
whole files for extract_file and extract_rtf, one XML part with the target's selector byte in front for
extract_ooxml and extract_odf. The PFILE seeds are synthetic headers (version 2.0, 2.1 and 3.0, UTF-8 and
UTF-16 licenses, an XMP label block). Fuzzer findings are added to the same folders by hand and left alone
here. tests/long.sh adds the real files in ../shared/interop/ms-rms-pfile/ as
extra seeds without copying them. Standard library only; every seed is under 64 KiB.
"""

import struct
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "fuzz" / "seeds"
SHARE = ROOT / "samples" / "share"
FIXTURES = ROOT / "tests" / "fixtures" / "extract"
MAX_SEED = 64 * 1024


def fresh(target):
    # Seeds are (over)written, never removed: inputs added from findings stay.
    folder = SEEDS / target
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write(folder, name, data):
    assert len(data) < MAX_SEED, f"{name}: {len(data)} bytes"
    (folder / name).write_bytes(data)


def part(package, name):
    with zipfile.ZipFile(package) as z:
        return z.read(name)


def extract_file():
    folder = fresh("extract_file")
    for source in [
        SHARE / "Legal/Contracts/nda-contoso-fabrikam.docx",
        SHARE / "Finance/Budget/budget-2026.xlsx",
        SHARE / "Sales/Presentations/q1-pipeline.pptx",
        SHARE / "Engineering/Specs/api-design.odt",
        SHARE / "Finance/Budget/forecast-notes.rtf",
        SHARE / "Finance/Invoices/INV-2026-0415.pdf",
        SHARE / "IT/Tickets/ticket-48213.eml",
        SHARE / "Sales/Customers/card-on-file-northwind.eml",
        SHARE / "Finance/Payroll/payroll-2026-03.csv",
        FIXTURES / "libreoffice.doc",
        FIXTURES / "libreoffice.xls",
        FIXTURES / "libreoffice.ods",
        FIXTURES / "utf16le-bom.txt",
        FIXTURES / "unknown.bin",
    ]:
        write(folder, source.name, source.read_bytes())
    # A plain archive holding a document: the nested-archive path.
    nested = SEEDS / "extract_file" / "nested.zip"
    with zipfile.ZipFile(nested, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(SHARE / "Legal/Contracts/nda-contoso-fabrikam.docx", "contracts/nda.docx")
        z.write(SHARE / "Finance/Payroll/payroll-2026-03.csv", "payroll.csv")
    assert nested.stat().st_size < MAX_SEED


def extract_rtf():
    folder = fresh("extract_rtf")
    for source in [
        SHARE / "Finance/Budget/forecast-notes.rtf",
        SHARE / "Legal/Contracts/msa-draft-v4.rtf",
        FIXTURES / "libreoffice.rtf",
    ]:
        write(folder, source.name, source.read_bytes())


def extract_ooxml():
    # Selector byte (input[0] % 5) as in fuzz_targets/extract_ooxml.rs.
    folder = fresh("extract_ooxml")
    seeds = [
        (0, SHARE / "Legal/Contracts/nda-contoso-fabrikam.docx", "word/document.xml"),
        (0, FIXTURES / "libreoffice.docx", "word/document.xml"),
        (1, SHARE / "Finance/Budget/budget-2026.xlsx", "xl/sharedStrings.xml"),
        (1, FIXTURES / "libreoffice.xlsx", "xl/sharedStrings.xml"),
        (2, SHARE / "Finance/Payroll/payroll-2026-03.xlsx", "xl/worksheets/sheet1.xml"),
        (2, SHARE / "Finance/Budget/budget-2026.xlsx", "xl/worksheets/sheet1.xml"),
        (3, SHARE / "Sales/Presentations/q1-pipeline.pptx", "ppt/slides/slide1.xml"),
        (3, FIXTURES / "python-pptx.pptx", "ppt/slides/slide1.xml"),
        (4, FIXTURES / "libreoffice.docx", "docProps/custom.xml"),
        (4, FIXTURES / "libreoffice.xlsx", "docProps/custom.xml"),
    ]
    for selector, package, name in seeds:
        stem = name.replace("/", "-").removesuffix(".xml")
        write(folder, f"{selector}-{package.name}-{stem}.bin", bytes([selector]) + part(package, name))


def extract_odf():
    # Selector bits as in fuzz_targets/extract_odf.rs: bit 0 meta.xml (else content.xml), bit 1 .ods (else .odt).
    folder = fresh("extract_odf")
    seeds = [
        (0, SHARE / "Engineering/Specs/api-design.odt", "content.xml"),
        (0, SHARE / "HR/Policies/holiday-policy.odt", "content.xml"),
        (1, SHARE / "Engineering/Specs/api-design.odt", "meta.xml"),
        (1, FIXTURES / "libreoffice.odt", "meta.xml"),
        (2, FIXTURES / "libreoffice.ods", "content.xml"),
        (3, FIXTURES / "libreoffice.ods", "meta.xml"),
        (0, FIXTURES / "libreoffice.odp", "content.xml"),
    ]
    for selector, package, name in seeds:
        write(folder, f"{selector}-{package.name}-{name.removesuffix('.xml')}.bin", bytes([selector]) + part(package, name))


LICENSE = """<XrML xmlns="" version="1.2"><BODY type="Microsoft Rights Label" version="3.0">\
<ISSUEDTIME>2026-03-14T09:30</ISSUEDTIME>\
<DESCRIPTOR><OBJECT><ID type="MS-GUID">{586B5746-AA26-4310-81B1-EA20D40CFC89}</ID>\
<NAME>LCID 1033:NAME Contoso - Confidential:DESCRIPTION Employees only;LCID 1036:NAME Confidentiel:DESCRIPTION x;</NAME>\
</OBJECT></DESCRIPTOR>\
<ISSUER><OBJECT type="MS-DRM-Server"><ID type="MS-GUID">{0A6E1B0C-0000-4000-8000-000000000001}</ID>\
<NAME>Contoso RMS</NAME><ADDRESS type="URL">https://rms.contoso.example/_wmcs/licensing</ADDRESS></OBJECT></ISSUER>\
<WORK><OBJECT><ID type="MS-GUID">{D2E4F6A8-1234-4CDE-9ABC-0123456789AB}</ID></OBJECT>\
<METADATA><OWNER><OBJECT><ID type="Unspecified"/><NAME>alice@contoso.example</NAME></OBJECT></OWNER></METADATA></WORK>\
</BODY></XrML><XrML><BODY type="certificate chain"/></XrML>"""

XMP = """<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">\
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="">\
<msip:labels><rdf:Bag><rdf:li rdf:parseType="Resource">\
<msip-label:Id>{EE71DA51-A031-4697-8ABD-0ACB181B2C25}</msip-label:Id><msip-label:Name>Confidential</msip-label:Name>\
</rdf:li></rdf:Bag></msip:labels></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>"""


def pfile(major, minor, extension, license_bytes, metadata=b"", redirect=b"This file is protected."):
    """A PFILE: magic, version, redirection text, then the offsets header, extension, license, metadata, content."""
    header_size = 40 if (major, minor) >= (2, 1) else 24
    start = 6 + 8 + 4 + len(redirect)
    ext_offset = start + header_size
    license_offset = ext_offset + len(extension)
    metadata_offset = license_offset + len(license_bytes)
    content_offset = metadata_offset + len(metadata)
    content = b"\x8c\x1f" * 24  # stands for the encrypted content
    fields = [header_size, ext_offset, len(extension), license_offset, len(license_bytes), content_offset]
    header = struct.pack("<6I", *fields)
    if header_size == 40:
        header += struct.pack("<Q2I", len(content), metadata_offset if metadata else 0, len(metadata))
    return (
        b".pfile" + struct.pack("<3I", major, minor, len(redirect)) + redirect
        + header + extension + license_bytes + metadata + content
    )


def pfile_header():
    folder = fresh("pfile_header")
    utf16 = b"\xff\xfe" + LICENSE.encode("utf-16-le")
    write(folder, "v2.0-utf8.pfile", pfile(2, 0, b".txt", LICENSE.encode()))
    write(folder, "v2.1-utf16-labels.pfile", pfile(2, 1, b".docx", utf16, XMP.encode() + b"\0" * 16))
    write(folder, "v3.0-utf16-nobom.pfile", pfile(3, 0, b".vsd", LICENSE.encode("utf-16-le"), XMP.encode()))
    write(folder, "v3.0-no-license.pfile", pfile(3, 0, b".jpg", b""))
    write(folder, "magic-only.pfile", b".pfile")


if __name__ == "__main__":
    extract_file()
    extract_rtf()
    extract_ooxml()
    extract_odf()
    pfile_header()
    for target in ["extract_file", "extract_rtf", "extract_ooxml", "extract_odf", "pfile_header"]:
        files = sorted((SEEDS / target).iterdir())
        print(f"{target}: {len(files)} seeds, {sum(f.stat().st_size for f in files)} bytes")
