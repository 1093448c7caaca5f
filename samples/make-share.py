#!/usr/bin/env python3
"""Generate samples/share/: a small department share of real-format documents for the demo and `rules test`.

Documents are made by real office software: LibreOffice (headless) converts flat OpenDocument sources written
here into .docx/.odt/.rtf/.pdf, .xlsx and .pptx; python-docx, openpyxl, python-pptx and reportlab write a second
family; Python's email package writes the .eml messages; .txt and .csv are written directly.

All sensitive values are synthetic: card numbers are completed with a Luhn check digit, SSNs follow the SSA's
allocation rules, IBANs get their ISO 7064 check digits, routing numbers their 3-7-1 checksum; names are invented.
Some files hold them (with and without the keywords that raise confidence), some are clean, some are near misses
(wrong check digits, card-like part numbers, SSN-like numbers the SSA never issues, payment-network test cards).
samples/expected.csv says what the default rules make of each file; `fci-connector rules test` checks it.

Needs: soffice (Debian: libreoffice-writer libreoffice-calc libreoffice-impress), and from PyPI python-docx
openpyxl python-pptx reportlab. Run from anywhere; it replaces samples/share/ entirely:
    python3 samples/make-share.py
The tests need none of these tools: they use the committed files.
"""

import csv
import email.message
import email.policy
import email.utils
import io
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
SHARE = HERE / "share"


# --- synthetic values that pass the checks the rules make -------------------------------------------------------

def luhn_complete(partial: str) -> str:
    """`partial` (digits and spaces) with the Luhn check digit appended."""
    digits = [int(c) for c in partial if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:  # these positions are doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return partial + str((10 - total % 10) % 10)


def luhn_ok(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban(country: str, bban: str) -> str:
    """An IBAN with correct ISO 7064 mod-97 check digits, printed in groups of four."""
    rearranged = bban + country + "00"
    number = int("".join(str(int(c, 36)) for c in rearranged))
    compact = f"{country}{98 - number % 97:02d}{bban}"
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))


def aba_ok(number: str) -> bool:
    d = [int(c) for c in number]
    return sum(x * w for x, w in zip(d, [3, 7, 1] * 3)) % 10 == 0


CARD_VISA = luhn_complete("4556 7375 8689 985")
CARD_MC = luhn_complete("5312 8840 2276 195")
CARD_MC2 = luhn_complete("5425 2334 3010 990")
CARD_AMEX = luhn_complete("3759 876543 2100")
CARD_DISCOVER = luhn_complete("6011 5832 7719 054")
CARD_VISA2 = luhn_complete("4929 1038 5521 774")
CARD_VISA3 = luhn_complete("4024 0071 4432 196")
# One digit off: the Luhn check fails.
CARD_TYPO = CARD_VISA2[:-1] + str((int(CARD_VISA2[-1]) + 1) % 10)

SSN_ALICE = "536-22-8175"
SSN_DIAZ = "412-67-3390"
SSN_OKAFOR = "287-31-5604"
SSN_NGUYEN = "601-18-2247"
SSN_BRENNAN = "455-09-8812"
# Issued after the SSA randomized assignment (June 2011): areas 734-749 and 773-899 only exist since then.
SSN_CHILD1 = "781-24-5530"
SSN_CHILD2 = "812-40-1176"

IBAN_GB = iban("GB", "WEST12345698765432")
IBAN_DE = iban("DE", "370400440532013000")
IBAN_FR = iban("FR", "20041010050500013M02606")
IBAN_NL = iban("NL", "ABNA0417164300")
IBAN_BE = iban("BE", "539007547034")
IBAN_CH = iban("CH", "0483501234567890A")
IBAN_TYPO = IBAN_NL[:-1] + str((int(IBAN_NL[-1]) + 1) % 10)

ABA_CHASE = "021000021"
ABA_BOFA = "121000358"
ABA_TYPO = "121000359"

for card in (CARD_VISA, CARD_MC, CARD_MC2, CARD_AMEX, CARD_DISCOVER, CARD_VISA2, CARD_VISA3):
    assert luhn_ok(card), card
