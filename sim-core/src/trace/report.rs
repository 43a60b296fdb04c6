//! Import options, problem reports and errors shared by every trace importer.

use std::fmt;

/// What an importer does with a row it cannot use (unparsable, out of range, wrong shape).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BadRows {
    /// Skip the row (its data becomes absent), count it and keep its message.
    #[default]
    Skip,
    /// Stop at the first bad row and return it as [`TraceError::Row`].
    Fail,
}

/// Options every importer takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImportOptions {
    /// Skip or fail on bad rows.
    pub bad_rows: BadRows,
    /// How many messages each [`IssueLog`] keeps (every issue is counted regardless).
    pub max_messages: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            bad_rows: BadRows::Skip,
            max_messages: 20,
        }
    }
}

impl ImportOptions {
    /// Default options with [`BadRows::Fail`].
    pub fn strict() -> Self {
        ImportOptions {
            bad_rows: BadRows::Fail,
            ..ImportOptions::default()
        }
    }
}

/// One problem in an input file, rendered `file:line: message` (or `file: message` when the
/// problem is about the file as a whole).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    /// The file, as the user named it (joined with the directory given to the importer).
    pub file: String,
    /// 1-based line, when the problem is on one line.
    pub line: Option<u64>,
    /// What is wrong.
    pub message: String,
}

