//! The STREAM payload reader on arbitrary bytes with a fixed key and small segments: never panics, and never
//! releases more than it authenticated (anything it returns Ok for was sealed with this key).
#![no_main]

use fci_connector::protect::container::stream;
use libfuzzer_sys::fuzz_target;

const KEY: [u8; 32] = [0x42; 32];

fuzz_target!(|data: &[u8]| {
    let Some((&seg, payload)) = data.split_first() else { return };
    let segment = 1 + usize::from(seg % 64);
    let mut out = Vec::new();
    if let Ok(n) = stream::open(&KEY, segment, payload, &mut out) {
        // Only a genuine sealing can authenticate; sealing the result again must give the same bytes.
        assert_eq!(n as usize, out.len());
        let mut again = Vec::new();
        stream::seal(&KEY, segment, &out[..], &mut again).unwrap();
        assert_eq!(again, payload);
    }
});