assert not luhn_ok(CARD_TYPO)
assert aba_ok(ABA_CHASE) and aba_ok(ABA_BOFA) and not aba_ok(ABA_TYPO)


def part_numbers(count: int, seed: int, luhn_valid: bool, visa_shaped: bool = False):
    """16-digit catalogue or tracking numbers, grouped 4-4-4-4, that do (or do not) pass the Luhn check; with
    `visa_shaped`, only those that begin with a 4, as a Visa card number does (Func_credit_card wants a brand's
    first digits as well as the Luhn check)."""
    out, n = [], seed
    while len(out) < count:
        n = (n * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        digits = f"{n % 10**16:016d}"
        if digits[0] == "0" or (visa_shaped and digits[0] != "4"):
            continue
        if luhn_ok(digits) == luhn_valid:
            out.append(" ".join(digits[i:i + 4] for i in range(0, 16, 4)))
    return out


# --- documents ----------------------------------------------------------------------------------------------------
# A document is a title and blocks: ("h", text), ("p", text), ("table", rows); presentations are slides:
# ("slide", title, [lines]). The producer names the software that writes it.

def doc(path, producer, title, *blocks, **extra):
    return {"path": path, "producer": producer, "title": title, "blocks": list(blocks), **extra}


def P(text):
    return ("p", text)


def H(text):
    return ("h", text)


def T(*rows):
    return ("table", [list(r) for r in rows])


def S(title, *lines):
    return ("slide", title, list(lines))


LOREM_POLICY = ("Employees accrue 2.08 days of paid holiday per month worked. Requests go to your line manager at "
                "least two weeks ahead; the HR system shows your balance. Unused days carry over up to five days.")

DOCUMENTS = [
    # Finance ------------------------------------------------------------------------------------------------------
    doc("Finance/Payroll/payroll-2026-03.xlsx", "openpyxl", "Payroll March 2026",
        T(["Employee", "Name", "IBAN", "Gross (EUR)", "Net (EUR)"],
          ["E-0417", "Alice Example", IBAN_GB, 5200, 3412.50],
          ["E-0533", "Bob Sample", IBAN_DE, 4800, 3190.10],
          ["E-0671", "Carol Demo", IBAN_FR, 6100, 3960.75],
          ["E-0702", "Dirk Voorbeeld", IBAN_NL, 4350, 2988.00])),
    doc("Finance/Payroll/payroll-2026-03.csv", "csv", "Payroll export",
        T(["employee_id", "name", "iban", "corporate_card", "monthly_salary_eur"],
          ["E-0417", "Alice Example", IBAN_GB, "4111 1111 1111 1111", 5200],
          ["E-0533", "Bob Sample", IBAN_DE, CARD_MC2, 4800],
          ["E-0671", "Carol Demo", IBAN_FR, CARD_AMEX, 6100])),
    doc("Finance/Expenses/corporate-cards-2026Q1.xlsx", "lo:xlsx", "Corporate cards Q1 2026",
        T(["Cardholder", "Card type", "Card number", "Expiry date", "Limit (USD)"],
          ["Alice Example", "Visa", CARD_VISA, "09/28", "10000"],
          ["Bob Sample", "Mastercard", CARD_MC, "03/27", "5000"],
          ["Erin Muster", "American Express", CARD_AMEX, "11/29", "15000"])),
    doc("Finance/Expenses/expense-policy.pdf", "reportlab", "Travel and expense policy",
        H("Travel and expense policy"),
        P("Book travel through the travel desk. Pay with your corporate credit card where possible; personal cards "
          "are reimbursed monthly with the expense report."),
        P("Never send a card number, expiration date or security code by e-mail: the travel desk will call you."),
        P("Receipts over 25 USD must be attached. Meals are reimbursed up to 60 USD a day.")),
    doc("Finance/Vendors/vendor-bank-details.docx", "python-docx", "Vendor bank details",
        H("Vendor master data: bank details (U.S. vendors)"),
        T(["Vendor", "Bank", "Routing number", "Account number"],
          ["Northwind Traders", "JPMorgan Chase", ABA_CHASE, "481722903316"],
          ["Fabrikam Inc.", "Bank of America", ABA_BOFA, "000123456789"]),
        P("Changes to bank details need a call-back to the vendor's known phone number before they are entered.")),
    doc("Finance/Vendors/wire-instructions-fabrikam-eu.pdf", "lo:pdf", "Wire instructions",
        H("Wire instructions: Fabrikam Europe SA"),
        P(f"Beneficiary: Fabrikam Europe SA, Brussels. IBAN: {IBAN_BE}. BIC: GKCCBEBB."),
        P("Reference: the invoice number. Charges: SHA.")),
    doc("Finance/Invoices/INV-2026-0415.pdf", "reportlab", "Invoice INV-2026-0415",
        H("Invoice INV-2026-0415"),
        P("Contoso Ltd, 1 Harbour Street, Rotterdam"),
        T(["Item", "Qty", "Price (EUR)"], ["Consulting, March", "12", "14,400.00"], ["Travel", "1", "612.40"]),
        P(f"Please pay within 30 days to IBAN {IBAN_TYPO} (Contoso Ltd)."),
        note="near miss: the IBAN has a wrong check digit (a typo), so it is not an IBAN"),
    doc("Finance/Budget/budget-2026.xlsx", "lo:xlsx", "Budget 2026",
        T(["Cost centre", "Q1", "Q2", "Q3", "Q4"],
          ["1000 Administration", "120000", "118000", "121500", "130000"],
          ["2000 Sales", "340000", "355000", "362000", "401000"],
          ["3000 Engineering", "610000", "615000", "640000", "655000"])),
    doc("Finance/Budget/forecast-notes.rtf", "lo:rtf", "Forecast notes",
        H("Forecast notes, March"),
        P("Revenue is tracking 4% above plan; the Q3 hiring freeze stays in place. Capital expenditure for the "
          "new warehouse moves to 2027.")),

    # HR -----------------------------------------------------------------------------------------------------------
    doc("HR/Employees/employee 0417 review.txt", "text", "Annual review",
        P("Annual review - Alice Example (E-0417)"),
        P(f"Social Security Number: {SSN_ALICE}"),
        P("Date of birth: 1984-03-14"),
        P("Rating: exceeds expectations. Recommended for promotion to Senior Analyst.")),
    doc("HR/Employees/new-hire-diaz.docx", "lo:docx", "New hire form",
        H("New hire form"),
        T(["Name", "Maria Diaz"], ["Start date", "2026-04-01"], ["SSN", SSN_DIAZ],
          ["Department", "Engineering"], ["Manager", "Ken Okafor"]),
        P("Checked against the I-9 documents on the first day.")),
    doc("HR/Employees/emergency-contacts.xlsx", "openpyxl", "Emergency contacts",
        T(["Employee", "Contact", "Relationship", "Phone", "Email"],
          ["Alice Example", "Sam Example", "Spouse", "+1 206 555 0142", "sam.example@example.com"],
          ["Maria Diaz", "Jose Diaz", "Father", "+1 425 555 0199", "jose.diaz@example.net"],
          ["Ken Okafor", "Ada Okafor", "Sister", "+1 206 555 0117", "ada.okafor@example.org"])),
    doc("HR/Benefits/benefits-enrollment-okafor.pdf", "reportlab", "Benefits enrollment",
        H("Benefits enrollment 2026: Ken Okafor"),
        P(f"Employee SSN: {SSN_OKAFOR}. Plan: PPO family."),
        T(["Dependent", "Date of birth", "SSN"],
          ["Ada Okafor", "2014-06-02", SSN_CHILD1],
          ["Ben Okafor", "2017-11-23", SSN_CHILD2])),
    doc("HR/Benefits/dependent-verification-okafor.docx", "python-docx", "Dependent verification",
        H("Dependent verification"),
        P(f"Dependent: Ben Okafor, born 2017-11-23. Social Security number: {SSN_CHILD2}."),
        P("Birth certificate received and checked; coverage confirmed from 2026-01-01."),
        note="an SSN issued after June 2011 (randomized), with its keyword"),
    doc("HR/Policies/holiday-policy.odt", "lo:odt", "Holiday policy",
        H("Holiday policy"), P(LOREM_POLICY),
        P("Public holidays follow the office's country calendar; the list is on the intranet.")),
    doc("HR/Policies/code-of-conduct.pdf", "lo:pdf", "Code of conduct",
        H("Code of conduct"),
        P("Treat colleagues, customers and partners with respect. Report concerns to your manager or the ethics "
          "line; retaliation is not tolerated."),
        P("Protect company and customer information: store it on the file share, not on personal devices.")),
    doc("HR/Recruiting/interview-schedule.csv", "csv", "Interview schedule",
        T(["date", "time", "candidate", "candidate_email", "panel"],
          ["2026-04-07", "10:00", "Priya Raman", "priya.raman@example.com", "Okafor; Diaz"],
          ["2026-04-07", "14:00", "Tom Becker", "t.becker@example.org", "Okafor; Brennan"],
          ["2026-04-09", "09:30", "Lena Schmidt", "lena.schmidt@example.de", "Diaz; Brennan"])),
    doc("HR/Recruiting/offer-letter-template.docx", "lo:docx", "Offer letter template",
        H("Offer of employment"),
        P("Dear [Candidate name],"),
        P("We are pleased to offer you the position of [Title] starting on [Date], at an annual salary of "
          "[Salary]. Please bring your Social Security card (SSN: ___-__-____) on your first day."),
        P("Kind regards, Human Resources")),

    # Engineering --------------------------------------------------------------------------------------------------
    doc("Engineering/Specs/bom-widget-r3.xlsx", "openpyxl", "Bill of materials",
        T(["Part number", "Drawing", "Description", "Qty"],
          *[[pn, dwg, d, q] for pn, dwg, d, q in zip(
              part_numbers(4, 7, luhn_valid=False),
              ["912-45-6781", "000-31-2207", "666-12-0456", "531-00-4417"],
              ["Housing, ABS", "Gasket, EPDM", "Screw M3x8", "Spring, steel"],
              [1, 2, 8, 4])]),
        note="near miss: 16-digit part numbers that fail the Luhn check; drawing numbers shaped like SSNs that "
             "the SSA never issues (area 9xx, 000, 666; group 00)"),
    doc("Engineering/Specs/design-review.pptx", "python-pptx", "Design review",
        S("Widget r3 design review", "Housing moves to ABS", "Gasket material: EPDM", "Tooling in week 18"),
        S("Open issues", "Thermal test at 60 C pending", "Supplier quote due 2026-04-20")),
    doc("Engineering/Specs/api-design.odt", "lo:odt", "API design",
        H("Order API v2"),
        P("Orders are created with POST /v2/orders and are idempotent per client request id. Errors use "
          "RFC 9457 problem details."),
        P("Rate limit: 600 requests per minute per client.")),
    doc("Engineering/Test-data/payment-gateway-test-cards.txt", "text", "Gateway test cards",
        P("Payment gateway sandbox: test card numbers (published by the payment networks; never charged)"),
        P("Visa        card number 4111 1111 1111 1111   expiry 12/30   CVV 123"),
        P("Mastercard  card number 5555 5555 5555 4444   expiry 12/30   CVV 123"),
        P("Amex        card number 3782 822463 10005     expiry 12/30   CVV 1234"),
        note="near miss: well-known test card numbers, ignored by design (ignoreTestCardNumbers)"),
    doc("Engineering/Test-data/customer-fixture.csv", "csv", "Customer fixture",
        T(["customer", "email", "card_number", "exp", "cvv"],
          ["Hana Sato", "hana.sato@example.jp", CARD_VISA3, "08/27", "311"],
          ["Luis Ortega", "l.ortega@example.es", CARD_DISCOVER, "01/29", "907"]),
        note="production-looking card data copied into test fixtures"),
    doc("Engineering/Logs/shipment-tracking.csv", "csv", "Shipment tracking",
        T(["shipped", "carrier", "tracking_number", "status"],
          *[["2026-03-%02d" % (i + 3), "Contoso Freight", n, "delivered"]
            for i, n in enumerate(part_numbers(3, 11, luhn_valid=True, visa_shaped=True))]),
        note="16-digit tracking numbers that happen to be shaped like Visa numbers and pass the Luhn check, with no "
             "card keyword: three of them are the shape of a card export, protected by volume"),
    doc("Engineering/README.txt", "text", "README",
        P("Engineering share"),
        P("Specs/ holds drawings and design documents, Test-data/ synthetic fixtures only, Logs/ exports."),
        P("Ask the team lead before adding a folder.")),

    # Legal --------------------------------------------------------------------------------------------------------
    doc("Legal/Contracts/nda-contoso-fabrikam.docx", "lo:docx", "Mutual NDA",
        H("Mutual non-disclosure agreement"),
        P("STRICTLY CONFIDENTIAL"),
        P("Between Contoso Ltd and Fabrikam Inc. Each party keeps the other's confidential information secret "
          "for five years and uses it only to evaluate the proposed partnership.")),
    doc("Legal/Contracts/msa-draft-v4.rtf", "lo:rtf", "MSA draft",
        H("Master services agreement (draft 4)"),
        P("Confidential - draft for discussion."),
        P("1. Services. The supplier provides the services in each statement of work. 2. Fees. Invoices are "
          "due within 30 days.")),
    doc("Legal/Litigation/settlement-memo.pdf", "lo:pdf", "Settlement memo",
        H("Strictly Confidential - attorney-client privileged"),
        P(f"Claimant: Patrick Brennan (SSN {SSN_BRENNAN}). Proposed settlement: 85,000 USD in two instalments."),
        P("Approval needed from the general counsel by 2026-04-30.")),
    doc("Legal/Litigation/re-brennan-claim.eml", "eml", "RE: Brennan claim - documents",
        P("Hi Dana,"),
        P(f"as discussed, the claimant's social security number is {SSN_BRENNAN}; the payroll records are "
          "attached to the matter file, not to this mail."),
        P("Regards, Legal"),
        sender="legal@contoso.example", to="dana.lee@contoso.example"),

    # Sales --------------------------------------------------------------------------------------------------------
    doc("Sales/Customers/customer-contacts.xlsx", "lo:xlsx", "Customer contacts",
        T(["Customer", "Contact", "Email", "Region"],
          ["Northwind Traders", "Nancy Davolio", "nancy@northwind.example", "West"],
          ["Adventure Works", "Andrew Fuller", "a.fuller@adventure-works.example", "East"],
          ["Tailspin Toys", "Janet Leverling", "janet@tailspintoys.example", "Central"])),
    doc("Sales/Customers/card-on-file-northwind.eml", "eml", "Card for the renewal",
        P("Hello,"),
        P(f"please charge the renewal to our Visa card {CARD_VISA2}, expires 10/28, security code 418."),
        P("Thanks, Nancy"),
        sender="nancy@northwind.example", to="sales@contoso.example"),
    doc("Sales/Customers/card-correction-tailspin.eml", "eml", "Corrected card number",
        P("Hi,"),
        P(f"I mistyped the card number earlier: {CARD_TYPO}. I'll call you with the right one."),
        P("Janet"),
        sender="janet@tailspintoys.example", to="sales@contoso.example",
        note="near miss: a mistyped card number (fails the Luhn check) next to card keywords"),
    doc("Sales/Presentations/q1-pipeline.pptx", "lo:pptx", "Q1 pipeline",
        S("Q1 pipeline", "Weighted pipeline: 4.2 M USD", "Win rate: 31%"),
        S("Top deals", "Northwind renewal", "Adventure Works expansion", "Tailspin pilot")),
    doc("Sales/Orders/order-export-2026-03.csv", "csv", "Order export",
        T(["order", "customer", "sku", "amount_usd"],
          *[[n, c, s, a] for n, c, s, a in zip(
              part_numbers(3, 23, luhn_valid=False),
              ["Northwind Traders", "Adventure Works", "Tailspin Toys"],
              ["WID-R3", "WID-R2", "GAS-01"], ["1200.00", "860.50", "99.90"])]),
        note="near miss: card-shaped order numbers that fail the Luhn check"),

    # IT -----------------------------------------------------------------------------------------------------------
    doc("IT/Tickets/ticket-48213.eml", "eml", "Ticket 48213: cannot book travel",
        P("Hi IT,"),
        P("the travel portal rejects my payment. This is the card I used:"),
        P(f"{CARD_MC}  exp 03/27"),
        P("Bob"),
        sender="bob.sample@contoso.example", to="helpdesk@contoso.example"),
    doc("IT/Accounts/service-accounts.txt", "text", "Service accounts",
        P("Service accounts (owners get the alerts)"),
        P("svc-backup     owner: it-ops@contoso.example"),
        P("svc-fsrm       owner: fileserver-admins@contoso.example"),
        P("svc-reporting  owner: bi-team@contoso.example")),
    doc("IT/Inventory/asset-register.xlsx", "openpyxl", "Asset register",
        T(["Asset tag", "Model", "Serial", "Assigned to"],
          ["CT-00417", "Latitude 7450", "5CG4123XYZ", "Alice Example"],
          ["CT-00533", "ThinkPad T14", "PF4K9Q2L", "Bob Sample"],
          ["CT-00702", "MacBook Air", "C02HX1Q2Q6L4", "Dirk Voorbeeld"])),

    # Public -------------------------------------------------------------------------------------------------------
    doc("Public/cafeteria-menu.txt", "text", "Cafeteria menu",
        P("Cafeteria menu, week 14"),
        P("Monday     Lentil soup, grilled vegetables"),
        P("Tuesday    Pasta al pomodoro"),
        P("Wednesday  Chicken curry, rice"),
        P("Thursday   Vegetable lasagne"),
        P("Friday     Fish and chips")),
    doc("Public/parts-catalogue.txt", "text", "Parts catalogue",
        P("Spare parts catalogue (public)"),
        P("Part number          Description              Price"),
        *[P(f"{pn}  {d:<23}  {p}") for pn, d, p in zip(
            part_numbers(3, 5, luhn_valid=False),
            ["Hinge, stainless, 40 mm", "Bracket, zinc, 25 mm", "Knob, black"], ["2.40", "0.95", "1.10"])],
        note="near miss: card-shaped part numbers that fail the Luhn check"),
    doc("Public/newsletter-2026-04.pdf", "lo:pdf", "Newsletter April 2026",
        H("Contoso newsletter, April 2026"),
        P("The new warehouse in Tilburg opens in May. Volunteers for the opening day, please contact "
          "events@contoso.example."),
        P("Bike to work week starts on 2026-04-20.")),
    doc("Public/press-release-widget-r3.docx", "python-docx", "Press release",
        H("Contoso launches Widget r3"),
        P("Rotterdam, 2026-04-02 - Contoso today announced Widget r3, lighter and quieter than its "
          "predecessor. Available from May."),
        P("Press: press@contoso.example")),
    doc("Public/all-hands-2026-03.pptx", "python-pptx", "All hands",
        S("All hands, March 2026", "Results ahead of plan", "Warehouse opening in May"),
        S("Questions?", "Send them to the people team before Friday")),
]


# --- writers --------------------------------------------------------------------------------------------------------

NS = """xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
  xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
  xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
  xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
  xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
  xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0"
  xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
  xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
  xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
  office:version="1.3\""""


def x(value) -> str:
    return escape(str(value))


def ods_table(rows, name="Sheet1") -> str:
    cols = max(len(r) for r in rows)
    out = [f'<table:table table:name="{x(name)}"><table:table-column table:number-columns-repeated="{cols}"/>']
    for row in rows:
        out.append("<table:table-row>")
        for cell in row:
            if isinstance(cell, (int, float)):
                out.append(f'<table:table-cell office:value-type="float" office:value="{cell}">'
                           f"<text:p>{cell}</text:p></table:table-cell>")
            else:
                out.append(f'<table:table-cell office:value-type="string"><text:p>{x(cell)}</text:p>'
                           "</table:table-cell>")
        out.append("</table:table-row>")
    return "".join(out) + "</table:table>"


def meta(d) -> str:
    return f"<office:meta><dc:title>{x(d['title'])}</dc:title></office:meta>"


def fodt(d) -> str:
    body = []
    for block in d["blocks"]:
        if block[0] == "h":
            body.append(f'<text:h text:outline-level="1">{x(block[1])}</text:h>')
        elif block[0] == "p":
            body.append(f"<text:p>{x(block[1])}</text:p>")
        else:
            body.append(ods_table(block[1], "Table1"))
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document {NS} '
            f'office:mimetype="application/vnd.oasis.opendocument.text">{meta(d)}'
            f"<office:body><office:text>{''.join(body)}</office:text></office:body></office:document>\n")


