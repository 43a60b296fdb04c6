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
    pub fn parse(spec: &str) -> DataSpec {
        if let Some((dir, dates)) = spec.rsplit_once(':') {
            let list: Vec<String> = dates.split(',').map(|d| d.trim().to_string()).collect();
            if !dates.is_empty()
                && list
                    .iter()
                    .all(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
            {
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
    }
}
