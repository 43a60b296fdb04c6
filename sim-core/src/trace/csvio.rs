//! Comma-separated files with a header, read as byte records (so invalid UTF-8 becomes a
//! bad field, not an error) with their line numbers.

use std::io::BufRead;
use std::path::Path;

use super::input::open_input;
use super::report::{ImportOptions, ImportReport, Issue, TraceError};

/// Reads the data rows of a CSV file after checking its header.
pub(crate) struct CsvRows {
    rdr: csv::Reader<Box<dyn BufRead>>,
    record: csv::ByteRecord,
    label: String,
}

impl CsvRows {
    /// Opens `path` (plain or gzip) and checks that its header is exactly `header` (fields
    /// trimmed, a UTF-8 byte-order mark ignored).
    pub(crate) fn open(path: &Path, header: &[&str]) -> Result<Self, TraceError> {
        let label = path.display().to_string();
        let input = open_input(path, 64 * 1024)?;
        Self::from_reader(input, &label, header)
    }

    /// As [`CsvRows::open`], from any buffered reader labelled `label` in messages.
    pub(crate) fn from_reader(input: Box<dyn BufRead>, label: &str, header: &[&str]) -> Result<Self, TraceError> {
        let rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(input);
        let mut rows = CsvRows {
            rdr,
            record: csv::ByteRecord::new(),
            label: label.to_string(),
        };
        let ok = match rows.rdr.read_byte_record(&mut rows.record) {
            Ok(true) => {
                rows.record.len() == header.len()
                    && rows.record.iter().zip(header).enumerate().all(|(i, (got, want))| {
                        let got = got.trim_ascii();
                        let got = if i == 0 {
                            got.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(got)
                        } else {
                            got
                        };
                        got == want.as_bytes()
                    })
            }
            Ok(false) => {
                return Err(TraceError::Format(Issue::in_file(
                    label,
                    format!("empty file; expected the header `{}`", header.join(",")),
                )));
            }
            Err(e) => return Err(csv_error(label, e)),
        };
        if !ok {
            return Err(TraceError::Format(Issue::at(
                label,
                1,
                format!("expected the header `{}`", header.join(",")),
            )));
        }
        Ok(rows)
    }

    /// The file label used in messages.
    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    /// The next data row and its line, or `None` at the end.
    pub(crate) fn next_row(&mut self) -> Result<Option<(u64, &csv::ByteRecord)>, TraceError> {
        read_row(&mut self.rdr, &mut self.record, &self.label)
    }

    /// A streaming reader's next item: the next data row parsed by `parse` (its line and
    /// record), through [`ImportReport::next_record`] with this file's label.
    pub(crate) fn next_record<T>(
        &mut self,
        report: &mut ImportReport,
        opts: &ImportOptions,
        done: &mut bool,
        parse: impl Fn(u64, &csv::ByteRecord) -> Result<T, String>,
    ) -> Option<Result<T, TraceError>> {
        let CsvRows { rdr, record, label } = self;
        report.next_record(opts, label, done, || {
            Ok(read_row(rdr, record, label)?.map(|(line, record)| (line, parse(line, record))))
        })
    }
}

/// The next data row of `rdr` (read into `record`) and its line, or `None` at the end.
fn read_row<'r>(
    rdr: &mut csv::Reader<Box<dyn BufRead>>,
    record: &'r mut csv::ByteRecord,
    label: &str,
) -> Result<Option<(u64, &'r csv::ByteRecord)>, TraceError> {
    match rdr.read_byte_record(record) {
        Ok(true) => {
            let line = record.position().map_or(0, csv::Position::line);
            Ok(Some((line, &*record)))
        }
        Ok(false) => Ok(None),
        Err(e) => Err(csv_error(label, e)),
    }
}

/// A CSV error as a [`TraceError`] (I/O errors keep their kind).
pub(crate) fn csv_error(label: &str, e: csv::Error) -> TraceError {
    let line = e.position().map(csv::Position::line);
    match e.into_kind() {
        csv::ErrorKind::Io(io) => match line {
            Some(l) => TraceError::io_at(label, l, io),
            None => TraceError::io(label, io),
        },
        other => TraceError::Format(Issue {
            file: label.to_string(),
            line,
            message: format!("unreadable CSV: {other:?}"),
        }),
    }
}

/// The fields of a record, or a message when there are not exactly `N`.
pub(crate) fn fields<'r, const N: usize>(
    record: &'r csv::ByteRecord,
    names: &[&str; N],
) -> Result<[&'r [u8]; N], String> {
    if record.len() != N {
        return Err(format!(
            "expected {N} fields ({}), found {}",
            names.join(","),
            record.len()
        ));
    }
    let mut out: [&[u8]; N] = [&[]; N];
    for (slot, field) in out.iter_mut().zip(record.iter()) {
        *slot = field;
    }
    Ok(out)
}