def fods(d) -> str:
    rows = []
    for block in d["blocks"]:
        rows.extend(block[1] if block[0] == "table" else [[block[1]]])
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document {NS} '
            f'office:mimetype="application/vnd.oasis.opendocument.spreadsheet">{meta(d)}'
            f"<office:body><office:spreadsheet>{ods_table(rows)}</office:spreadsheet></office:body>"
            "</office:document>\n")


def fodp(d) -> str:
    pages = []
    for i, (_, title, lines) in enumerate(d["blocks"], 1):
        items = "".join(f"<text:p>{x(line)}</text:p>" for line in lines)
        pages.append(
            f'<draw:page draw:name="Slide{i}" draw:master-page-name="Default">'
            f'<draw:frame svg:x="2cm" svg:y="1.5cm" svg:width="24cm" svg:height="2.5cm"><draw:text-box>'
            f"<text:p>{x(title)}</text:p></draw:text-box></draw:frame>"
            f'<draw:frame svg:x="2cm" svg:y="5cm" svg:width="24cm" svg:height="9cm"><draw:text-box>{items}'
            "</draw:text-box></draw:frame></draw:page>")
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document {NS} '
            f'office:mimetype="application/vnd.oasis.opendocument.presentation">{meta(d)}'
            '<office:automatic-styles><style:page-layout style:name="pm1"><style:page-layout-properties '
            'fo:page-width="28cm" fo:page-height="15.75cm"/></style:page-layout></office:automatic-styles>'
            '<office:master-styles><style:master-page style:name="Default" style:page-layout-name="pm1"/>'
            f"</office:master-styles><office:body><office:presentation>{''.join(pages)}"
            "</office:presentation></office:body></office:document>\n")


