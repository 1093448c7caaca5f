//! The decisions the Windows side of [`super`] makes, as pure functions compiled on every platform so their unit
//! tests run anywhere (Wine cannot make junctions, symbolic links or alternate data streams): which reparse points
//! are links that must not be followed, how a path beneath a folder splits into plain names, which
//! streams `GetFileInformationByHandleEx(FileStreamInfo)` lists that must be copied, and when
//! `SetFileInformationByHandle(FileRenameInfoEx)` is missing so `ReplaceFileW` has to do the swap.

/// `IO_REPARSE_TAG_MOUNT_POINT`: a junction (or a volume mount point).
pub const IO_REPARSE_TAG_MOUNT_POINT: u32 = 0xA000_0003;
/// `IO_REPARSE_TAG_SYMLINK`: a symbolic link (also what an SMB client shows for a Samba symlink).
pub const IO_REPARSE_TAG_SYMLINK: u32 = 0xA000_000C;
/// `IO_REPARSE_TAG_LX_SYMLINK`: a symbolic link made by WSL.
pub const IO_REPARSE_TAG_LX_SYMLINK: u32 = 0xA000_001D;
/// The "name surrogate" bit of a reparse tag (`IsReparseTagNameSurrogate`): Microsoft's mark for a reparse point that
/// stands for another named entity, i.e. a link of some kind.
pub const NAME_SURROGATE_BIT: u32 = 0x2000_0000;

/// `FILE_RENAME_FLAG_REPLACE_IF_EXISTS` of `FILE_RENAME_INFO.Flags` (FileRenameInfoEx).
pub const FILE_RENAME_FLAG_REPLACE_IF_EXISTS: u32 = 0x1;
/// `FILE_RENAME_FLAG_POSIX_SEMANTICS`: replace the target even while it is open (with delete sharing), as
/// `rename(2)` does.
pub const FILE_RENAME_FLAG_POSIX_SEMANTICS: u32 = 0x2;

/// What kind of link a reparse point with this tag is, when it is one fci-connector must not pass through: symbolic
/// links and junctions, and any other tag Microsoft marks as a name surrogate (a link to another name). Every other
/// reparse point is a file or folder in its own right and keeps working: deduplicated files, cloud-tiered and
/// OneDrive placeholders, HSM-migrated files, WOF-compressed files. `0` (no reparse point) is never refused.
pub fn refused_reparse_tag(tag: u32) -> Option<&'static str> {
    match tag {
        0 => None,
        IO_REPARSE_TAG_SYMLINK | IO_REPARSE_TAG_LX_SYMLINK => Some("symbolic link"),
        IO_REPARSE_TAG_MOUNT_POINT => Some("junction"),
        t if t & NAME_SURROGATE_BIT != 0 => Some("link (name-surrogate reparse point)"),
        _ => None,
    }
}

/// Windows error codes that say the file system, share or Windows version has no `FileRenameInfoEx` (or no POSIX
/// rename, or no `RootDirectory`-relative rename): then the swap falls back to `ReplaceFileW`. Anything else (access
/// denied, sharing violation, ...) is a real failure of the rename, reported as it is.
pub fn rename_ex_unsupported(code: i32) -> bool {
    const ERROR_INVALID_FUNCTION: i32 = 1;
    const ERROR_NOT_SUPPORTED: i32 = 50;
    const ERROR_INVALID_PARAMETER: i32 = 87;
    const ERROR_CALL_NOT_IMPLEMENTED: i32 = 120;
    matches!(code, ERROR_INVALID_FUNCTION | ERROR_NOT_SUPPORTED | ERROR_INVALID_PARAMETER | ERROR_CALL_NOT_IMPLEMENTED)
}

const BACKSLASH: u16 = b'\\' as u16;
const SLASH: u16 = b'/' as u16;
const COLON: u16 = b':' as u16;
const DOT: u16 = b'.' as u16;

fn is_sep(c: u16) -> bool {
    c == BACKSLASH || c == SLASH
}

fn eq_ascii_ci(a: &[u16], b: &str) -> bool {
    a.len() == b.len()
        && a.iter().zip(b.bytes()).all(|(&x, y)| u8::try_from(x).is_ok_and(|x| x.eq_ignore_ascii_case(&y)))
}

/// Why a path component cannot be used as one step beneath a folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadComponent {
    /// `..`: would climb out of the folder.
    Parent,
    /// A `:` (a drive letter or a stream name) where only a plain name may be.
    Colon,
    /// A name that is empty or contains a separator or NUL.
    NotAName,
}

