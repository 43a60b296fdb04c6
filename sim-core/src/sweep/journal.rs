//! The run journal: every finished run, appended durably as it finishes.
//!
//! `DIR/runs.journal` is a text file of one record per line, `<json>\t<hash>\n`, where
//! `<hash>` is [`super::plan::hash_text`] of the JSON. The first line is the sweep's
//! [`Header`] (written atomically when the folder is created); each further line is one run
//! ([`RunRecord`]), written with a single `write` and `fsync`ed before the run counts as done.
//! After a crash (even `kill -9` or power loss) the file is a sequence of complete lines
//! possibly followed by one torn line without its newline; readers ignore the torn tail and any
//! line whose hash does not match, and [`Journal::resume`] cuts the tail off before appending.
//! Metric values are stored with Rust's shortest round-trip formatting, so a value read back is
//! bit-identical to the value computed.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::plan::{FORMAT, Header, hash_text};

/// File name of the journal inside a sweep folder.
pub const JOURNAL_FILE: &str = "runs.journal";

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Every policy ran; per policy (in header order), the metric values (in header order).
    Ok(Vec<Vec<f64>>),
    /// The run could not be built or panicked; the message says why.
    Failed(String),
}

/// One finished run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    /// Run number (canonical order).
    pub run: usize,
    /// Its grid point.
    pub point: usize,
    /// Its seed.
    pub seed: u64,
    /// The result.
    pub outcome: Outcome,
    /// Wall-clock time of the run, ms (provenance only; never in a CSV).
    pub wall_ms: u64,
}

impl RunRecord {
    /// Whether the run failed.
    pub fn failed(&self) -> bool {
        matches!(self.outcome, Outcome::Failed(_))
    }
}

#[derive(Serialize, Deserialize)]
struct RunLine {
    run: usize,
    point: usize,
    seed: u64,
    status: String,
    error: String,
    /// Per policy, the metric values separated by spaces.
    metrics: Vec<String>,
    wall_ms: u64,
}

#[derive(Serialize, Deserialize)]
enum Line {
    Header(Box<Header>),
    Run(RunLine),
}

fn encode(line: &Line) -> String {
    let json = serde_json::to_string(line).unwrap_or_default();
    let hash = hash_text(&json);
    format!("{json}\t{hash}\n")
}

fn decode(line: &str) -> Option<Line> {
    let (json, hash) = line.rsplit_once('\t')?;
    if hash_text(json) != hash {
        return None;
    }
    serde_json::from_str(json).ok()
}

fn record_line(r: &RunRecord) -> Line {
    let (status, error, metrics) = match &r.outcome {
        Outcome::Ok(rows) => (
            "ok",
            String::new(),
            rows.iter()
                .map(|vals| vals.iter().map(f64::to_string).collect::<Vec<_>>().join(" "))
                .collect(),
        ),
        Outcome::Failed(e) => ("failed", e.clone(), Vec::new()),
    };
    Line::Run(RunLine {
        run: r.run,
        point: r.point,
        seed: r.seed,
        status: status.into(),
        error,
        metrics,
        wall_ms: r.wall_ms,
    })
}

/// A record read back, if it is consistent with the header.
fn record_from(l: RunLine, h: &Header) -> Option<RunRecord> {
    if l.run >= h.runs() || l.point != h.point_of(l.run) || l.seed != h.seed_of(l.run) {
        return None;
    }
    let outcome = match l.status.as_str() {
        "ok" => {
            if l.metrics.len() != h.policies.len() {
                return None;
            }
            let mut rows = Vec::with_capacity(l.metrics.len());
            for m in &l.metrics {
                let vals: Vec<f64> = m.split(' ').map(str::parse).collect::<Result<_, _>>().ok()?;
                if vals.len() != h.metrics.len() {
                    return None;
                }
                rows.push(vals);
            }
            Outcome::Ok(rows)
        }
        "failed" => Outcome::Failed(l.error),
        _ => return None,
    };
    Some(RunRecord {
        run: l.run,
        point: l.point,
        seed: l.seed,
        outcome,
        wall_ms: l.wall_ms,
    })
}

/// A problem reading or writing a journal.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The file system failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not a sweep journal of this version.
    #[error("{path}: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// What a journal holds.
