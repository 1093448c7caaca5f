//! The sample share end to end: `protect <copy> --recurse` with the demo template and the default rules protects
//! exactly the files samples/expected.csv marks `protect`, leaves the others byte-identical, and every protected
//! file unprotects to its original bytes with the demo issuer key.

use std::path::Path;

use fci_connector::batch::rulestest::ExpectedSet;

use crate::util::{cmd, is_protected, root};

const TEMPLATE_ID: &str = "e6ee2481-26b9-45e5-b34a-f744eacd53b0";

/// Every file under `dir`, relative, with `/` separators, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/"))
        .collect();
    out.sort();
    out
}

fn copy_share(to: &Path) {
    let share = root().join("samples/share");
    for rel in files(&share) {
        let target = to.join(&rel);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(share.join(&rel), target).unwrap();
    }
}

#[test]
fn protecting_the_share_protects_exactly_the_expected_files_and_each_unprotects_to_the_original() {
    let expected = ExpectedSet::load(&root().join("samples/expected.csv")).unwrap();
    let mut want: Vec<String> = expected
        .files
        .iter()
        .filter(|f| f.decision == fci_connector::pipeline::VerdictKind::Protect)
        .map(|f| f.path.clone())
        .collect();
    want.sort();
    assert!(want.len() >= 10, "the share has sensitive files: {want:?}");

    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("share-copy");
    copy_share(&copy);
    let original = root().join("samples/share");
    cmd()
        .arg("--templates")
        .arg(root().join("samples/templates"))
        .arg("--rules")
        .arg(root().join("classification-rules"))
        .arg("--log-dir")
        .arg(dir.path().join("logs"))
        .arg("protect")
        .arg(&copy)
        .args(["--recurse", "--quiet", "--template", TEMPLATE_ID, "--owner", "admin@contoso.com"])
        .assert()
        .success();

    let all = files(&copy);
    assert_eq!(all, files(&original), "no file added or removed, no temporary file left");
    let protected: Vec<String> = all.iter().filter(|rel| is_protected(&copy.join(rel))).cloned().collect();
    assert_eq!(protected, want);
    for rel in all.iter().filter(|rel| !want.contains(rel)) {
        assert_eq!(std::fs::read(copy.join(rel)).unwrap(), std::fs::read(original.join(rel)).unwrap(), "{rel}");
    }

    let key = root().join("samples/keys/demo-issuer.key.pem");
    for rel in &protected {
        cmd().arg("unprotect").arg(copy.join(rel)).arg("--key").arg(&key).assert().success();
        assert_eq!(
            std::fs::read(copy.join(rel)).unwrap(),
            std::fs::read(original.join(rel)).unwrap(),
            "{rel} unprotects to the original bytes"
        );
    }
}
