//! Forecast-evaluation data: PlanetLab VM-days as CPU-fraction series, split by day.

use std::path::{Path, PathBuf};

use crate::trace::planetlab::{PlanetLab, READINGS_PER_DAY};
use crate::trace::{BadRows, ImportOptions};

/// One VM-day: 288 CPU fractions (NaN where a reading is missing).
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Day, `YYYYMMDD`.
    pub date: String,
    /// VM file name (identifies the VM across days).
    pub vm: String,
    /// Slice (the tag).
    pub slice: String,
    /// Day of week of `date`, 0 = Monday.
    pub weekday: u8,
    /// Readings, fractions of the VM.
    pub values: Vec<f64>,
}

#[cfg(test)]
impl Series {
    /// A test day: VMs `vm0`, `vm1`, … of slice `s` on a Monday, VM `v`'s reading at step `t`
    /// being `reading(v, t)` (called VM by VM, step by step, so a random stream is drawn in
    /// that order).
    pub(crate) fn test_day(date: &str, vms: usize, mut reading: impl FnMut(usize, usize) -> f64) -> Vec<Series> {
        (0..vms)
            .map(|v| Series {
                date: date.into(),
                vm: format!("vm{v}"),
                slice: "s".into(),
                weekday: 0,
                values: (0..READINGS_PER_DAY).map(|t| reading(v, t)).collect(),
            })
            .collect()
    }
}

/// `DIR` or `DIR:DATE,DATE,...` as `peer_forecast.py` takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataSpec {
    /// Folder with day folders and `tags.csv`.
    pub dir: PathBuf,
    /// Dates to use (all dates in `tags.csv` when `None`).
    pub dates: Option<Vec<String>>,
}

impl DataSpec {
    /// Parses `DIR[:DATE,...]` (a trailing `:…` that is not a list of dates is part of the path).
    /// An item `FROM..TO` stands for every date from `FROM` to `TO` inclusive.
    pub fn parse(spec: &str) -> DataSpec {
        if let Some((dir, dates)) = spec.rsplit_once(':') {
            let items: Vec<&str> = dates.split(',').map(str::trim).collect();
            let is_date = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
            let ok = !dates.is_empty()
                && items.iter().all(|d| match d.split_once("..") {
                    Some((a, b)) => is_date(a) && is_date(b),
                    None => is_date(d),
                });
            if ok {
                let mut list = Vec::new();
                for d in items {
                    match d.split_once("..") {
                        Some((a, b)) => list.extend(date_range(a, b)),
                        None => list.push(d.to_string()),
                    }
                }
                return DataSpec {
                    dir: PathBuf::from(dir),
                    dates: Some(list),
                };
            }
        }
        DataSpec {
            dir: PathBuf::from(spec),
            dates: None,
        }
    }
}

/// Day of week (0 = Monday) of a `YYYYMMDD` date.
pub fn weekday_of(date: &str) -> u8 {
    let secs = crate::trace::civil::yyyymmdd_to_unix_secs(date).unwrap_or(0);
    // 1970-01-01 was a Thursday (index 3).
    ((secs.div_euclid(86_400) + 3).rem_euclid(7)) as u8
}

/// Loads the VM-days of a spec, ordered by (date, vm file). Missing readings become NaN.
pub fn load(spec: &DataSpec) -> Result<Vec<Series>, String> {
    let opts = ImportOptions {
        bad_rows: BadRows::Skip,
        ..ImportOptions::default()
    };
    let dates: Option<Vec<&str>> = spec.dates.as_ref().map(|d| d.iter().map(String::as_str).collect());
    let (pl, _) =
        PlanetLab::open(&spec.dir, dates.as_deref(), &opts).map_err(|e| format!("{}: {e}", spec.dir.display()))?;
    let (all, _) = pl.load_all(&opts).map_err(|e| format!("{}: {e}", spec.dir.display()))?;
    Ok(pl
        .vm_days()
        .iter()
        .zip(all)
        .map(|(d, v)| {
            let mut values: Vec<f64> = v.iter().map(|x| x.unwrap_or(f64::NAN)).collect();
            values.resize(READINGS_PER_DAY, f64::NAN);
            Series {
                weekday: weekday_of(&d.date),
                date: d.date.clone(),
                vm: d.vm_file.clone(),
                slice: d.slice.clone(),
                values,
            }
        })
        .collect())
}

