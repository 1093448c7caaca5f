//! Legacy binary Office files in OLE compound files (.doc, .xls, .ppt), best effort: Word's text through its
//! piece table, Excel's cells through calamine (and its page headers, footers and comments from their records),
//! PowerPoint's text atoms; the summary property streams as
//! printable strings; any other compound file (Outlook .msg, Visio, ...) as printable strings of every stream.
//! An `EncryptedPackage` stream means an Office password or IRM protects the document: it cannot be read.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use calamine::{DataType, Reader, Xls};
use cfb::CompoundFile;
use encoding_rs::{UTF_16LE, WINDOWS_1252};

use super::budget::{Budget, read_failure};
use super::strings::{self, Strings};
use super::unreadable;
use crate::Error;

type Ole = CompoundFile<File>;

/// Push the text of the compound file; returns the format name and whether the strings fallback was used.
pub(crate) fn read(file: File, budget: &mut Budget) -> Result<(String, bool), Error> {
    let mut ole = CompoundFile::open(file).map_err(|e| unreadable(format!("not a readable OLE compound file: {e}")))?;
    if ole.is_stream("/EncryptedPackage") {
        return Err(unreadable("the document is encrypted (an Office password or IRM protects it)"));
    }
    let (format, fallback) = if ole.is_stream("/WordDocument") {
        ("doc", word(&mut ole, budget)?)
    } else if ole.is_stream("/Workbook") || ole.is_stream("/Book") {
        let (ole_back, fallback) = excel(ole, budget)?;
        ole = ole_back;
        ("xls", fallback)
    } else if ole.is_stream("/PowerPoint Document") {
        ("ppt", powerpoint(&mut ole, budget)?)
    } else {
        all_streams(&mut ole, budget)?;
        return Ok(("ole".into(), true));
    };
    for properties in ["/\u{5}SummaryInformation", "/\u{5}DocumentSummaryInformation"] {
        if ole.is_stream(properties) {
            let stream = ole.open_stream(properties).map_err(read_failure)?;
            strings::read(stream, budget)?;
        }
    }
    Ok((format.into(), fallback))
}

/// A whole stream, refused above `max_buffered_bytes`.
fn read_stream(ole: &mut Ole, path: &str, budget: &Budget) -> Result<Vec<u8>, Error> {
    let cap = budget.limits.max_buffered_bytes;
    let stream = ole.open_stream(path).map_err(read_failure)?;
    if stream.len() > cap {
        return Err(unreadable(format!(
            "stream {} is larger than max_buffered_bytes ({cap} bytes)",
            path.trim_start_matches('/')
        )));
    }
    let mut bytes = Vec::new();
    stream.take(cap).read_to_end(&mut bytes).map_err(read_failure)?;
    Ok(bytes)
}

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

/// Word 97-2003: the document text through the piece table; the strings of the main stream if that fails.
fn word(ole: &mut Ole, budget: &mut Budget) -> Result<bool, Error> {
    let main = read_stream(ole, "/WordDocument", budget)?;
    let flags = u16_at(&main, 0x0A).unwrap_or(0);
    if flags & 0x0100 != 0 {
        return Err(unreadable("the document is encrypted (a Word password protects it)"));
    }
    let table_name = if flags & 0x0200 != 0 { "/1Table" } else { "/0Table" };
    let table = if ole.is_stream(table_name) { read_stream(ole, table_name, budget)? } else { Vec::new() };
    match word_pieces(&main, &table) {
        Some(pieces) => {
            let mut in_field_code = 0u32;
            for piece in pieces {
                let text = piece_text(&main, piece).unwrap_or_default();
                budget.push(&clean_word_text(&text, &mut in_field_code))?;
                budget.check_time()?;
            }
            Ok(false)
        }
        None => {
            strings::read(&main[..], budget)?;
            Ok(true)
        }
    }
}

/// One run of text in the main stream: its byte offset, its length in characters, and whether it is stored as
/// one byte per character.
#[derive(Clone, Copy, Debug)]
struct Piece {
    offset: usize,
    chars: usize,
    compressed: bool,
}