#[derive(Clone, Debug)]
pub struct Contents {
    /// The sweep's header.
    pub header: Header,
    /// Finished runs, sorted by run number, each once (the first record of a run wins).
    pub records: Vec<RunRecord>,
    /// Length of the file up to the end of its last complete line, bytes.
    pub complete_len: u64,
    /// Whether the file ends in a torn (incomplete) line.
    pub torn_tail: bool,
    /// Complete lines that were unreadable (hash mismatch, not consistent with the header).
    pub bad_lines: usize,
    /// Records of a run that was already recorded (ignored).
    pub duplicates: usize,
}

/// Reads a journal; `Ok(None)` when the file does not exist.
pub fn read(path: &Path) -> Result<Option<Contents>, JournalError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(path)(e)),
    };
    let complete_len = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let torn_tail = complete_len < bytes.len();
    let mut lines = bytes[..complete_len]
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| std::str::from_utf8(l).ok().and_then(decode));
    let invalid = |reason: String| JournalError::Invalid {
        path: path.display().to_string(),
        reason,
    };
    let header = match lines.next() {
        Some(Some(Line::Header(h))) => *h,
        _ => {
            return Err(invalid(
                "not a sweep journal (its first line is not a valid header)".into(),
            ));
        }
    };
    if header.format != FORMAT {
        return Err(invalid(format!(
            "journal format {} is not the format {FORMAT} of this shadowsim",
            header.format
        )));
    }
    let mut records: Vec<RunRecord> = Vec::new();
    let mut bad_lines = 0;
    for line in lines {
        match line {
            Some(Line::Run(l)) => match record_from(l, &header) {
                Some(r) => records.push(r),
                None => bad_lines += 1,
            },
            _ => bad_lines += 1,
        }
    }
    let before = records.len();
    records.sort_by_key(|r| r.run);
    records.dedup_by_key(|r| r.run);
    Ok(Some(Contents {
        duplicates: before - records.len(),
        header,
        records,
        complete_len: complete_len as u64,
        torn_tail,
        bad_lines,
    }))
}

/// An open journal, appended to from any thread.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
}

impl Journal {
    /// Creates `dir/runs.journal` holding only `header` (atomically: the file appears
    /// complete or not at all), creating `dir` if needed.
    pub fn create(dir: &Path, header: &Header) -> Result<Journal, JournalError> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let path = dir.join(JOURNAL_FILE);
        crate::report::write_atomic(&path, encode(&Line::Header(Box::new(header.clone()))).as_bytes())
            .map_err(io_err(&path))?;
        sync_dir(dir);
        Self::open(path, None)
    }
    /// Opens an existing journal for appending, first cutting off a torn tail (the bytes after
    /// `complete_len`).
    pub fn resume(dir: &Path, complete_len: u64) -> Result<Journal, JournalError> {
        Self::open(dir.join(JOURNAL_FILE), Some(complete_len))
    }
    /// Writes a whole journal (header and records, in the given order) atomically; used by
    /// `merge`.
    pub fn write_complete(dir: &Path, header: &Header, records: &[RunRecord]) -> Result<(), JournalError> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let path = dir.join(JOURNAL_FILE);
        let mut text = encode(&Line::Header(Box::new(header.clone())));
        for r in records {
            text.push_str(&encode(&record_line(r)));
        }
        crate::report::write_atomic(&path, text.as_bytes()).map_err(io_err(&path))?;
        sync_dir(dir);
        Ok(())
    }
    fn open(path: PathBuf, truncate_to: Option<u64>) -> Result<Journal, JournalError> {
        let file = OpenOptions::new().append(true).open(&path).map_err(io_err(&path))?;
        if let Some(len) = truncate_to
            && file.metadata().map_err(io_err(&path))?.len() > len
        {
            file.set_len(len).map_err(io_err(&path))?;
            file.sync_all().map_err(io_err(&path))?;
        }
        Ok(Journal {
            path,
            file: Mutex::new(file),
        })
    }
    /// Appends a record and waits until it is on disk.
    pub fn append(&self, r: &RunRecord) -> Result<(), JournalError> {
        let line = encode(&record_line(r));
        let file = self.file.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut f: &File = &file;
        f.write_all(line.as_bytes()).map_err(io_err(&self.path))?;
        f.sync_data().map_err(io_err(&self.path))
    }
    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Makes a rename or creation in `dir` durable (best effort: not every platform can open a
/// directory).
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}