/// Check that `name` is a single plain file or folder name: not empty, not `.` or `..`, no separator, no `:` (no
/// stream or drive syntax), no NUL.
pub fn check_component(name: &[u16]) -> Result<(), BadComponent> {
    if name.is_empty() || name == [DOT] || name.iter().any(|&c| is_sep(c) || c == 0) {
        return Err(BadComponent::NotAName);
    }
    if name == [DOT, DOT] {
        return Err(BadComponent::Parent);
    }
    if name.contains(&COLON) {
        return Err(BadComponent::Colon);
    }
    Ok(())
}

/// The components of `relative` (a path beneath a folder), split on `\` and `/`; empty components and `.` are
/// dropped; `..`, a `:` or an absolute path are refused, so the result always stays beneath the folder.
pub fn split_relative(relative: &[u16]) -> Result<Vec<&[u16]>, BadComponent> {
    if relative.first().is_some_and(|&c| is_sep(c)) {
        return Err(BadComponent::NotAName);
    }
    let mut out = Vec::new();
    for part in relative.split(|&c| is_sep(c)) {
        if part.is_empty() || part == [DOT] {
            continue;
        }
        check_component(part)?;
        out.push(part);
    }
    Ok(out)
}

/// A named data stream to copy, from the names `FileStreamInfo` lists (`::$DATA` is the file's content,
/// `:Zone.Identifier:$DATA` a named stream): `Some(":Zone.Identifier:$DATA")` to append to a file's path to open
/// that stream, `None` for the unnamed stream and for anything that is not a `$DATA` stream.
pub fn named_data_stream(listed: &[u16]) -> Option<&[u16]> {
    if listed.first() != Some(&COLON) {
        return None;
    }
    let rest = &listed[1..];
    let type_at = rest.iter().position(|&c| c == COLON)?;
    let (name, kind) = (&rest[..type_at], &rest[type_at + 1..]);
    if name.is_empty() || !eq_ascii_ci(kind, "$DATA") || name.iter().any(|&c| is_sep(c) || c == 0) {
        return None;
    }
    Some(listed)
}

/// One entry of a `FILE_STREAM_INFO` list: the stream's name as listed and its size in bytes.
#[derive(Debug, PartialEq, Eq)]
pub struct ListedStream {
    pub name: Vec<u16>,
    pub size: u64,
}

/// Parse the buffer `GetFileInformationByHandleEx(FileStreamInfo)` filled: `FILE_STREAM_INFO` entries chained by
/// `NextEntryOffset` (0 ends the list). Layout: NextEntryOffset u32, StreamNameLength u32 (bytes), StreamSize i64,
/// StreamAllocationSize i64, StreamName (UTF-16, not NUL-terminated). A truncated or malformed list is an error,
/// never a shorter list: a stream silently missed would be a stream silently dropped.
pub fn parse_stream_info(buf: &[u8]) -> Result<Vec<ListedStream>, &'static str> {
    const HEADER: usize = 24;
    let mut out = Vec::new();
    let mut at = 0usize;
    if buf.is_empty() {
        return Ok(out);
    }
    loop {
        let entry = buf.get(at..).filter(|e| e.len() >= HEADER).ok_or("stream list entry past the buffer's end")?;
        let u32_at = |i: usize| u32::from_le_bytes([entry[i], entry[i + 1], entry[i + 2], entry[i + 3]]);
        let next = u32_at(0) as usize;
        let name_len = u32_at(4) as usize;
        let size = i64::from_le_bytes(entry[8..16].try_into().map_err(|_| "short entry")?);
        if !name_len.is_multiple_of(2) {
            return Err("odd stream name length");
        }
        let name_bytes = entry.get(HEADER..HEADER + name_len).ok_or("stream name past the buffer's end")?;
        let name = name_bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        out.push(ListedStream { name, size: u64::try_from(size).map_err(|_| "negative stream size")? });
        if next == 0 {
            return Ok(out);
        }
        if next < HEADER {
            return Err("stream list entries overlap");
        }
        at += next;
    }
}

