//! src/xml.rs, the element tree under licenses and templates, on arbitrary text: never panics, bounded depth, and
//! positions stay inside the text.
#![no_main]

use fci_connector::xml;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match xml::parse(text) {
        Ok(root) => {
            let mut stack = vec![(&root, 1usize)];
            while let Some((el, depth)) = stack.pop() {
                assert!(depth <= xml::MAX_DEPTH, "depth {depth}");
                assert!(el.line >= 1 && el.col >= 1);
                stack.extend(el.children.iter().map(|c| (c, depth + 1)));
            }
        }
        Err(e) => assert!(e.line >= 1 && e.col >= 1, "{e}"),
    }
});
