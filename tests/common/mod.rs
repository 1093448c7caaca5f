//! Shared set-up for the integration tests: a scratch folder with a template store whose template is protected
//! to the committed test keys, and a handle on the real binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub const TEMPLATE_ID: &str = "e6ee2481-26b9-45e5-b34a-f744eacd53b0";
pub const SEGMENT: usize = 64 * 1024;

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn key(name: &str) -> PathBuf {
    fixtures().join("keys").join(name)
}

/// A scratch folder with `templates/` holding one template (issuer + recovery key, by path) and `data/`.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        let templates = dir.path().join("templates");
        std::fs::create_dir_all(templates.join("keys")).unwrap();
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        for k in ["issuer.pub.pem", "recovery.pub.pem"] {
            std::fs::copy(key(k), templates.join("keys").join(k)).unwrap();
        }
        std::fs::write(
            templates.join("confidential.xml"),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?>
<Template xmlns="urn:fci-connector:template:1">
  <Id>{{{}}}</Id>
  <Name>Contoso - Confidential</Name>
  <Description>Finance and HR only</Description>
  <Rights>
    <Grant principal="finance@contoso.com" rights="VIEW,EDIT,PRINT"/>
    <Grant principal="hr@contoso.com" rights="VIEW"/>
  </Rights>
  <ContentExpiry days="365"/>
  <OfflineAccessDays>7</OfflineAccessDays>
  <IssuerKey path="keys/issuer.pub.pem"/>
  <RecoveryKey path="keys/recovery.pub.pem"/>
</Template>
"#,
                TEMPLATE_ID.to_uppercase()
            ),
        )
        .unwrap();
        Scratch { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn templates(&self) -> PathBuf {
        self.path().join("templates")
    }

    /// Write a data file and return its path.
    pub fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.path().join("data").join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    /// The binary, with this scratch folder's template store.
    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("fci-connector").unwrap();
        c.arg("--templates").arg(self.templates());
        c
    }

    pub fn protect(&self, file: &Path) -> assert_cmd::assert::Assert {
        self.cmd().arg("protect").arg(file).args(["--template", TEMPLATE_ID, "--always"]).assert()
    }

    pub fn unprotect(&self, file: &Path, key_name: &str) -> assert_cmd::assert::Assert {
        self.cmd().arg("unprotect").arg(file).arg("--key").arg(key(key_name)).assert()
    }

    /// Names of everything in the data folder, sorted (to prove nothing was left behind).
    pub fn data_listing(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.path().join("data"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

/// Deterministic, incompressible-looking test content.
pub fn pattern(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

/// Where a protected file's payload starts: its header length, read with the library.
pub fn payload_offset(protected: &[u8]) -> usize {
    let mut r = protected;
    let h = fci_connector::protect::container::header::Header::read(&mut r).unwrap();
    h.len() as usize
}