/// A `FILETIME`-style count of 100 ns intervals since 1601-01-01 (as `FILE_BASIC_INFO` has them) as a
/// [`std::time::SystemTime`]; `None` for 0 (the file system keeps no such time) and for values before 1970 that
/// the platform cannot represent.
pub fn filetime_to_system(intervals: i64) -> Option<std::time::SystemTime> {
    /// 100 ns intervals between 1601-01-01 and 1970-01-01.
    const UNIX_EPOCH_AS_FILETIME: i64 = 116_444_736_000_000_000;
    if intervals <= 0 {
        return None;
    }
    let since_unix = intervals - UNIX_EPOCH_AS_FILETIME;
    let base = std::time::UNIX_EPOCH;
    if since_unix >= 0 {
        let d = std::time::Duration::new((since_unix / 10_000_000) as u64, ((since_unix % 10_000_000) * 100) as u32);
        base.checked_add(d)
    } else {
        let back = -since_unix;
        let d = std::time::Duration::new((back / 10_000_000) as u64, ((back % 10_000_000) * 100) as u32);
        base.checked_sub(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<u16> {
        s.encode_utf16().collect()
    }

    fn text(v: &[u16]) -> String {
        String::from_utf16_lossy(v)
    }

    #[test]
    fn links_are_refused_other_reparse_points_are_not() {
        assert_eq!(refused_reparse_tag(IO_REPARSE_TAG_SYMLINK), Some("symbolic link"));
        assert_eq!(refused_reparse_tag(IO_REPARSE_TAG_MOUNT_POINT), Some("junction"));
        assert_eq!(refused_reparse_tag(IO_REPARSE_TAG_LX_SYMLINK), Some("symbolic link"));
        // IO_REPARSE_TAG_GLOBAL_REPARSE and IO_REPARSE_TAG_WCI_LINK_1: name surrogates, so links too.
        assert!(refused_reparse_tag(0xA000_0019).is_some());
        assert!(refused_reparse_tag(0xA000_0027).is_some());
        for (tag, what) in [
            (0, "none"),
            (0x8000_0013, "IO_REPARSE_TAG_DEDUP"),
            (0x9000_001A, "IO_REPARSE_TAG_CLOUD"),
            (0x9000_601A, "IO_REPARSE_TAG_CLOUD_6 (OneDrive)"),
            (0x9000_F01A, "IO_REPARSE_TAG_CLOUD_MASK"),
            (0xC000_0004, "IO_REPARSE_TAG_HSM"),
            (0x8000_0006, "IO_REPARSE_TAG_HSM2"),
            (0x8000_0017, "IO_REPARSE_TAG_WOF"),
            (0x8000_0012, "IO_REPARSE_TAG_DFSR"),
            (0x8000_001B, "IO_REPARSE_TAG_APPEXECLINK"),
            (0x8000_0023, "IO_REPARSE_TAG_AF_UNIX"),
        ] {
            assert_eq!(refused_reparse_tag(tag), None, "{what} ({tag:#x}) must keep working");
        }
    }

    #[test]
    fn missing_rename_ex_falls_back_other_errors_do_not() {
        for code in [1, 50, 87, 120] {
            assert!(rename_ex_unsupported(code), "{code}");
        }
        // access denied, sharing violation, file not found, disk full
        for code in [5, 32, 2, 112] {
            assert!(!rename_ex_unsupported(code), "{code}");
        }
    }

    #[test]
    fn components_stay_beneath_the_folder() {
        let parts = split_relative(&w(r"Finance Dept\2024/./Q3  report"))
            .map(|v| v.iter().map(|p| text(p)).collect::<Vec<_>>());
        assert_eq!(parts, Ok(vec!["Finance Dept".to_string(), "2024".to_string(), "Q3  report".to_string()]));
        assert_eq!(split_relative(&w("")), Ok(vec![]));
        assert_eq!(split_relative(&w(r"a\..\..\Windows")), Err(BadComponent::Parent));
        assert_eq!(split_relative(&w(r"a\C:\Windows")), Err(BadComponent::Colon));
        assert_eq!(split_relative(&w(r"file.txt:hidden")), Err(BadComponent::Colon));
        assert_eq!(split_relative(&w(r"\Windows")), Err(BadComponent::NotAName));
        assert_eq!(split_relative(&w("a\0b")), Err(BadComponent::NotAName));
    }

    #[test]
    fn one_component_is_one_plain_name() {
        assert_eq!(check_component(&w("Résumé – Zoë.txt")), Ok(()));
        assert_eq!(check_component(&w(".~fci-0a1b.tmp")), Ok(()));
        assert_eq!(check_component(&w("..")), Err(BadComponent::Parent));
        assert_eq!(check_component(&w(".")), Err(BadComponent::NotAName));
        assert_eq!(check_component(&w("")), Err(BadComponent::NotAName));
        assert_eq!(check_component(&w(r"a\b")), Err(BadComponent::NotAName));
        assert_eq!(check_component(&w("a/b")), Err(BadComponent::NotAName));
        assert_eq!(check_component(&w("x:$DATA")), Err(BadComponent::Colon));
    }

    #[test]
    fn stream_names() {
        let keep = |s: &str| named_data_stream(&w(s)).map(text);
        assert_eq!(keep("::$DATA"), None, "the unnamed stream is the content, not a stream to copy");
        assert_eq!(
            keep(":FSRM{ef88f9e5-bd34-4d3b-a8e3-c6b6ef2dd4bb}:$DATA").as_deref(),
            Some(":FSRM{ef88f9e5-bd34-4d3b-a8e3-c6b6ef2dd4bb}:$DATA")
        );
        assert_eq!(keep(":Zone.Identifier:$DATA").as_deref(), Some(":Zone.Identifier:$DATA"));
        assert_eq!(keep(":name:$data").as_deref(), Some(":name:$data"));
        assert_eq!(keep(":Müller 日本:$DATA").as_deref(), Some(":Müller 日本:$DATA"));
        assert_eq!(keep(":x:$INDEX_ALLOCATION"), None);
        assert_eq!(keep(":x:$DATAX"), None);
        assert_eq!(keep("x:$DATA"), None);
        assert_eq!(keep(":x"), None);
        assert_eq!(keep(r":..\..\evil:$DATA"), None);
        assert_eq!(keep(""), None);
    }

    /// A FILE_STREAM_INFO list as Windows fills it: entries 8-byte aligned, the last with NextEntryOffset 0.
    fn stream_info(entries: &[(&str, i64)]) -> Vec<u8> {
        let mut buf = Vec::new();
        for (i, (name, size)) in entries.iter().enumerate() {
            let name: Vec<u16> = name.encode_utf16().collect();
            let len = 24 + name.len() * 2;
            let padded = len.div_ceil(8) * 8;
            let next = if i + 1 == entries.len() { 0 } else { padded as u32 };
            buf.extend_from_slice(&next.to_le_bytes());
            buf.extend_from_slice(&((name.len() * 2) as u32).to_le_bytes());
            buf.extend_from_slice(&size.to_le_bytes());
            buf.extend_from_slice(&(size.div_euclid(4096) * 4096 + 4096).to_le_bytes());
            for c in name {
                buf.extend_from_slice(&c.to_le_bytes());
            }
            if next != 0 {
                buf.resize(buf.len() + (padded - len), 0);
            }
        }
        buf
    }

    #[test]
    fn stream_lists_parse_and_only_named_data_streams_are_copied() {
        let buf = stream_info(&[("::$DATA", 1234), (":FSRM{ef88}:$DATA", 300), (":Zone.Identifier:$DATA", 26)]);
        let listed = parse_stream_info(&buf).expect("parses");
        assert_eq!(listed.len(), 3);
        assert_eq!(listed[0], ListedStream { name: w("::$DATA"), size: 1234 });
        assert_eq!(listed[2].size, 26);
        let copied: Vec<String> = listed.iter().filter_map(|s| named_data_stream(&s.name)).map(text).collect();
        assert_eq!(copied, [":FSRM{ef88}:$DATA", ":Zone.Identifier:$DATA"]);
        assert_eq!(parse_stream_info(&[]), Ok(vec![]));
    }

    #[test]
    fn malformed_stream_lists_are_errors_not_short_lists() {
        let buf = stream_info(&[("::$DATA", 1), (":a:$DATA", 2)]);
        assert!(parse_stream_info(&buf[..buf.len() - 2]).is_err(), "truncated name");
        assert!(parse_stream_info(&buf[..30]).is_err(), "truncated second entry");
        let mut overlapping = buf.clone();
        overlapping[0..4].copy_from_slice(&8u32.to_le_bytes());
        assert!(parse_stream_info(&overlapping).is_err());
        let mut negative = buf;
        negative[8..16].copy_from_slice(&(-1i64).to_le_bytes());
        assert!(parse_stream_info(&negative).is_err());
    }

    #[test]
    fn filetimes() {
        use std::time::{Duration, UNIX_EPOCH};
        assert_eq!(filetime_to_system(0), None);
        assert_eq!(filetime_to_system(116_444_736_000_000_000), Some(UNIX_EPOCH));
        assert_eq!(
            filetime_to_system(116_444_736_000_000_000 + 15_000_000),
            Some(UNIX_EPOCH + Duration::from_millis(1500))
        );
        assert_eq!(
            filetime_to_system(116_444_736_000_000_000 - 10_000_000),
            UNIX_EPOCH.checked_sub(Duration::from_secs(1))
        );
    }
}
