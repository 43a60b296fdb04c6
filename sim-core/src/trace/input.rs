//! Reading trace files: gzip detection, bounded line reading, field splitting and number
//! parsing that never panics on any input.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::report::TraceError;

/// Longest line a reader accepts; longer lines (binary data, a file without newlines) are
/// reported as bad rows without being held in memory.
pub(crate) const MAX_LINE_BYTES: usize = 1 << 20;

/// Opens `path` for buffered reading, decompressing it on the fly when it starts with the
/// gzip magic bytes (`1f 8b`), whatever its name.
pub(crate) fn open_input(path: &Path, buf_bytes: usize) -> Result<Box<dyn BufRead>, TraceError> {
    let label = path.display().to_string();
    let file = File::open(path).map_err(|e| TraceError::io(&label, e))?;
    let mut reader = BufReader::with_capacity(buf_bytes, file);
    let is_gzip = {
        let head = reader.fill_buf().map_err(|e| TraceError::io(&label, e))?;
        head.starts_with(&[0x1f, 0x8b])
    };
    if is_gzip {
        Ok(Box::new(BufReader::with_capacity(
            buf_bytes.max(64 * 1024),
            MultiGzDecoder::new(reader),
        )))
    } else {
        Ok(Box::new(reader))
    }
}

/// Wraps any reader, decompressing gzip data when it starts with the gzip magic bytes.
pub(crate) fn maybe_gunzip<R: Read + 'static>(reader: R) -> io::Result<Box<dyn BufRead>> {
    let mut reader = BufReader::with_capacity(64 * 1024, reader);
    let is_gzip = reader.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    if is_gzip {
        Ok(Box::new(BufReader::with_capacity(
            64 * 1024,
            MultiGzDecoder::new(reader),
        )))
    } else {
        Ok(Box::new(reader))
    }
}

/// One line as read: its text (without the line ending), or the fact that it was too long.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line<'a> {
    /// The line's bytes, without `\n` or `\r\n`.
    Text(&'a [u8]),
    /// The line exceeded [`MAX_LINE_BYTES`]; it was skipped.
    TooLong,
}

/// Reads lines one at a time into a reused buffer, counting them (1-based), stripping a UTF-8
/// byte-order mark from the first line and never holding more than `max_bytes` of one line.
pub(crate) struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// Start of the last line's text in `buf` (after a byte-order mark).
    text_start: usize,
    line_no: u64,
    max_bytes: usize,
}

impl<R: BufRead> LineReader<R> {
    /// A reader with the default line limit.
    pub(crate) fn new(inner: R) -> Self {
        Self::with_limit(inner, MAX_LINE_BYTES)
    }

    /// A reader that skips lines longer than `max_bytes`.
    pub(crate) fn with_limit(inner: R, max_bytes: usize) -> Self {
        LineReader {
            inner,
            buf: Vec::new(),
            text_start: 0,
            line_no: 0,
            max_bytes,
        }
    }

    /// Number of the line last returned (0 before the first).
    pub(crate) fn line_no(&self) -> u64 {
        self.line_no
    }

    /// The next row of a line-based table and its parse: blank lines and those `skip` names
    /// (a header) are passed over, a line longer than the limit is a bad row, and a read
    /// error names the line it stopped at in `label`. `Ok(None)` at the end of the input.
    pub(crate) fn next_text_row<T>(
        &mut self,
        label: &str,
        skip: impl Fn(u64, &[u8]) -> bool,
        parse: impl FnOnce(u64, &[u8]) -> Result<T, String>,
    ) -> super::report::NextRow<T> {
        loop {
            match self.next_line() {
                Ok(None) => return Ok(None),
                Err(e) => {
                    let line = self.line_no() + 1;
                    return Err(super::report::TraceError::io_at(label, line, e));
                }
                Ok(Some((no, Line::Text(t)))) => {
                    if t.trim_ascii().is_empty() || skip(no, t) {
                        continue;
                    }
                    return Ok(Some((no, parse(no, t))));
                }
                Ok(Some((no, Line::TooLong))) => {
                    return Ok(Some((no, Err("line longer than 1 MiB (binary data?)".into()))));
                }
            }
        }
    }

