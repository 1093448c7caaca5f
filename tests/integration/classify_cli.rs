//! `fci-connector classify`: decisions, output formats, no sensitive values by default, exit codes.

use crate::util::cmd;

const DEFAULT_RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/classification-rules");

const CARD: &str = "4485 3647 3952 7352";

fn share() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("card.txt"), format!("Visa card {CARD} expires 09/27\n")).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/plain.txt"), "Meeting notes, nothing sensitive.\n").unwrap();
    dir
}

fn json_lines(out: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn json_lines_with_decisions_and_no_values() {
    let dir = share();
    let out = cmd()
        .args(["--rules", DEFAULT_RULES, "classify", "--recurse", "--format", "json"])
        .arg(dir.path())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(!String::from_utf8_lossy(&out).contains("4485"), "matched values must not be printed");
    let rows = json_lines(&out);
    assert_eq!(rows.len(), 2);
    assert!(rows[0]["path"].as_str().unwrap().ends_with("card.txt"));
    assert_eq!(rows[0]["decision"], "protect");
    assert_eq!(rows[0]["properties"]["PII"], "Yes");
    assert_eq!(rows[0]["properties"]["Confidentiality"], "High");
    let card = rows[0]["matches"].as_array().unwrap().iter().find(|m| m["name"] == "Credit Card Number").unwrap();
    assert_eq!((card["count"].as_u64(), card["confidence"].as_u64()), (Some(1), Some(85)));
    assert_eq!(rows[1]["decision"], "skip");
    assert_eq!(rows[1]["matches"].as_array().unwrap().len(), 0);
}

#[test]
fn show_values_prints_them() {
    let dir = share();
    cmd()
        .args(["--rules", DEFAULT_RULES, "classify", "--show-values", "--format", "csv"])
        .arg(dir.path().join("card.txt"))
        .assert()
        .success()
        .stdout(predicates::str::starts_with("path,decision,template,properties,matches,error\n"))
        .stdout(predicates::str::contains(CARD));
}

#[test]
fn failures_give_the_highest_exit_code() {
    let dir = share();
    let out = cmd()
        .args(["--rules", DEFAULT_RULES, "classify", "--format", "json"])
        .arg(dir.path().join("card.txt"))
        .arg(dir.path().join("missing.txt"))
        .arg(dir.path())
        .assert()
        .code(3)
        .get_output()
        .stdout
        .clone();
    let rows = json_lines(&out);
    assert_eq!(rows[0]["decision"], "protect");
    assert_eq!(rows[1]["decision"], "error");
    assert!(rows[1]["error"].as_str().unwrap().contains("no such file"));
    assert!(rows[2]["error"].as_str().unwrap().contains("--recurse"));
}

#[test]
fn an_unfinished_rule_makes_the_file_an_error_not_a_skip() {
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(
        rules.path().join("r.xml"),
        r#"<ClassificationRules><PropertyDefinition name="S" type="YesNo"/>
<Rule name="catastrophic" property="S" value="Yes"><Regex>(a*)*\1b</Regex></Rule>
<ProtectionPolicy><Protect property="S" value="Yes"/></ProtectionPolicy></ClassificationRules>"#,
    )
    .unwrap();
    let file = rules.path().join("victim.txt");
    std::fs::write(&file, format!("{}c\n", "a".repeat(60))).unwrap();
    let out = cmd().arg("--rules").arg(rules.path()).args(["classify", "--format", "json"]).arg(&file).assert().code(7);
    let rows = json_lines(&out.get_output().stdout);
    assert_eq!(rows[0]["decision"], "error");
    assert!(rows[0]["error"].as_str().unwrap().contains("catastrophic"));
}

#[test]
fn invalid_rules_exit_6_before_classifying() {
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(
        rules.path().join("bad.xml"),
        "<ClassificationRules>\n  <Rule name=\"x\" property=\"Nope\" value=\"Yes\"/>\n</ClassificationRules>",
    )
    .unwrap();
    cmd()
        .arg("--rules")
        .arg(rules.path())
        .args(["classify", "whatever.txt"])
        .assert()
        .code(6)
        .stdout("")
        .stderr(predicates::str::contains("bad.xml:2:3: error: rule \"x\": property \"Nope\" is not defined"));
}

/// Entity name → (count, confidence) of one classify JSON row.
fn entities(row: &serde_json::Value) -> std::collections::BTreeMap<String, (u64, u64)> {
    row["matches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "entity")
        .map(|m| {
            (m["name"].as_str().unwrap().to_string(), (m["count"].as_u64().unwrap(), m["confidence"].as_u64().unwrap()))
        })
        .collect()
}

/// The confidence `entity` reaches in each text, classified as its own file with the default rules.
fn confidences(entity: &str, texts: &[&str]) -> Vec<Option<u64>> {
    classify_texts(texts).iter().map(|row| entities(row).get(entity).map(|&(_, c)| c)).collect()
}

/// Classify each text as its own file with the default rules; one JSON row per text, in order.
fn classify_texts(texts: &[&str]) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    let mut c = cmd();
    c.args(["--rules", DEFAULT_RULES, "classify", "--format", "json"]);
    for (i, t) in texts.iter().enumerate() {
        let p = dir.path().join(format!("{i:02}.txt"));
        std::fs::write(&p, t).unwrap();
        c.arg(p);
    }
    json_lines(&c.assert().success().get_output().stdout)
}

#[test]
fn an_iban_followed_by_a_short_token_is_an_iban_and_its_digits_are_not_a_card() {
    let texts = [
        "Pay to AT611904300234573201 EUR today",
        "AL47212110090000000235698741 ALL CAPS",
        "VG96 VPVG 0000 0123 4567 8901 X",
        "Pay to AT61 1904 3002 3457 3201 EUR today",
        "AL47 2121 1009 0000 0002 3569 8741 ALL CAPS",
        // Digits shaped like a Visa number and Luhn-valid: only the IBAN around them says they are not a card.
        "Pay to AT63 4190 4300 2345 7329 EUR today",
    ];
    let rows = classify_texts(&texts);
    for (text, row) in texts.iter().zip(&rows) {
        let found = entities(row);
        assert_eq!(found.get("International Banking Account Number (IBAN)"), Some(&(1, 85)), "{text}: {found:?}");
        assert!(!found.contains_key("Credit Card Number"), "{text}: the IBAN's digits are not a card: {found:?}");
    }
}

#[test]
fn ssn_confidences_are_microsofts_and_every_one_needs_its_keyword() {
    // Microsoft's entity definition: 85 Func_ssn, 75 Func_unformatted_ssn, 65 Func_randomized_formatted_ssn,
    // 55 Func_randomized_unformatted_ssn, each with a Keyword_ssn term within 300 characters.
    let cases: [(&str, Option<u64>); 6] = [
        ("SSN 536-90-4399", Some(85)),
        ("SSN 536904399", Some(75)),
        ("SSN 773-12-3456", Some(65)),
        ("SSN 773123456", Some(55)),
        ("ref 773123456", None),
        ("ref 536-90-4399", None),
    ];
    let rows = classify_texts(&cases.map(|(t, _)| t));
    for ((text, want), row) in cases.iter().zip(&rows) {
        let got = entities(row).get("U.S. Social Security Number (SSN)").map(|&(_, c)| c);
        assert_eq!(got, *want, "{text}");
        let protect = if want.is_some() { "protect" } else { "skip" };
        assert_eq!(row["decision"], protect, "{text}: an SSN with its keyword is PII at any of its confidences");
    }
}

#[test]
fn a_card_with_a_short_expiration_date_is_85_and_iso_dates_are_not_expiration_dates() {
    let cases: [(&str, u64); 5] = [
        ("Card 4485 3647 3952 7352 valid thru 1/28", 85),
        ("Card 4485 3647 3952 7352 good until Jan 2030", 85),
        ("4485 3647 3952 7352 5/27", 85),
        // Inside a longer date, a month-year lookalike is not an expiration date.
        ("4485 3647 3952 7352 shipped 2026-03-14", 65),
        ("4485 3647 3952 7352 on 12/31/2024", 65),
    ];
    let got = confidences("Credit Card Number", &cases.map(|(t, _)| t));
    for ((text, want), got) in cases.iter().zip(got) {
        assert_eq!(got, Some(*want), "{text}");
    }
}

#[test]
fn published_test_card_numbers_are_ignored_unless_the_settings_say_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.txt");
    // TabaPay's sandbox Visa; not in the list before 2026-11.
    std::fs::write(&file, "Visa card 4242 4242 4242 4242 expires 09/27\n").unwrap();
    let run = |rules: &std::path::Path| {
        let out = cmd().arg("--rules").arg(rules).args(["classify", "--format", "json"]).arg(&file).assert().success();
        entities(&json_lines(&out.get_output().stdout)[0]).get("Credit Card Number").copied()
    };
    assert_eq!(run(DEFAULT_RULES.as_ref()), None, "a published test number is not a card by default");
    let rules = dir.path().join("rules");
    crate::util::copy_tree(DEFAULT_RULES.as_ref(), &rules);
    let policy = rules.join("20-properties-and-policy.xml");
    let text = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(&policy, text.replace("ignoreTestCardNumbers=\"true\"", "ignoreTestCardNumbers=\"false\"")).unwrap();
    assert_eq!(run(&rules), Some((1, 85)), "reported when ignoreTestCardNumbers is false");
}