# target extension -> (flat ODF writer, source extension, LibreOffice filter)
LIBREOFFICE = {
    "docx": (fodt, "fodt", "MS Word 2007 XML"),
    "odt": (fodt, "fodt", "writer8"),
    "rtf": (fodt, "fodt", "Rich Text Format"),
    "pdf": (fodt, "fodt", "writer_pdf_Export"),
    "xlsx": (fods, "fods", "Calc MS Excel 2007 XML"),
    "pptx": (fodp, "fodp", "Impress MS PowerPoint 2007 XML"),
}


def libreoffice(docs, work: Path):
    """Convert every LibreOffice document, one soffice run per target format."""
    by_target = defaultdict(list)
    for d in docs:
        by_target[d["producer"].split(":")[1]].append(d)
    profile = work / "lo-profile"
    for target, group in by_target.items():
        writer, source_ext, filter_name = LIBREOFFICE[target]
        src_dir, out_dir = work / f"src-{target}", work / f"out-{target}"
        src_dir.mkdir()
        sources = []
        for i, d in enumerate(group):
            source = src_dir / f"{i:03d}.{source_ext}"
            source.write_text(writer(d), encoding="utf-8")
            sources.append(source)
        subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
                        f"{target}:{filter_name}", "--outdir", str(out_dir), *map(str, sources)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for i, d in enumerate(group):
            shutil.copy(out_dir / f"{i:03d}.{target}", SHARE / d["path"])