impl Issue {
    /// A problem on one line.
    pub fn at(file: &str, line: u64, message: impl Into<String>) -> Self {
        Issue {
            file: file.to_string(),
            line: Some(line),
            message: message.into(),
        }
    }
    /// A problem with a file as a whole.
    pub fn in_file(file: &str, message: impl Into<String>) -> Self {
        Issue {
            file: file.to_string(),
            line: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// A counted kind of issue: how many there were and the first few of them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IssueLog {
    /// Total number of issues of this kind.
    pub count: u64,
    /// The first [`ImportOptions::max_messages`] of them, in input order.
    pub first: Vec<Issue>,
}

impl IssueLog {
    /// Counts `issue` and keeps it if fewer than `keep` are kept so far.
    pub fn record(&mut self, issue: Issue, keep: usize) {
        self.count += 1;
        if self.first.len() < keep {
            self.first.push(issue);
        }
    }
    /// Whether no issue was recorded.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
    /// Appends `other` (counts add up; messages are kept up to `keep`).
    pub fn merge(&mut self, other: IssueLog, keep: usize) {
        self.count += other.count;
        for issue in other.first {
            if self.first.len() >= keep {
                break;
            }
            self.first.push(issue);
        }
    }
    /// The kept messages rendered `file:line: message`.
    pub fn messages(&self) -> Vec<String> {
        self.first.iter().map(Issue::to_string).collect()
    }
}

/// What an import read, dropped and noticed. Every importer returns one beside its data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Data rows (or lines) read, headers excluded.
    pub rows: u64,
    /// Samples produced (before duplicates are dropped).
    pub samples: u64,
    /// Rows that could not be used (skipped under [`BadRows::Skip`]).
    pub bad_rows: IssueLog,
    /// Samples that fell on a step a workload already had a sample for (the first is kept).
    pub duplicates: IssueLog,
    /// Runs of missing steps inside a workload's span (left absent, never filled in).
    pub gaps: IssueLog,
    /// Total missing steps over all gaps.
    pub absent_steps: u64,
    /// Samples that came earlier in time than the previous sample of the same workload
    /// (sorted, not an error).
    pub unsorted: u64,
    /// Samples whose usage exceeds the provisioned capacity (kept as they are).
    pub over_capacity: u64,
    /// Largest distance, in seconds, between a sample's own timestamp and the step it was
    /// placed on (see the time-grid rules in the [module docs](crate::trace)).
    pub max_snap_secs: u64,
    /// Other facts worth knowing: rounded fragment durations, metadata that disagrees
    /// between rows, workloads without any sample.
    pub notes: IssueLog,
}

/// What a streaming reader's source gives for its next row: the row's line and its parse
/// (`Err` with a message for a bad row), `Ok(None)` at the end of the input, or a read error.
pub(crate) type NextRow<T> = Result<Option<(u64, Result<T, String>)>, TraceError>;

impl ImportReport {
    /// Records a bad row: an error under [`BadRows::Fail`], otherwise counted and kept.
    pub(crate) fn bad_row(&mut self, opts: &ImportOptions, issue: Issue) -> Result<(), TraceError> {
        match opts.bad_rows {
            BadRows::Fail => Err(TraceError::Row(issue)),
            BadRows::Skip => {
                self.bad_rows.record(issue, opts.max_messages);
                Ok(())
            }
        }
    }
    /// Counts one data row of a streaming reader and says what the reader yields for it: the
    /// parsed row; `None` for a bad row recorded under [`BadRows::Skip`] (read on); or, for a
    /// bad row under [`BadRows::Fail`], the error that ends the stream. `line` is the row's
    /// line in `file`, where a message names it.
    pub(crate) fn take_row<T>(
        &mut self,
        opts: &ImportOptions,
        file: &str,
        line: u64,
        parsed: Result<T, String>,
    ) -> Option<Result<T, TraceError>> {
        self.rows += 1;
        match parsed {
            Ok(row) => Some(Ok(row)),
            Err(msg) => self.bad_row(opts, Issue::at(file, line, msg)).err().map(Err),
        }
    }
    /// One step of a streaming reader: pulls rows from `next_row` (each its line and its
    /// parse, `Ok(None)` at the end of the input) until one is yielded by
    /// [`ImportReport::take_row`]. A read error, a bad row under [`BadRows::Fail`] and the
    /// end of the input set `done`, after which it yields nothing more.
    pub(crate) fn next_record<T>(
        &mut self,
        opts: &ImportOptions,
        file: &str,
        done: &mut bool,
        mut next_row: impl FnMut() -> NextRow<T>,
    ) -> Option<Result<T, TraceError>> {
        while !*done {
            match next_row() {
                Ok(None) => *done = true,
                Err(e) => {
                    *done = true;
                    return Some(Err(e));
                }
                Ok(Some((line, parsed))) => {
                    if let Some(item) = self.take_row(opts, file, line, parsed) {
                        *done = item.is_err();
                        return Some(item);
                    }
                }
            }
        }
        None
    }
    /// Records a note.
    pub(crate) fn note(&mut self, opts: &ImportOptions, issue: Issue) {
        self.notes.record(issue, opts.max_messages);
    }
    /// Adds `other` to this report.
    pub fn merge(&mut self, other: ImportReport, keep: usize) {
        self.rows += other.rows;
        self.samples += other.samples;
        self.bad_rows.merge(other.bad_rows, keep);
        self.duplicates.merge(other.duplicates, keep);
        self.gaps.merge(other.gaps, keep);
        self.absent_steps += other.absent_steps;
        self.unsorted += other.unsorted;
        self.over_capacity += other.over_capacity;
        self.max_snap_secs = self.max_snap_secs.max(other.max_snap_secs);
        self.notes.merge(other.notes, keep);
    }
}

/// Why an import stopped.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The file could not be opened or read (including corrupt or truncated gzip data).
    #[error("{file}: {source}")]
    Io {
        /// The file (with `:line` when the failure happened mid-file).
        file: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A bad row under [`BadRows::Fail`].
    #[error("{0}")]
    Row(Issue),
    /// The file as a whole is unusable (missing or wrong header, empty file).
    #[error("{0}")]
    Format(Issue),
    /// The request itself is wrong (an unknown date, an invalid tag given to the writer).
    #[error("{0}")]
    Invalid(String),
}

impl TraceError {
    /// An I/O error on `file`.
    pub(crate) fn io(file: &str, source: std::io::Error) -> Self {
        TraceError::Io {
            file: file.to_string(),
            source,
        }
    }
    /// An I/O error on line `line` of `file`.
    pub(crate) fn io_at(file: &str, line: u64, source: std::io::Error) -> Self {
        TraceError::Io {
            file: format!("{file}:{line}"),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issues_render_with_and_without_line() {
        assert_eq!(Issue::at("a.csv", 3, "bad").to_string(), "a.csv:3: bad");
        assert_eq!(Issue::in_file("a.csv", "empty").to_string(), "a.csv: empty");
    }

    #[test]
    fn log_counts_everything_keeps_first_n() {
        let mut log = IssueLog::default();
        for i in 0..5 {
            log.record(Issue::at("f", i, "x"), 2);
        }
        assert_eq!(log.count, 5);
        assert_eq!(log.messages(), vec!["f:0: x", "f:1: x"]);
        let mut other = IssueLog::default();
        other.record(Issue::at("g", 9, "y"), 2);
        let mut small = IssueLog::default();
        small.record(Issue::at("f", 1, "x"), 2);
        small.merge(other, 2);
        assert_eq!(small.count, 2);
        assert_eq!(small.messages(), vec!["f:1: x", "g:9: y"]);
    }

    #[test]
    fn fail_mode_turns_bad_rows_into_errors() {
        let mut r = ImportReport::default();
        let skip = ImportOptions::default();
        assert!(r.bad_row(&skip, Issue::at("f", 1, "x")).is_ok());
        assert_eq!(r.bad_rows.count, 1);
        let err = r.bad_row(&ImportOptions::strict(), Issue::at("f", 2, "y")).unwrap_err();
        assert_eq!(err.to_string(), "f:2: y");
        assert_eq!(r.bad_rows.count, 1);
    }
}
