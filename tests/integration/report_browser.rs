//! The HTML report as a browser renders it: a dry run over the sample share writes `--report x.html` and
//! `--report x.json`; headless Chromium loads the page and the DOM it builds must show the numbers the JSON holds
//! (files, per decision, per property value, per entity), with one table row per file.
//!
//! Needs /usr/bin/chromium (Debian package `chromium`); without it the test says so and passes without checking.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;

use crate::util::{host_name, root, rule_file_names, rules_sha256};

const CHROMIUM: &str = "/usr/bin/chromium";
const TEMPLATE_ID: &str = "e6ee2481-26b9-45e5-b34a-f744eacd53b0";

/// Copy the sample share, so that nothing here can touch the repository.
fn copy_share(to: &Path) {
    let share = root().join("samples/share");
    for entry in walkdir::WalkDir::new(&share) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(&share).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn dry_run(dir: &Path, share: &Path, report: &Path) {
    Command::cargo_bin("fci-connector")
        .unwrap()
        .arg("--templates")
        .arg(root().join("samples/templates"))
        .arg("--rules")
        .arg(root().join("classification-rules"))
        .arg("--log-dir")
        .arg(dir.join("logs"))
        .arg("protect")
        .arg(share)
        .args(["--recurse", "--dry-run", "--quiet", "--template", TEMPLATE_ID, "--report"])
        .arg(report)
        .assert()
        .success();
}

/// The DOM Chromium builds from `page`, serialized.
fn rendered_dom(page: &Path, profile: &Path) -> String {
    let url = format!("file://{}", page.display());
    let mut child = Process::new(CHROMIUM)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .args(["--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update"])
        .arg("--disable-sync")
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // A guard against a browser that never exits, not a performance check.
    let deadline = Instant::now() + Duration::from_secs(180);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish loading {}", page.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "chromium failed: {:?}", output.status);
    String::from_utf8(output.stdout).unwrap()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `{label: count}` of one chart as rendered, with labels as the DOM serializes them.
fn chart(dom: &str, id: &str) -> BTreeMap<String, u64> {
    let re = regex::Regex::new(&format!(r#"data-chart="{id}" data-label="([^"]*)">([0-9]+)<"#)).unwrap();
    re.captures_iter(dom).map(|c| (c[1].to_string(), c[2].parse().unwrap())).collect()
}

/// The same numbers from the JSON summary.
fn summary_map(json: &serde_json::Value, key: &str) -> BTreeMap<String, u64> {
    json["summary"][key].as_object().unwrap().iter().map(|(k, v)| (html_escape(k), v.as_u64().unwrap())).collect()
}

#[test]
fn the_rendered_html_report_shows_the_numbers_of_the_json_report() {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("SKIPPED: {CHROMIUM} not found; install the Debian package `chromium` to check the HTML report");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let share = dir.path().join("share");
    copy_share(&share);
    let (html, json) = (dir.path().join("report.html"), dir.path().join("report.json"));
    dry_run(dir.path(), &share, &html);
    dry_run(dir.path(), &share, &json);
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let dom = rendered_dom(&html, &dir.path().join("chromium-profile"));

    let files = json["summary"]["files"].as_u64().unwrap();
    assert!(files >= 40, "the whole share: {files}");
    assert!(dom.contains(&format!(r#"data-card="files">{files}<"#)), "files card");
    let decisions = summary_map(&json, "decisions");
    assert!(decisions["would-protect"] > 0 && decisions["skipped"] > 0, "{decisions:?}");
    assert!(dom.contains(&format!(r#"data-card="would protect">{}<"#, decisions["would-protect"])));
    assert_eq!(chart(&dom, "by-decision"), decisions);
    let properties = summary_map(&json, "properties");
    assert!(properties.contains_key("PII=Yes"), "{properties:?}");
    assert_eq!(chart(&dom, "by-property"), properties);
    let entities = summary_map(&json, "entities");
    assert!(entities.contains_key("U.S. Social Security Number (SSN)"), "{entities:?}");
    assert_eq!(chart(&dom, "by-entity"), entities);

    // One table row per file, each with the decision the JSON gives it, in the same order.
    let row = regex::Regex::new(r#"<tr class="([a-z-]+)"><td>"#).unwrap();
    let rendered: Vec<String> = row.captures_iter(&dom).map(|c| c[1].to_string()).collect();
    let listed: Vec<String> =
        json["files"].as_array().unwrap().iter().map(|f| f["decision"].as_str().unwrap().to_string()).collect();
    assert_eq!(rendered, listed);

    // What a manager asks first: when, where, with which template and rules, what the exit codes mean.
    let run = &json["run"];
    let fact = |key: &str| {
        let re = regex::Regex::new(&format!(r#"<dd data-run="{key}">(.*?)</dd>"#)).unwrap();
        re.captures(&dom).unwrap_or_else(|| panic!("{key} not shown")).get(1).unwrap().as_str().to_string()
    };
    let time = regex::Regex::new(r#"^<time datetime="([^"]+)">(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC</time>$"#).unwrap();
    let (started, ended) = (fact("started"), fact("ended"));
    let (started, ended) = (time.captures(&started).expect(&started), time.captures(&ended).expect(&ended));
    assert!(started[1] <= ended[1] && started[1].ends_with('Z'), "{} {}", &started[1], &ended[1]);
    assert_eq!(started[2], started[1].trim_end_matches('Z').replace('T', " "));
    // The HTML run came before the JSON run.
    assert!(&ended[1] <= run["started"].as_str().unwrap(), "{} then {}", &ended[1], run["started"]);
    assert_eq!(fact("host"), html_escape(&host_name()));
    assert_eq!(run["host"], host_name());
    assert_eq!(fact("template"), format!(r#"Contoso - Confidential (demo) <span class="id">{TEMPLATE_ID}</span>"#));
    assert_eq!(run["template"], serde_json::json!({ "id": TEMPLATE_ID, "name": "Contoso - Confidential (demo)" }));
    let names = rule_file_names();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let sha256 = rules_sha256(&root().join("classification-rules"), &names);
    assert_eq!(run["rules"]["sha256"], sha256);
    assert!(
        fact("rules").contains(&format!(r#"<b title="SHA-256 {sha256}">{}</b>"#, &sha256[..12])),
        "{}",
        fact("rules")
    );
    assert!(fact("rules").ends_with(&names.join(", ")), "{}", fact("rules"));
    assert!(
        fact("outcome").starts_with("exit code 0: done: protected, or deliberately left alone"),
        "{}",
        fact("outcome")
    );
    assert!(
        dom.contains(r#"<dt data-exit="0">0</dt><dd>done: protected, or deliberately left alone"#),
        "the exit code legend"
    );
    // Sizes in KB, the exact byte count in the JSON.
    let size = regex::Regex::new(r#"<td data-sort="([0-9]+)" title="([0-9]+) bytes">([0-9.]+) KB</td>"#).unwrap();
    let sized: Vec<_> = size.captures_iter(&dom).collect();
    assert!(!sized.is_empty(), "no size in KB");
    for c in &sized {
        let bytes: f64 = c[1].parse().unwrap();
        assert_eq!(format!("{:.1}", bytes / 1000.0), c[3], "{}", &c[0]);
    }
    let bytes: Vec<u64> = json["files"].as_array().unwrap().iter().map(|f| f["bytes"].as_u64().unwrap()).collect();
    assert!(sized.iter().all(|c| bytes.contains(&c[1].parse().unwrap())));
    // "0 failed" in the neutral colour: the card has no class the page colours red.
    assert_eq!(json["summary"]["failed"], serde_json::json!({}));
    assert!(dom.contains(r#"<div class="card"><b data-card="failed">0</b>failed</div>"#), "the failed card");
    assert!(dom.contains(".card.failed b{color:#c53030}"), "red is kept for failures");

    // Self-contained, and never the sensitive values.
    for external in ["<script src", "<link", "url(", "@import"] {
        assert!(!dom.contains(external), "the page loads something: {external}");
    }
    for value in ["536-22-8175", "412-67-3390"] {
        assert!(!dom.contains(value), "a matched value is shown: {value}");
    }
}