def python_docx(d, path: Path):
    import docx
    document = docx.Document()
    document.core_properties.title = d["title"]
    for block in d["blocks"]:
        if block[0] == "h":
            document.add_heading(block[1], level=1)
        elif block[0] == "p":
            document.add_paragraph(block[1])
        else:
            rows = block[1]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.rows[r].cells[c].text = str(cell)
    document.save(path)


def openpyxl_book(d, path: Path):
    import openpyxl
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = d["title"][:31]
    for block in d["blocks"]:
        for row in (block[1] if block[0] == "table" else [[block[1]]]):
            sheet.append(row)
    workbook.properties.title = d["title"]
    workbook.save(path)


def python_pptx(d, path: Path):
    import pptx
    deck = pptx.Presentation()
    for _, title, lines in d["blocks"]:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = "\n".join(lines)
    deck.core_properties.title = d["title"]
    deck.save(path)


def reportlab_pdf(d, path: Path):
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table
    styles = getSampleStyleSheet()
    story = []
    for block in d["blocks"]:
        if block[0] == "h":
            story.append(Paragraph(x(block[1]), styles["Heading1"]))
        elif block[0] == "p":
            story.append(Paragraph(x(block[1]), styles["BodyText"]))
        else:
            story.append(Table([[str(c) for c in row] for row in block[1]]))
    SimpleDocTemplate(str(path), pagesize=A4, title=d["title"], invariant=1).build(story)


