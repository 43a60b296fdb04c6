//! Combining shard folders into one sweep folder (`shadowsim merge OUT DIR...`).
//!
//! Each folder's journal is read; all must belong to the same plan (same plan hash). Their
//! records are combined by run number; a run recorded in two folders is a duplicate, a run in
//! none is missing. The merged folder gets a journal of its own (header without shard,
//! records in canonical order), so it can be resumed to fill in missing runs, and, when
//! complete, the same result files as the whole sweep run in one place.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::exec::SweepError;
use super::journal::{self, JOURNAL_FILE, RunRecord};
use super::plan::Header;

/// The combined records of some sweep folders.
#[derive(Clone, Debug)]
pub struct Merged {
    /// The sweep's header, without shard.
    pub header: Header,
    /// Every run found once, in canonical order.
    pub records: Vec<RunRecord>,
    /// Runs of the sweep found in no folder.
    pub missing: Vec<usize>,
    /// Runs found in more than one folder, with those folders.
    pub duplicates: Vec<(usize, Vec<String>)>,
    /// Remarks about individual folders (torn records, unreadable lines).
    pub notes: Vec<String>,
}

/// Reads and combines the journals of `dirs`.
pub fn merge(dirs: &[PathBuf]) -> Result<Merged, SweepError> {
    let mut header: Option<(Header, String)> = None;
    let mut by_run: BTreeMap<usize, (RunRecord, Vec<String>)> = BTreeMap::new();
    let mut notes = Vec::new();
    if dirs.is_empty() {
        return Err(SweepError::Usage("merge needs at least one sweep folder".into()));
    }
    for dir in dirs {
        let name = dir.display().to_string();
        let path = dir.join(JOURNAL_FILE);
        let Some(c) = journal::read(&path)? else {
            return Err(SweepError::Usage(format!(
                "{name}: no {JOURNAL_FILE}: not a sweep folder"
            )));
        };
        match &header {
            None => header = Some((c.header.with_shard(None), name.clone())),
            Some((h, first)) if h.plan_hash != c.header.plan_hash => {
                return Err(SweepError::Usage(format!(
                    "{name} belongs to another sweep than {first}: experiment `{}` plan hash {} versus experiment `{}` plan hash {}",
                    c.header.experiment, c.header.plan_hash, h.experiment, h.plan_hash
                )));
            }
            Some(_) => {}
        }
        if c.torn_tail {
            notes.push(format!("{name}: the journal ends in a torn record (ignored)"));
        }
        if c.bad_lines > 0 {
            notes.push(format!("{name}: {} unreadable journal line(s) ignored", c.bad_lines));
        }
        for r in c.records {
            if !c.header.in_share(r.run) {
                notes.push(format!("{name}: run {} is not in the folder's shard (ignored)", r.run));
                continue;
            }
            by_run
                .entry(r.run)
                .and_modify(|(_, ds)| ds.push(name.clone()))
                .or_insert_with(|| (r, vec![name.clone()]));
        }
    }
    let Some((header, _)) = header else {
        return Err(SweepError::Usage("merge needs at least one sweep folder".into()));
    };
    let missing = (0..header.runs()).filter(|r| !by_run.contains_key(r)).collect();
    let duplicates = by_run
        .iter()
        .filter(|(_, (_, ds))| ds.len() > 1)
        .map(|(run, (_, ds))| (*run, ds.clone()))
        .collect();
    Ok(Merged {
        header,
        records: by_run.into_values().map(|(r, _)| r).collect(),
        missing,
        duplicates,
        notes,
    })
}

/// Whether `dir` already holds a sweep journal.
pub fn holds_journal(dir: &Path) -> bool {
    dir.join(JOURNAL_FILE).exists()
}