    /// The next line and its number, or `None` at the end of the input.
    pub(crate) fn next_line(&mut self) -> io::Result<Option<(u64, Line<'_>)>> {
        self.buf.clear();
        self.text_start = 0;
        let mut started = false;
        let mut too_long = false;
        loop {
            let avail = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                if !started {
                    return Ok(None);
                }
                break;
            }
            started = true;
            let (chunk, used, done) = match avail.iter().position(|&b| b == b'\n') {
                Some(i) => (&avail[..i], i + 1, true),
                None => (avail, avail.len(), false),
            };
            if !too_long {
                if self.buf.len() + chunk.len() > self.max_bytes {
                    too_long = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(chunk);
                }
            }
            self.inner.consume(used);
            if done {
                break;
            }
        }
        self.line_no += 1;
        if too_long {
            return Ok(Some((self.line_no, Line::TooLong)));
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        if self.line_no == 1 && self.buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
            self.text_start = 3;
        }
        Ok(Some((self.line_no, Line::Text(self.last_text()))))
    }

    /// The text of the last line returned (empty after a too-long line or at the start).
    pub(crate) fn last_text(&self) -> &[u8] {
        self.buf.get(self.text_start..).unwrap_or_default()
    }
}

/// Splits `line` at `sep` into exactly `N` fields (each trimmed of ASCII whitespace), or
/// returns how many fields there were.
pub(crate) fn split_exact<const N: usize>(line: &[u8], sep: u8) -> Result<[&[u8]; N], usize> {
    let mut out: [&[u8]; N] = [&[]; N];
    let mut count = 0usize;
    for field in line.split(|&b| b == sep) {
        if let Some(slot) = out.get_mut(count) {
            *slot = field.trim_ascii();
        }
        count += 1;
    }
    if count == N { Ok(out) } else { Err(count) }
}

/// A field quoted for a message: lossy UTF-8, at most 40 characters, escaped.
pub(crate) fn quote(field: &[u8]) -> String {
    let text = String::from_utf8_lossy(field);
    let mut short: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        short.push('…');
    }
    format!("{short:?}")
}

/// The field as UTF-8 text, or a message saying it is not.
pub(crate) fn text<'a>(field: &'a [u8], what: &str) -> Result<&'a str, String> {
    std::str::from_utf8(field).map_err(|_| format!("{what}: not UTF-8 text: {}", quote(field)))
}

/// A finite number (no NaN, no infinity, no overflow to infinity).
pub(crate) fn parse_f64(field: &[u8], what: &str) -> Result<f64, String> {
    let s = std::str::from_utf8(field)
        .map_err(|_| format!("{what}: not a number: {}", quote(field)))?
        .trim();
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(format!("{what}: not a finite number: {}", quote(field))),
        Err(_) => Err(format!("{what}: not a number: {}", quote(field))),
    }
}

/// A finite number that is not negative.
pub(crate) fn parse_non_negative(field: &[u8], what: &str) -> Result<f64, String> {
    let v = parse_f64(field, what)?;
    if v < 0.0 {
        return Err(format!("{what}: must not be negative, got {v}"));
    }
    Ok(v)
}