// Microsoft's published keyword lists, copied from the pages (read 2026-11-30), not from the rule files: a list the
// rules shortened or misspelt fails here. https://learn.microsoft.com/en-us/purview/sit-defn-credit-card-number
const MS_KEYWORD_CC_VERIFICATION: &[&str] = &[
    "card verification",
    "card identification number",
    "cvn",
    "cid",
    "cvc2",
    "cvv2",
    "pin block",
    "security code",
    "security number",
    "security no",
    "issue number",
    "issue no",
    "cryptogramme",
    "numéro de sécurité",
    "numero de securite",
    "kreditkartenprüfnummer",
    "kreditkartenprufnummer",
    "prüfziffer",
    "prufziffer",
    "sicherheits Kode",
    "sicherheitscode",
    "sicherheitsnummer",
    "verfalldatum",
    "codice di verifica",
    "cod. sicurezza",
    "cod sicurezza",
    "n autorizzazione",
    "código",
    "codigo",
    "cod. seg",
    "cod seg",
    "código de segurança",
    "codigo de seguranca",
    "codigo de segurança",
    "código de seguranca",
    "cód. segurança",
    "cod. seguranca",
    "cod. segurança",
    "cód. seguranca",
    "cód segurança",
    "cod seguranca",
    "cod segurança",
    "cód seguranca",
    "número de verificação",
    "numero de verificacao",
    "ablauf",
    "gültig bis",
    "gültigkeitsdatum",
    "gultig bis",
    "gultigkeitsdatum",
    "scadenza",
    "data scad",
    "fecha de expiracion",
    "fecha de venc",
    "vencimiento",
    "válido hasta",
    "valido hasta",
    "vto",
    "data de expiração",
    "data de expiracao",
    "data em que expira",
    "validade",
    "valor",
    "vencimento",
    "transaction",
    "transaction number",
    "reference number",
    "セキュリティコード",
    "セキュリティ コード",
    "セキュリティナンバー",
    "セキュリティ ナンバー",
    "セキュリティ番号",
];

