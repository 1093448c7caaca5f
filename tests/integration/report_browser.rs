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

use crate::util::root;

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

    // Self-contained, and never the sensitive values.
    for external in ["<script src", "<link", "url(", "@import"] {
        assert!(!dom.contains(external), "the page loads something: {external}");
    }
    for value in ["536-22-8175", "412-67-3390"] {
        assert!(!dom.contains(value), "a matched value is shown: {value}");
    }
}