/// A whole number of seconds (written as an integer, or as a number with a zero fraction
/// such as `300.0`).
pub(crate) fn parse_secs(field: &[u8], what: &str) -> Result<i64, String> {
    let s = std::str::from_utf8(field)
        .map_err(|_| format!("{what}: not an integer: {}", quote(field)))?
        .trim();
    if let Ok(v) = s.parse::<i64>() {
        return Ok(v);
    }
    match s.parse::<f64>() {
        // 2^62 s is far beyond any trace and keeps later arithmetic away from overflow.
        Ok(v) if v.is_finite() && v.fract() == 0.0 && v.abs() < 4.6e18 => Ok(v as i64),
        _ => Err(format!("{what}: not a whole number of seconds: {}", quote(field))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line-based table through the reader loop: blank and skipped lines pass, a too-long
    /// line is a bad row, and under `Fail` the first bad row is the last item.
    #[test]
    fn text_rows_through_the_reader_loop() {
        use super::super::report::{ImportOptions, ImportReport};
        let data: &[u8] = b"head\n1\n\n  \nx\n0123456789abcdef\n2\n";
        let run = |opts: ImportOptions| {
            let mut lines = LineReader::with_limit(data, 8);
            let (mut report, mut done) = (ImportReport::default(), false);
            let mut out = Vec::new();
            while let Some(item) = report.next_record(&opts, "t.txt", &mut done, || {
                lines.next_text_row(
                    "t.txt",
                    |no, t| no == 1 && t == b"head",
                    |_, t| {
                        std::str::from_utf8(t)
                            .ok()
                            .and_then(|s| s.parse::<u32>().ok())
                            .ok_or_else(|| "not a number".to_string())
                    },
                )
            }) {
                out.push(item.map_err(|e| e.to_string()));
            }
            (out, report.rows, report.bad_rows.count)
        };
        let (skip, rows, bad) = run(ImportOptions::default());
        assert_eq!(skip, vec![Ok(1), Ok(2)]);
        assert_eq!(
            (rows, bad),
            (4, 2),
            "rows 1, x, the long line, 2; bad: x and the long line"
        );
        let (fail, rows, _) = run(ImportOptions::strict());
        assert_eq!(fail, vec![Ok(1), Err("t.txt:5: not a number".to_string())]);
        assert_eq!(rows, 2);
    }

    fn lines(data: &[u8], limit: usize) -> Vec<(u64, Option<Vec<u8>>)> {
        let mut r = LineReader::with_limit(data, limit);
        let mut out = Vec::new();
        while let Some((no, line)) = r.next_line().unwrap_or(None) {
            let text = match line {
                Line::Text(t) => Some(t.to_vec()),
                Line::TooLong => None,
            };
            out.push((no, text));
        }
        out
    }

    #[test]
    fn reads_lines_with_any_ending() {
        let got = lines(b"\xEF\xBB\xBFa\r\nb\n\nc", 100);
        assert_eq!(
            got,
            vec![
                (1, Some(b"a".to_vec())),
                (2, Some(b"b".to_vec())),
                (3, Some(Vec::new())),
                (4, Some(b"c".to_vec())),
            ]
        );
        assert!(lines(b"", 100).is_empty());
    }

    #[test]
    fn skips_overlong_lines_without_keeping_them() {
        let got = lines(b"short\n0123456789abcdef\nok\n", 8);
        assert_eq!(
            got,
            vec![(1, Some(b"short".to_vec())), (2, None), (3, Some(b"ok".to_vec()))]
        );
    }

    #[test]
    fn splits_exact_field_counts() {
        let f = split_exact::<3>(b"a;\tb ;c", b';');
        assert_eq!(f, Ok([&b"a"[..], &b"b"[..], &b"c"[..]]));
        assert_eq!(split_exact::<3>(b"a;b", b';'), Err(2));
        assert_eq!(split_exact::<2>(b"a;b;c;d", b';'), Err(4));
    }

    #[test]
    fn numbers_must_be_finite() {
        assert_eq!(parse_f64(b" 2.5 ", "x"), Ok(2.5));
        assert!(parse_f64(b"NaN", "x").is_err());
        assert!(parse_f64(b"inf", "x").is_err());
        assert!(parse_f64(b"1e400", "x").is_err());
        assert!(parse_f64(b"\xff\xfe", "x").is_err());
        assert!(parse_non_negative(b"-1", "x").is_err());
        assert_eq!(parse_secs(b"300", "t"), Ok(300));
        assert_eq!(parse_secs(b"300.0", "t"), Ok(300));
        assert!(parse_secs(b"300.5", "t").is_err());
        assert!(parse_secs(b"1e300", "t").is_err());
        assert!(parse_secs(b"99999999999999999999", "t").is_err());
    }
}
