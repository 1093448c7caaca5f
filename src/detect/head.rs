//! The first bytes of a file, read once: the protection check, the format sniffing and the text reader all look at
//! a file's start, and a folder run of small files is bound by system calls, so each file is opened, measured and
//! read from its start once (a small file in one `read`), not once per check.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use crate::{Error, ExitClass};

/// How much of a file's start is read for the checks (the format sniffing looks at this much).
pub const HEAD_LEN: usize = 8 * 1024;

/// A file's first [`HEAD_LEN`] bytes (fewer for a shorter file) and its length when opened.
#[derive(Debug)]
pub struct Head {
    bytes: Vec<u8>,
    len: u64,
}

impl Head {
    /// Read the start of `file`, positioned at its start, whose length is `len`; leaves it just after the bytes
    /// read. A file that reports its length reads in one call; one that reports 0 (a file still being written)
    /// is read until [`HEAD_LEN`] or its end.
    pub fn read(file: &mut File, len: u64) -> io::Result<Head> {
        let want = if len == 0 { HEAD_LEN as u64 } else { len.min(HEAD_LEN as u64) };
        let mut bytes = Vec::with_capacity(want as usize);
        file.take(want).read_to_end(&mut bytes)?;
        Ok(Head { bytes, len })
    }

    /// The bytes read from the file's start.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The file's length when it was opened.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file has no content.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Whether these bytes are the whole file as it was measured (a shorter file than [`HEAD_LEN`]): nothing is
    /// left to read after them.
    pub fn is_whole_file(&self) -> bool {
        self.bytes.len() < HEAD_LEN
    }

    /// The bytes, for a reader that goes on from them.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// Open the regular file `path` for reading and read its [`Head`]: one open, one status call on the handle and one
/// read for a small file. Something else at the path (a folder, a FIFO, a device) is refused by the handle's type,
/// never read: opening does not wait (see [`crate::platform::open_to_read`]).
pub fn open_regular(path: &Path) -> Result<(File, Head), Error> {
    let io = |doing: &str, e| Error::io(doing, path, e, ExitClass::Unreadable);
    let not_regular = || Error::new(ExitClass::NotFound, format!("{}: not a regular file", path.display()));
    let mut file = match crate::platform::open_to_read(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(Error::new(ExitClass::NotFound, format!("{}: no such file", path.display())));
        }
        // Windows refuses to open a folder as a file: say what is there rather than "access denied".
        Err(_) if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) => return Err(not_regular()),
        Err(e) => return Err(io("cannot open", e)),
    };
    let metadata = file.metadata().map_err(|e| io("cannot read", e))?;
    if !metadata.is_file() {
        return Err(not_regular());
    }
    let head = Head::read(&mut file, metadata.len()).map_err(|e| io("cannot read", e))?;
    Ok((file, head))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Seek, Write};

    fn file_with(bytes: &[u8]) -> (tempfile::NamedTempFile, File) {
        let mut tmp = tempfile::NamedTempFile::new().unwrap();
        tmp.write_all(bytes).unwrap();
        let file = File::open(tmp.path()).unwrap();
        (tmp, file)
    }

    #[test]
    fn a_short_file_is_read_whole_and_a_long_one_to_the_head_length() {
        let (_t, mut f) = file_with(b"hello");
        let head = Head::read(&mut f, 5).unwrap();
        assert_eq!((head.bytes(), head.len(), head.is_whole_file()), (&b"hello"[..], 5, true));
        let long = vec![b'x'; HEAD_LEN + 10];
        let (_t, mut f) = file_with(&long);
        let head = Head::read(&mut f, long.len() as u64).unwrap();
        assert_eq!((head.bytes().len(), head.is_whole_file()), (HEAD_LEN, false));
        assert_eq!(f.stream_position().unwrap(), HEAD_LEN as u64, "left just after the head");
    }

    #[test]
    fn a_file_that_reports_no_length_is_still_read() {
        let (_t, mut f) = file_with(b"grown since");
        let head = Head::read(&mut f, 0).unwrap();
        assert_eq!((head.bytes(), head.is_whole_file()), (&b"grown since"[..], true));
    }

    #[test]
    fn a_folder_or_a_missing_path_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let err = open_regular(dir.path()).unwrap_err();
        assert_eq!(err.class(), ExitClass::NotFound);
        assert!(err.message().ends_with("not a regular file"), "{}", err.message());
        let err = open_regular(&dir.path().join("gone.txt")).unwrap_err();
        assert_eq!(err.class(), ExitClass::NotFound);
        assert!(err.message().ends_with("no such file"), "{}", err.message());
    }
}