// Same page.
const MS_KEYWORD_CC_NAME: &[&str] = &[
    "amex",
    "american express",
    "americanexpress",
    "americano espresso",
    "Visa",
    "mastercard",
    "master card",
    "mc",
    "mastercards",
    "master cards",
    "diner's Club",
    "diners club",
    "dinersclub",
    "discover",
    "discover card",
    "discovercard",
    "discover cards",
    "JCB",
    "BrandSmart",
    "japanese card bureau",
    "carte blanche",
    "carteblanche",
    "credit card",
    "cc#",
    "cc#:",
    "expiration date",
    "exp date",
    "expiry date",
    "date d'expiration",
    "date d'exp",
    "date expiration",
    "bank card",
    "bankcard",
    "card number",
    "card num",
    "cardnumber",
    "cardnumbers",
    "card numbers",
    "creditcard",
    "credit cards",
    "creditcards",
    "ccn",
    "card holder",
    "cardholder",
    "card holders",
    "cardholders",
    "check card",
    "checkcard",
    "check cards",
    "checkcards",
    "debit card",
    "debitcard",
    "debit cards",
    "debitcards",
    "atm card",
    "atmcard",
    "atm cards",
    "atmcards",
    "enroute",
    "en route",
    "card type",
    "Cardmember Acct",
    "cardmember account",
    "Cardno",
    "Corporate Card",
    "Corporate cards",
    "Type of card",
    "card account number",
    "card member account",
    "Cardmember Acct.",
    "card no.",
    "card no",
    "card number",
    "carte bancaire",
    "carte de crédit",
    "carte de credit",
    "numéro de carte",
    "numero de carte",
    "nº de la carte",
    "nº de carte",
    "kreditkarte",
    "karte",
    "karteninhaber",
    "karteninhabers",
    "kreditkarteninhaber",
    "kreditkarteninstitut",
    "kreditkartentyp",
    "eigentümername",
    "kartennr",
    "kartennummer",
    "kreditkartennummer",
    "kreditkarten-nummer",
    "carta di credito",
    "carta credito",
    "n. carta",
    "n carta",
    "nr. carta",
    "nr carta",
    "numero carta",
    "numero della carta",
    "numero di carta",
    "tarjeta credito",
    "tarjeta de credito",
    "tarjeta crédito",
    "tarjeta de crédito",
    "tarjeta de atm",
    "tarjeta atm",
    "tarjeta debito",
    "tarjeta de debito",
    "tarjeta débito",
    "tarjeta de débito",
    "nº de tarjeta",
    "no. de tarjeta",
    "no de tarjeta",
    "numero de tarjeta",
    "número de tarjeta",
    "tarjeta no",
    "tarjetahabiente",
    "cartão de crédito",
    "cartão de credito",
    "cartao de crédito",
    "cartao de credito",
    "cartão de débito",
    "cartao de débito",
    "cartão de debito",
    "cartao de debito",
    "débito automático",
    "debito automatico",
    "número do cartão",
    "numero do cartão",
    "número do cartao",
    "numero do cartao",
    "número de cartão",
    "numero de cartão",
    "número de cartao",
    "numero de cartao",
    "nº do cartão",
    "nº do cartao",
    "nº. do cartão",
    "no do cartão",
    "no do cartao",
    "no. do cartão",
    "no. do cartao",
    "rupay",
    "union pay",
    "unionpay",
    "diner's",
    "diners",
    "クレジットカード番号",
    "クレジットカードナンバー",
    "クレジットカード＃",
    "クレジットカード",
    "クレジット",
    "クレカ",
    "カード番号",
    "カードナンバー",
    "カード＃",
    "アメックス",
    "アメリカンエクスプレス",
    "アメリカン エクスプレス",
    "Visaカード",
    "Visa カード",
    "マスターカード",
    "マスター カード",
    "マスター",
    "ダイナースクラブ",
    "ダイナース クラブ",
    "ダイナース",
    "有効期限",
    "期限",
    "キャッシュカード",
    "キャッシュ カード",
    "カード名義人",
    "カードの名義人",
    "カードの名義",
    "デビット カード",
    "デビットカード",
    "中国银联",
    "银联",
];

