#!/usr/bin/env python3
"""Inputs for bench/compare.sh, deterministic (seeded), using only the Python standard library.

    gen.py text  OUT BYTES         prose with planted card numbers, SSNs, IBANs and e-mail addresses
    gen.py docx  OUT BYTES         one Word document of about BYTES on disk, sensitive
    gen.py docxs DIR COUNT         COUNT small Word documents, one in four sensitive, the rest clean
    gen.py bytes OUT BYTES         incompressible bytes (for the 1 GiB protect)
    gen.py share DIR COUNT         COUNT small text files (about 100 bytes) in up to 1,000 folders of at least 100
                                   files, one in ten sensitive (the scale row); DIR/.complete marks a finished share

The planted values pass the validators of the default rules (Luhn, SSA areas, per-country IBAN length and
mod-97), and sit next to the keywords the rules look for, so the classifier does its full work: candidates,
validators and proximity evidence.
"""

import os
import random
import sys
import zipfile

WORDS = (
    "the quarterly report shows revenue growth across all regions while operating costs remained flat and "
    "the board approved the budget for the next fiscal year including new hires in engineering sales and "
    "support as well as the office move planned for the spring meeting notes action items follow up with "
    "legal on the contract renewal and schedule the review of vendor invoices before the end of the month"
).split()

IBAN_COUNTRIES = (("DE", 22), ("FR", 27), ("GB", 22), ("NL", 18), ("ES", 24), ("IT", 27))


def luhn_complete(body):
    """`body` plus the check digit that makes it pass the Luhn test."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return body + str((10 - total % 10) % 10)


def card(rng):
    number = luhn_complete("4" + "".join(rng.choice("0123456789") for _ in range(14)))
    return " ".join(number[i : i + 4] for i in range(0, 16, 4))


def ssn(rng):
    return "%03d-%02d-%04d" % (rng.randint(100, 599), rng.randint(1, 99), rng.randint(1, 9999))


def iban(rng):
    country, length = rng.choice(IBAN_COUNTRIES)
    bban = "".join(rng.choice("0123456789") for _ in range(length - 4))
    rearranged = bban + country + "00"
    numeric = "".join(str(int(c, 36)) for c in rearranged)
    check = 98 - int(numeric) % 97
    compact = "%s%02d%s" % (country, check, bban)
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def email(rng):
    first = rng.choice(("anna", "ben", "chloe", "dev", "erin", "farid", "gita"))
    return "%s.%s%d@example.com" % (first, rng.choice(("smith", "jones", "ng", "garcia")), rng.randint(1, 999))


def prose(rng, words):
    return " ".join(rng.choice(WORDS) for _ in range(words))


def sensitive_line(rng):
    kind = rng.randrange(4)
    if kind == 0:
        return "Payment by Visa card number %s, expires %02d/%02d." % (card(rng), rng.randint(1, 12), rng.randint(26, 30))
    if kind == 1:
        return "Employee SSN %s on file with payroll." % ssn(rng)
    if kind == 2:
        return "Wire transfer to IBAN %s as agreed." % iban(rng)
    return "Contact email %s for questions." % email(rng)


def text_block(rng, size):
    """About `size` bytes of lines, one in twenty sensitive."""
    lines, total = [], 0
    while total < size:
        line = sensitive_line(rng) if rng.randrange(20) == 0 else prose(rng, rng.randint(8, 20)) + "."
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines) + "\n"


def write_text(path, size):
    rng = random.Random(8)
    # 4 MiB of distinct text, then variations of it: fast to write, still no repeated values nearby.
    block = 4 * 1024 * 1024
    written = 0
    with open(path, "w", encoding="utf-8") as out:
        while written < size:
            part = text_block(rng, min(block, size - written))
            out.write(part)
            written += len(part.encode())


CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    "</Types>"
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" '
    'Target="docProps/core.xml"/>'
    "</Relationships>"
)
CORE = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>%s</dc:title><dc:creator>bench</dc:creator>'
    "</cp:coreProperties>"
)


def escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def document_xml(paragraphs):
    body = "".join(
        '<w:p><w:pPr><w:pStyle w:val="Normal"/></w:pPr><w:r><w:rPr><w:lang w:val="en-US"/></w:rPr>'
        '<w:t xml:space="preserve">%s</w:t></w:r></w:p>' % escape(p)
        for p in paragraphs
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>%s'
        '<w:sectPr><w:pgSz w:w="12240" w:h="15840"/></w:sectPr></w:body></w:document>' % body
    )


def write_docx(path, paragraphs, title):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", RELS)
        z.writestr("docProps/core.xml", CORE % escape(title))
        z.writestr("word/document.xml", document_xml(paragraphs))


def docx_of_size(path, size, rng, sensitive):
    paragraphs, total = [], 0
    while total < size:
        p = prose(rng, rng.randint(20, 60)) + "."
        paragraphs.append(p)
        total += len(p)
    if sensitive:
        for _ in range(max(1, len(paragraphs) // 20)):
            paragraphs.insert(rng.randrange(len(paragraphs) + 1), sensitive_line(rng))
    write_docx(path, paragraphs, "Report %d" % rng.randint(1, 10**6))


SHARE_SENSITIVE = "Employee record. Social Security Number: 536-22-8175\n"
SHARE_CLEAN = "Minutes of the weekly meeting: nothing to report.\n"


def write_share(root, n):
    """`n` small text files in min(1000, n / 100) folders (a share: many folders, none huge), one in ten sensitive;
    `root/.complete` is written last, so an interrupted generation is started again, not reused."""
    folders = max(1, min(1000, n // 100))
    per = -(-n // folders)
    for i in range(n):
        folder = os.path.join(root, "dept%04d" % (i // per))
        if i % per == 0:
            os.makedirs(folder, exist_ok=True)
        body = SHARE_SENSITIVE if i % 10 == 0 else SHARE_CLEAN
        with open(os.path.join(folder, "note%07d.txt" % i), "w") as f:
            f.write("%sfile %d\n" % (body, i))
    with open(os.path.join(root, ".complete"), "w") as f:
        f.write("%d\n" % n)


def main(argv):
    if len(argv) != 4 or argv[1] not in ("text", "docx", "docxs", "bytes", "share"):
        sys.exit(__doc__)
    what, out, n = argv[1], argv[2], int(argv[3])
    if what == "text":
        write_text(out, n)
    elif what == "docx":
        # A document of about `n` bytes on disk: text compresses, so size the text from a first try.
        text = n
        for _ in range(3):
            docx_of_size(out, text, random.Random(4), True)
            text = text * n // os.path.getsize(out)
    elif what == "docxs":
        os.makedirs(out, exist_ok=True)
        rng = random.Random(2000)
        for i in range(n):
            docx_of_size(os.path.join(out, "doc%05d.docx" % i), rng.randint(2000, 12000), rng, i % 4 == 0)
    elif what == "share":
        write_share(out, n)
    else:
        with open(out, "wb") as f:
            chunk = 8 * 1024 * 1024
            left = n
            while left > 0:
                f.write(os.urandom(min(chunk, left)))
                left -= chunk


if __name__ == "__main__":
    main(sys.argv)