/// The piece table from the Clx in the table stream, located through the File Information Block.
fn word_pieces(main: &[u8], table: &[u8]) -> Option<Vec<Piece>> {
    if u16_at(main, 0)? != 0xA5EC {
        return None;
    }
    // FibBase (32 bytes), then three variable-length arrays; fcClx is the 34th fc/lcb pair of the last.
    let csw = usize::from(u16_at(main, 32)?);
    let cslw_at = 34 + csw * 2;
    let cslw = usize::from(u16_at(main, cslw_at)?);
    let count_at = cslw_at + 2 + cslw * 4;
    let pairs = usize::from(u16_at(main, count_at)?);
    if pairs <= 33 {
        return None;
    }
    let clx_at = count_at + 2 + 33 * 8;
    let fc_clx = u32_at(main, clx_at)? as usize;
    let lcb_clx = u32_at(main, clx_at + 4)? as usize;
    let clx = table.get(fc_clx..fc_clx.checked_add(lcb_clx)?)?;
    // Skip the Prc entries (property modifiers) to the Pcdt, which holds the piece table.
    let mut at = 0;
    let plc = loop {
        match *clx.get(at)? {
            1 => at += 3 + usize::from(u16_at(clx, at + 1)?),
            2 => {
                let len = u32_at(clx, at + 1)? as usize;
                break clx.get(at + 5..(at + 5).checked_add(len)?)?;
            }
            _ => return None,
        }
    };
    let count = plc.len().checked_sub(4)? / 12;
    let mut pieces = Vec::with_capacity(count);
    for k in 0..count {
        let start = u32_at(plc, k * 4)?;
        let end = u32_at(plc, (k + 1) * 4)?;
        let fc = u32_at(plc, (count + 1) * 4 + k * 8 + 2)?;
        let compressed = fc & 0x4000_0000 != 0;
        let fc = (fc & 0x3FFF_FFFF) as usize;
        pieces.push(Piece {
            offset: if compressed { fc / 2 } else { fc },
            chars: end.checked_sub(start)? as usize,
            compressed,
        });
    }
    Some(pieces)
}

fn piece_text(main: &[u8], piece: Piece) -> Option<String> {
    let bytes = if piece.compressed { piece.chars } else { piece.chars.checked_mul(2)? };
    let data = main.get(piece.offset..piece.offset.checked_add(bytes)?)?;
    let encoding = if piece.compressed { WINDOWS_1252 } else { UTF_16LE };
    Some(encoding.decode_without_bom_handling(data).0.into_owned())
}

/// Word's special characters as plain text: paragraph and cell marks become line breaks and tabs, field codes
/// (between the field-begin and field-separator marks) are dropped, other control characters removed.
fn clean_word_text(text: &str, in_field_code: &mut u32) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{13}' => *in_field_code += 1,
            '\u{14}' | '\u{15}' => *in_field_code = in_field_code.saturating_sub(1),
            _ if *in_field_code > 0 => {}
            '\r' | '\u{0B}' | '\u{0C}' => out.push('\n'),
            '\u{07}' | '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Excel 97-2003 through calamine (which needs the whole file); returns the compound file back for the
/// property streams, and whether the strings fallback was used.
fn excel(ole: Ole, budget: &mut Budget) -> Result<(Ole, bool), Error> {
    let stream = if ole.is_stream("/Workbook") { "/Workbook" } else { "/Book" };
    let size = ole.entry(stream).map(|e| e.len()).unwrap_or(0);
    let cap = budget.limits.max_buffered_bytes;
    if size > cap {
        return Err(unreadable(format!("the workbook stream is larger than max_buffered_bytes ({cap} bytes)")));
    }
    let mut file = ole.into_inner();
    file.seek(SeekFrom::Start(0)).map_err(read_failure)?;
    let cells = match Xls::new(&mut file) {
        Ok(mut workbook) => {
            let mut text = String::new();
            for (name, range) in workbook.worksheets() {
                text.push_str(&name);
                text.push('\n');
                for row in range.rows() {
                    for cell in row.iter().filter(|c| !c.is_empty()) {
                        text.push_str(&cell.to_string());
                        text.push('\t');
                    }
                    text.push('\n');
                }
            }
            Some(text)
        }
        Err(calamine::XlsError::Password) => {
            return Err(unreadable("the workbook is encrypted (an Excel password protects it)"));
        }
        Err(_) => None,
    };
    file.seek(SeekFrom::Start(0)).map_err(read_failure)?;
    let mut ole = CompoundFile::open(file).map_err(|e| unreadable(format!("not a readable OLE compound file: {e}")))?;
    match cells {
        Some(text) => {
            budget.push(&text)?;
            // calamine reads cells only; page headers, footers and cell comments are records of their own.
            let workbook = read_stream(&mut ole, stream, budget)?;
            budget.push(&excel_headers_and_comments(&workbook))?;
            Ok((ole, false))
        }
        None => {
            let main = ole.open_stream(stream).map_err(read_failure)?;
            strings::read(main, budget)?;
            Ok((ole, true))
        }
    }
}

