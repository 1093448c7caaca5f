//! The container reader on arbitrary bytes: header, license, and — when those parse — the whole open with a fixed
//! holder key (the committed test issuer key). Must never panic, hang or allocate past the header limits; a file
//! that opens must have come from the seeds' real content key, so its plaintext length matches the license.
#![no_main]

use std::sync::OnceLock;

use fci_connector::protect::container::Envelope;
use fci_connector::protect::keys::HolderKey;
use libfuzzer_sys::fuzz_target;

fn holder() -> &'static HolderKey {
    static KEY: OnceLock<HolderKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/keys/issuer.key.pem");
        HolderKey::read(std::path::Path::new(path), None).expect("test issuer key")
    })
}

fuzz_target!(|data: &[u8]| {
    let mut input = data;
    let Ok(envelope) = Envelope::read(&mut input) else { return };
    let mut out = Vec::new();
    if let Ok(n) = envelope.open(holder(), input, &mut out) {
        assert_eq!(n as usize, out.len());
    }
});