/// Every `YYYYMMDD` date from `from` to `to` inclusive (empty when either is not a date or
/// `to` is earlier).
pub fn date_range(from: &str, to: &str) -> Vec<String> {
    let (Some(a), Some(b)) = (
        crate::trace::civil::yyyymmdd_to_unix_secs(from),
        crate::trace::civil::yyyymmdd_to_unix_secs(to),
    ) else {
        return Vec::new();
    };
    (0..)
        .map(|k: i64| a + k * 86_400)
        .take_while(|t| *t <= b)
        .map(crate::trace::replay::utc_date)
        .collect()
}

/// Loads the OpenDC export of Bitbrains GWA-T-12 (`DIR/trace.csv` + `DIR/meta.csv`) as
/// VM-day series: one series per VM and UTC day of `spec.dates` (every day with a reading
/// when `None`), reading `i` = the VM's CPU utilization (usage / provisioned capacity, may
/// slightly exceed 1) over minutes `[5i, 5i + 5)` of the day (UTC), NaN where missing.
/// Bitbrains publishes no tags: every series gets the slice `untagged`, so tag-pooled
/// methods fall back to one pool of all training series (the tag-blind fallback).
pub fn load_opendc(spec: &DataSpec) -> Result<Vec<Series>, String> {
    let opts = ImportOptions {
        bad_rows: BadRows::Skip,
        ..ImportOptions::default()
    };
    let (workloads, _) =
        crate::trace::load_opendc(&spec.dir, |_| true, &opts).map_err(|e| format!("{}: {e}", spec.dir.display()))?;
    let wanted: Option<std::collections::BTreeSet<&str>> =
        spec.dates.as_ref().map(|d| d.iter().map(String::as_str).collect());
    let mut out: Vec<Series> = Vec::new();
    for w in &workloads {
        for day in crate::trace::replay::split_days(w) {
            let date = crate::trace::replay::utc_date(day.start_secs);
            if wanted.as_ref().is_some_and(|set| !set.contains(date.as_str())) {
                continue;
            }
            let day_start = crate::trace::civil::yyyymmdd_to_unix_secs(&date).unwrap_or(day.start_secs);
            let mut values = vec![f64::NAN; READINGS_PER_DAY];
            for i in 0..day.len() {
                let Some(u) = day.utilization(i, crate::metric::Metric::Cpu) else {
                    continue;
                };
                let slot = (day.time_secs(i) - day_start).div_euclid(300);
                if let Some(v) = usize::try_from(slot).ok().and_then(|k| values.get_mut(k)) {
                    *v = u;
                }
            }
            out.push(Series {
                weekday: weekday_of(&date),
                date,
                vm: w.name.clone(),
                slice: UNTAGGED.to_string(),
                values,
            });
        }
    }
    out.sort_by(|a, b| (&a.date, &a.vm).cmp(&(&b.date, &b.vm)));
    Ok(out)
}

/// The slice given to series of traces without tags.
pub const UNTAGGED: &str = "untagged";

/// Whether a path looks like a PlanetLab folder (has `tags.csv`).
pub fn is_planetlab(dir: &Path) -> bool {
    dir.join("tags.csv").is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_and_weekdays() {
        let s = DataSpec::parse("../traces/planetlab:20110303,20110306");
        assert_eq!(s.dir, PathBuf::from("../traces/planetlab"));
        assert_eq!(s.dates, Some(vec!["20110303".to_string(), "20110306".to_string()]));
        assert_eq!(DataSpec::parse("C:/data").dates, None);
        assert_eq!(weekday_of("20110303"), 3); // Thursday
        assert_eq!(weekday_of("20110306"), 6); // Sunday
        assert_eq!(weekday_of("20110322"), 1); // Tuesday
        let r = DataSpec::parse("d:20130830..20130902,20130910");
        assert_eq!(
            r.dates,
            Some(
                ["20130830", "20130831", "20130901", "20130902", "20130910"]
                    .map(String::from)
                    .to_vec()
            )
        );
    }

    #[test]
    fn opendc_fixture_as_tag_blind_day_series() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/traces/opendc");
        let all = load_opendc(&DataSpec::parse(dir)).unwrap();
        assert!(!all.is_empty());
        for s in &all {
            assert_eq!(s.values.len(), READINGS_PER_DAY);
            assert_eq!(s.slice, UNTAGGED);
            assert!(s.values.iter().any(|v| v.is_finite()));
        }
    }
}
