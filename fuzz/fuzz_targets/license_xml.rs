//! The license parser on arbitrary text: never panics; a license that parses serialises to XML that parses back
//! to the same license (what `status` shows is what the file says).
#![no_main]

use fci_connector::protect::container::license::License;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(license) = License::parse(text) else { return };
    let again = License::parse(&license.to_xml()).expect("a serialised license parses");
    assert_eq!(again, license);
});
