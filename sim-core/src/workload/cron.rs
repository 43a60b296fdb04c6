//! A small cron subset for scheduled bursts: `minute hour day-of-month month day-of-week`,
//! where day-of-month and month must be `*` (the simulated calendar has weeks, not months).
//! Fields accept `*`, numbers, lists (`1,3,5`), ranges (`1-5`) and steps (`*/15`, `0-30/10`).
//! Day of week: 0 or 7 = Sunday, 1 = Monday … 6 = Saturday.

use crate::time::{MS_PER_DAY, MS_PER_HOUR, MS_PER_MIN, MS_PER_WEEK};

/// A parsed schedule: the start instants within one week, as ms since Monday 00:00, sorted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CronSchedule {
    starts_week_ms: Vec<u64>,
}

impl CronSchedule {
    /// Parses a cron expression; the error says which field is wrong and why.
    pub fn parse(expr: &str) -> Result<CronSchedule, String> {
        let fields: Vec<&str> = expr.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(format!(
                "cron expression {expr:?} has {} fields, expected 5: \"minute hour * * day-of-week\"",
                fields.len()
            ));
        }
        let minutes = parse_field(fields[0], 0, 59, "minute")?;
        let hours = parse_field(fields[1], 0, 23, "hour")?;
        if fields[2] != "*" {
            return Err(format!(
                "cron day-of-month must be `*` (found {:?}): the simulated calendar is weekly",
                fields[2]
            ));
        }
        if fields[3] != "*" {
            return Err(format!(
                "cron month must be `*` (found {:?}): the simulated calendar is weekly",
                fields[3]
            ));
        }
        let dows = parse_field(fields[4], 0, 7, "day-of-week")?;
        let mut days = [false; 7]; // Monday first
        for d in dows {
            let idx = if d == 0 || d == 7 { 6 } else { d as usize - 1 };
            days[idx] = true;
        }
        let mut starts = Vec::new();
        for (day, on) in days.iter().enumerate() {
            if !on {
                continue;
            }
            for &h in &hours {
                for &m in &minutes {
                    starts.push(day as u64 * MS_PER_DAY + h * MS_PER_HOUR + m * MS_PER_MIN);
                }
            }
        }
        starts.sort_unstable();
        starts.dedup();
        Ok(CronSchedule { starts_week_ms: starts })
    }

    /// Start instants within a week, in ms since Monday 00:00.
    pub fn starts_week_ms(&self) -> &[u64] {
        &self.starts_week_ms
    }

    /// The latest start at or before `week_ms` (ms since Monday 00:00), looking back into the
    /// previous week; returns how long ago it was.
    pub fn since_last_start_ms(&self, week_ms: u64) -> Option<u64> {
        let s = &self.starts_week_ms;
        if s.is_empty() {
            return None;
        }
        let idx = s.partition_point(|&x| x <= week_ms);
        Some(if idx > 0 {
            week_ms - s[idx - 1]
        } else {
            week_ms + MS_PER_WEEK - s[s.len() - 1]
        })
    }
}

fn parse_field(text: &str, lo: u64, hi: u64, what: &str) -> Result<Vec<u64>, String> {
    let mut out = Vec::new();
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => {
                let step: u64 = s
                    .parse()
                    .map_err(|_| format!("cron {what} step {s:?} is not a number"))?;
                if step == 0 {
                    return Err(format!("cron {what} step must be at least 1"));
                }
                (r, step)
            }
            None => (part, 1),
        };
        let (a, b) = if range == "*" {
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            (num(a, lo, hi, what)?, num(b, lo, hi, what)?)
        } else {
            let a = num(range, lo, hi, what)?;
            (a, if part.contains('/') { hi } else { a })
        };
        if a > b {
            return Err(format!("cron {what} range {range:?} is backwards"));
        }
        out.extend((a..=b).step_by(step as usize));
    }
    Ok(out)
}

fn num(s: &str, lo: u64, hi: u64, what: &str) -> Result<u64, String> {
    let v: u64 = s.parse().map_err(|_| format!("cron {what} {s:?} is not a number"))?;
    if v < lo || v > hi {
        return Err(format!("cron {what} {v} is outside {lo}-{hi}"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekdays_at_nine() {
        let c = CronSchedule::parse("0 9 * * 1-5").unwrap();
        assert_eq!(c.starts_week_ms().len(), 5);
        assert_eq!(c.starts_week_ms()[0], 9 * MS_PER_HOUR);
        // Saturday 10:00 is a day and one hour after Friday 09:00.
        let sat10 = 5 * MS_PER_DAY + 10 * MS_PER_HOUR;
        assert_eq!(c.since_last_start_ms(sat10), Some(MS_PER_DAY + MS_PER_HOUR));
        // Monday 08:00 looks back to the previous Friday 09:00.
        assert_eq!(
            c.since_last_start_ms(8 * MS_PER_HOUR),
            Some(3 * MS_PER_DAY - MS_PER_HOUR)
        );
    }

    #[test]
    fn lists_steps_and_sunday() {
        let c = CronSchedule::parse("*/30 2,14 * * 0").unwrap();
        // Sunday only, 2 hours × 2 half-hours.
        assert_eq!(c.starts_week_ms().len(), 4);
        assert_eq!(c.starts_week_ms()[0], 6 * MS_PER_DAY + 2 * MS_PER_HOUR);
        assert_eq!(CronSchedule::parse("0 3 * * *").unwrap().starts_week_ms().len(), 7);
    }

    #[test]
    fn errors_name_the_field() {
        assert!(
            CronSchedule::parse("0 25 * * *")
                .unwrap_err()
                .contains("hour 25 is outside 0-23")
        );
        assert!(CronSchedule::parse("0 9 1 * *").unwrap_err().contains("day-of-month"));
        assert!(CronSchedule::parse("0 9 * *").unwrap_err().contains("4 fields"));
        assert!(CronSchedule::parse("x 9 * * *").unwrap_err().contains("minute \"x\""));
        assert!(CronSchedule::parse("0 9 * * 5-1").unwrap_err().contains("backwards"));
        assert!(CronSchedule::parse("*/0 9 * * *").unwrap_err().contains("at least 1"));
    }
}