// https://learn.microsoft.com/en-us/purview/sit-defn-aba-routing
const MS_KEYWORD_ABA_ROUTING: &[&str] = &[
    "aba number",
    "aba#",
    "aba",
    "abarouting#",
    "abaroutingnumber",
    "americanbankassociationrouting#",
    "americanbankassociationroutingnumber",
    "bankrouting#",
    "bankroutingnumber",
    "routing #",
    "routing no",
    "routing number",
    "routing transit number",
    "routing#",
    "RTN",
];

// https://learn.microsoft.com/en-us/purview/sit-defn-us-bank-account-number
const MS_KEYWORD_USA_BANK_ACCOUNT: &[&str] = &[
    "Checking Account Number",
    "Checking Account",
    "Checking Account #",
    "Checking Acct Number",
    "Checking Acct #",
    "Checking Acct No.",
    "Checking Account No.",
    "Bank Account Number",
    "Bank Account #",
    "Bank Acct Number",
    "Bank Acct #",
    "Bank Acct No.",
    "Bank Account No.",
    "Savings Account Number",
    "Savings Account.",
    "Savings Account #",
    "Savings Acct Number",
    "Savings Acct #",
    "Savings Acct No.",
    "Savings Account No.",
    "Debit Account Number",
    "Debit Account",
    "Debit Account #",
    "Debit Acct Number",
    "Debit Acct #",
    "Debit Acct No.",
    "Debit Account No.",
];

// https://learn.microsoft.com/en-us/purview/sit-defn-us-social-security-number
const MS_KEYWORD_SSN: &[&str] = &[
    "SSA Number",
    "social security number",
    "social security #",
    "social security#",
    "social security no",
    "Social Security#",
    "Soc Sec",
    "SSN",
    "SSNS",
    "SSN#",
    "SS#",
    "SSID",
];