def text_file(d, path: Path):
    lines = []
    for block in d["blocks"]:
        lines.extend(["\t".join(map(str, r)) for r in block[1]] if block[0] == "table" else [block[1]])
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))  # a Windows share: CRLF


def csv_file(d, path: Path):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for block in d["blocks"]:
        writer.writerows(block[1])
    path.write_text(out.getvalue(), encoding="utf-8", newline="")


def eml(d, path: Path):
    message = email.message.EmailMessage(policy=email.policy.SMTP)
    message["From"] = d["sender"]
    message["To"] = d["to"]
    message["Subject"] = d["title"]
    message["Date"] = email.utils.format_datetime(email.utils.parsedate_to_datetime("Thu, 02 Apr 2026 09:14:00 +0000"))
    message["Message-ID"] = f"<{path.stem}@contoso.example>"
    text = "\n\n".join(b[1] for b in d["blocks"]) + "\n"
    message.set_content(text, cte="quoted-printable")
    html = "".join(f"<p>{x(b[1])}</p>" for b in d["blocks"])
    message.add_alternative(f"<html><body>{html}</body></html>", subtype="html", cte="base64")
    path.write_bytes(message.as_bytes())


WRITERS = {
    "python-docx": python_docx,
    "openpyxl": openpyxl_book,
    "python-pptx": python_pptx,
    "reportlab": reportlab_pdf,
    "text": text_file,
    "csv": csv_file,
    "eml": eml,
}


def main():
    paths = [d["path"] for d in DOCUMENTS]
    assert len(paths) == len(set(paths)), "duplicate path"
    if SHARE.exists():
        shutil.rmtree(SHARE)
    for d in DOCUMENTS:
        (SHARE / d["path"]).parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        libreoffice([d for d in DOCUMENTS if d["producer"].startswith("lo:")], Path(tmp))
    for d in DOCUMENTS:
        if not d["producer"].startswith("lo:"):
            WRITERS[d["producer"]](d, SHARE / d["path"])
    total = 0
    for d in DOCUMENTS:
        size = (SHARE / d["path"]).stat().st_size
        total += size
        print(f"{size:>8}  {d['path']}" + (f"    ({d['note']})" if d.get("note") else ""))
    print(f"{total:>8}  total, {len(DOCUMENTS)} files")


if __name__ == "__main__":
    sys.exit(main())