/// The text of HEADER and FOOTER records and of the text objects (TXO) that hold cell comments.
fn excel_headers_and_comments(workbook: &[u8]) -> String {
    const HEADER: u16 = 0x0014;
    const FOOTER: u16 = 0x0015;
    const TXO: u16 = 0x01B6;
    const CONTINUE: u16 = 0x003C;
    let mut text = String::new();
    let mut at = 0;
    let mut previous = 0u16;
    let mut comment_chars = 0usize;
    while let (Some(kind), Some(len)) = (u16_at(workbook, at), u16_at(workbook, at + 2)) {
        let body = at + 4;
        let end = (body + usize::from(len)).min(workbook.len());
        let data = &workbook[body.min(end)..end];
        match kind {
            // XLUnicodeString: character count, a flag byte (bit 0: two bytes per character), the characters.
            HEADER | FOOTER if data.len() > 3 => {
                let chars = usize::from(u16_at(data, 0).unwrap_or(0));
                text.push_str(&biff_chars(&data[3..], data[2] & 1 != 0, chars));
                text.push('\n');
            }
            TXO => comment_chars = usize::from(u16_at(data, 10).unwrap_or(0)),
            // The first CONTINUE after a TXO holds its characters, after the same flag byte.
            CONTINUE if previous == TXO && !data.is_empty() => {
                text.push_str(&biff_chars(&data[1..], data[0] & 1 != 0, comment_chars));
                text.push('\n');
            }
            _ => {}
        }
        previous = kind;
        at = end;
    }
    text
}

/// Up to `chars` characters stored one byte each (Latin-1) or two (UTF-16LE).
fn biff_chars(data: &[u8], wide: bool, chars: usize) -> String {
    if wide {
        let bytes = &data[..data.len().min(chars * 2)];
        UTF_16LE.decode_without_bom_handling(bytes).0.into_owned()
    } else {
        let bytes = &data[..data.len().min(chars)];
        WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned()
    }
}

/// PowerPoint 97-2003: the text atoms of the main stream (slides, notes, outlines), walking its records.
fn powerpoint(ole: &mut Ole, budget: &mut Budget) -> Result<bool, Error> {
    const TEXT_CHARS: u16 = 0x0FA0;
    const TEXT_BYTES: u16 = 0x0FA8;
    let data = read_stream(ole, "/PowerPoint Document", budget)?;
    let mut at = 0;
    while let (Some(version), Some(kind), Some(len)) = (u16_at(&data, at), u16_at(&data, at + 2), u32_at(&data, at + 4))
    {
        let body = at + 8;
        if version & 0x000F == 0x000F {
            // A container: its children follow its header.
            at = body;
            continue;
        }
        let end = body.saturating_add(len as usize).min(data.len());
        let encoding = match kind {
            TEXT_CHARS => Some(UTF_16LE),
            TEXT_BYTES => Some(WINDOWS_1252),
            _ => None,
        };
        if let Some(encoding) = encoding {
            let text = encoding.decode_without_bom_handling(&data[body.min(end)..end]).0;
            budget.push(&text.replace(['\r', '\u{0B}'], "\n"))?;
            budget.separate("\n")?;
        }
        at = end;
    }
    Ok(false)
}

/// An unknown compound file: printable strings of every stream.
fn all_streams(ole: &mut Ole, budget: &mut Budget) -> Result<(), Error> {
    let paths: Vec<_> = ole.walk().filter(|e| e.is_stream()).map(|e| e.path().to_path_buf()).collect();
    for path in paths {
        let mut strings = Strings::default();
        let mut stream = ole.open_stream(&path).map_err(read_failure)?;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = stream.read(&mut buf).map_err(read_failure)?;
            if n == 0 {
                break;
            }
            strings.feed(&buf[..n], budget)?;
        }
        strings.finish(budget)?;
        budget.check_time()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_special_characters() {
        let mut field = 0;
        let text = "Total\u{7}4111\r\u{13} PAGE \u{14}3\u{15} end\u{1}";
        assert_eq!(clean_word_text(text, &mut field), "Total\t4111\n3 end");
    }

    #[test]
    fn hostile_fib_is_rejected_not_panicking() {
        assert!(word_pieces(&[0xEC, 0xA5, 0, 0], &[]).is_none());
        let mut main = vec![0u8; 1024];
        main[0] = 0xEC;
        main[1] = 0xA5;
        main[32] = 0xFF;
        main[33] = 0xFF;
        assert!(word_pieces(&main, &[1, 2, 3]).is_none());
    }
}