#[test]
fn every_published_keyword_beside_a_valid_number_gives_the_documented_confidence() {
    const CC: &str = "Credit Card Number";
    const ABA: &str = "ABA Routing Number";
    const ACCT: &str = "U.S. Bank Account Number";
    const SSN: &str = "U.S. Social Security Number (SSN)";
    // (entity, keyword or "" for none, number, confidence Microsoft documents: None = not found)
    let mut cases: Vec<(&str, String, Option<u64>)> = vec![
        (CC, CARD.into(), Some(65)),
        (ABA, "021000021".into(), Some(65)),
        (ACCT, "12345678".into(), None),
        (SSN, "536-90-4399".into(), None),
        // Japanese runs words together: the Japanese terms are found without a space around them.
        (CC, format!("このクレジットカードの番号は{CARD}です"), Some(85)),
    ];
    let lists: [(&str, &[&str], &str, u64); 5] = [
        (CC, MS_KEYWORD_CC_VERIFICATION, CARD, 85),
        (CC, MS_KEYWORD_CC_NAME, CARD, 85),
        (ABA, MS_KEYWORD_ABA_ROUTING, "021000021", 75),
        (ACCT, MS_KEYWORD_USA_BANK_ACCOUNT, "12345678", 75),
        (SSN, MS_KEYWORD_SSN, "536-90-4399", 85),
    ];
    for (entity, list, number, confidence) in lists {
        for kw in list {
            cases.push((entity, format!("{kw} {number}"), Some(confidence)));
        }
    }
    let texts: Vec<&str> = cases.iter().map(|(_, t, _)| t.as_str()).collect();
    let rows = classify_texts(&texts);
    assert_eq!(rows.len(), cases.len());
    let wrong: Vec<String> = cases
        .iter()
        .zip(&rows)
        .filter_map(|((entity, text, want), row)| {
            let got = entities(row).get(*entity).map(|&(_, c)| c);
            (got != *want).then(|| format!("{text:?}: {entity} {got:?}, documented {want:?}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{} of {} cases differ:\n{}", wrong.len(), cases.len(), wrong.join("\n"));
}

#[test]
fn a_card_number_needs_the_first_digits_and_length_of_a_brand_microsoft_names() {
    // Each Luhn-valid and beside a card keyword; not in the published test-number list.
    let cases: [(&str, Option<u64>); 16] = [
        ("Visa card 4190 4300 2345 7329", Some(85)),
        ("Mastercard 5312 8407 6395 1200", Some(85)),
        ("Mastercard 2720 9910 2345 6788", Some(85)),
        ("amex 3759 876543 21004", Some(85)),
        ("discover 6011 5832 7719 0541", Some(85)),
        ("JCB 3589 1234 5678 9018", Some(85)),
        ("diners club 3612 345678 9013", Some(85)),
        ("unionpay 6212345678901234569", Some(85)),
        ("rupay 8123 4567 8901 2340", Some(85)),
        // Luhn-valid and card-length, but no brand Microsoft names issues these first digits (UATP 1, Dankort
        // 5019, 2721 past Mastercard's 2720, 7, 9) or this length (a 17-digit Mastercard, a 16-digit Amex).
        ("card number 7500 8104 2544 7549", None),
        ("card number 1904 3002 3457 3201", None),
        ("card number 5019 7170 1010 3742", None),
        ("card number 2721 9910 2345 6787", None),
        ("card number 53128407639512006", None),
        ("amex 3759876543210041", None),
        ("card number 9876 5432 1098 7658", None),
    ];
    let got = confidences("Credit Card Number", &cases.map(|(t, _)| t));
    for ((text, want), got) in cases.iter().zip(got) {
        assert_eq!(got, *want, "{text}");
    }
}

#[test]
fn a_csv_export_of_three_cards_without_keywords_is_protected_by_volume_and_two_are_not() {
    // Luhn-valid, not published test numbers, no card keyword anywhere: each at 65.
    let cards = ["4485 3647 3952 7352", "4929 1736 4825 1036", "5312 8407 6395 1200"];
    let dir = tempfile::tempdir().unwrap();
    let three = dir.path().join("export.csv");
    let two = dir.path().join("export-2.csv");
    std::fs::write(&three, format!("cc\n{}\n", cards.join("\n"))).unwrap();
    std::fs::write(&two, format!("cc\n{}\n", cards[..2].join("\n"))).unwrap();
    let out = cmd().args(["--rules", DEFAULT_RULES, "classify", "--format", "json"]).arg(&three).arg(&two).assert();
    let rows = json_lines(&out.success().get_output().stdout);
    assert_eq!(entities(&rows[0]).get("Credit Card Number"), Some(&(3, 65)));
    assert_eq!(rows[0]["decision"], "protect", "{}", rows[0]);
    assert_eq!(rows[0]["properties"]["PII"], "Yes");
    let rules: Vec<&str> = rows[0]["matches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "rule")
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert!(rules.contains(&"PII: payment cards in volume"), "{rules:?}");
    assert_eq!(entities(&rows[1]).get("Credit Card Number"), Some(&(2, 65)));
    assert_eq!(rows[1]["decision"], "skip", "two bare numbers are below the volume line: {}", rows[1]);
}
