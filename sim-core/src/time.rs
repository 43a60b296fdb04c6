//! Integer simulated time.
//!
//! All simulated time is an integer number of milliseconds since the start of the run
//! ([`SimTime`]); durations are [`SimDuration`]. Floating-point time never decides the order of
//! events, so ties break the same way on every run.

use std::fmt;

/// Milliseconds in one second.
pub const MS_PER_SEC: u64 = 1_000;
/// Milliseconds in one minute.
pub const MS_PER_MIN: u64 = 60 * MS_PER_SEC;
/// Milliseconds in one hour.
pub const MS_PER_HOUR: u64 = 60 * MS_PER_MIN;
/// Milliseconds in one day.
pub const MS_PER_DAY: u64 = 24 * MS_PER_HOUR;
/// Milliseconds in one week.
pub const MS_PER_WEEK: u64 = 7 * MS_PER_DAY;

/// A point in simulated time, in milliseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of simulated time in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

impl SimTime {
    /// The start of the run.
    pub const ZERO: SimTime = SimTime(0);
    /// The end of time (never reached by a run).
    pub const NEVER: SimTime = SimTime(u64::MAX);

    /// Milliseconds since the start.
    pub fn ms(self) -> u64 {
        self.0
    }
    /// Seconds since the start, as a float (for reports only).
    pub fn secs_f64(self) -> f64 {
        self.0 as f64 / MS_PER_SEC as f64
    }
    /// Hours since the start, as a float (for reports only).
    pub fn hours_f64(self) -> f64 {
        self.0 as f64 / MS_PER_HOUR as f64
    }
    /// `self + d`, saturating at [`SimTime::NEVER`].
    pub fn after(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
    /// `self - earlier`, zero if `earlier` is later.
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    /// Zero length.
    pub const ZERO: SimDuration = SimDuration(0);

    /// From whole seconds.
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s * MS_PER_SEC)
    }
    /// From whole minutes.
    pub const fn from_mins(m: u64) -> Self {
        SimDuration(m * MS_PER_MIN)
    }
    /// From whole hours.
    pub const fn from_hours(h: u64) -> Self {
        SimDuration(h * MS_PER_HOUR)
    }
    /// From whole days.
    pub const fn from_days(d: u64) -> Self {
        SimDuration(d * MS_PER_DAY)
    }
    /// From (possibly fractional) seconds, rounded to the nearest millisecond; negative and
    /// non-finite inputs give zero.
    pub fn from_secs_f64(s: f64) -> Self {
        if s.is_finite() && s > 0.0 {
            SimDuration((s * MS_PER_SEC as f64).round().min(u64::MAX as f64) as u64)
        } else {
            SimDuration(0)
        }
    }
    /// Milliseconds.
    pub fn ms(self) -> u64 {
        self.0
    }
    /// Seconds as a float.
    pub fn secs_f64(self) -> f64 {
        self.0 as f64 / MS_PER_SEC as f64
    }
    /// Minutes as a float.
    pub fn mins_f64(self) -> f64 {
        self.0 as f64 / MS_PER_MIN as f64
    }
    /// Hours as a float.
    pub fn hours_f64(self) -> f64 {
        self.0 as f64 / MS_PER_HOUR as f64
    }
}

impl std::ops::Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        self.after(d)
    }
}

impl fmt::Display for SimDuration {
    /// The shortest exact rendering with one unit (`90s`, `5m`, `36h`, `7d`), or milliseconds.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0;
        for (unit, len) in [
            ("w", MS_PER_WEEK),
            ("d", MS_PER_DAY),
            ("h", MS_PER_HOUR),
            ("m", MS_PER_MIN),
            ("s", MS_PER_SEC),
        ] {
            if ms != 0 && ms.is_multiple_of(len) {
                return write!(f, "{}{unit}", ms / len);
            }
        }
        write!(f, "{ms}ms")
    }
}

impl fmt::Display for SimTime {
    /// `d<day> hh:mm:ss` since the start.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let day = self.0 / MS_PER_DAY;
        let rem = self.0 % MS_PER_DAY;
        write!(
            f,
            "d{day} {:02}:{:02}:{:02}",
            rem / MS_PER_HOUR,
            (rem % MS_PER_HOUR) / MS_PER_MIN,
            (rem % MS_PER_MIN) / MS_PER_SEC
        )
    }
}

/// Parses a duration such as `90s`, `5m`, `1h30m`, `2d`, `1w`, `250ms`, or a bare integer
/// (seconds). Returns a message naming what was expected on failure.
pub fn parse_duration(text: &str) -> Result<SimDuration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("expected a duration such as \"90s\", \"5m\", \"2h\", \"7d\", found an empty string".into());
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse::<u64>()
            .ok()
            .and_then(|v| v.checked_mul(MS_PER_SEC))
            .map(SimDuration)
            .ok_or_else(|| format!("duration {s:?} is too large"));
    }
    let mut total: u64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(|b| b.is_ascii_digit() || *b == b'.').count();
        if digits == 0 {
            return Err(format!(
                "invalid duration {text:?}: expected a number before {rest:?} (units: ms, s, m, h, d, w)"
            ));
        }
        let (num, tail) = rest.split_at(digits);
        let tail = tail.trim_start();
        let unit_len = tail.bytes().take_while(|b| b.is_ascii_alphabetic()).count();
        let (unit, tail) = tail.split_at(unit_len);
        let per = match unit {
            "ms" => 1,
            "s" => MS_PER_SEC,
            "m" | "min" => MS_PER_MIN,
            "h" => MS_PER_HOUR,
            "d" => MS_PER_DAY,
            "w" => MS_PER_WEEK,
            "" => {
                return Err(format!(
                    "invalid duration {text:?}: missing unit after {num} (units: ms, s, m, h, d, w)"
                ));
            }
            other => {
                return Err(format!(
                    "invalid duration {text:?}: unknown unit {other:?} (units: ms, s, m, h, d, w)"
                ));
            }
        };
        let value: f64 = num
            .parse()
            .map_err(|_| format!("invalid duration {text:?}: {num:?} is not a number"))?;
        let ms = value * per as f64;
        if !ms.is_finite() || ms >= u64::MAX as f64 / 2.0 {
            return Err(format!("duration {text:?} is too large"));
        }
        total = total
            .checked_add(ms.round() as u64)
            .ok_or_else(|| format!("duration {text:?} is too large"))?;
        rest = tail.trim_start();
    }
    Ok(SimDuration(total))
}

/// Days of the week; the simulated calendar starts on [`crate::scenario::Scenario::start_weekday`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum Weekday {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

impl Weekday {
    /// 0 for Monday … 6 for Sunday.
    pub fn index(self) -> u64 {
        self as u64
    }
}

/// Maps simulated time onto a weekly calendar (time of day, day of week).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Calendar {
    /// Offset of time zero from Monday 00:00, in ms.
    pub origin_ms: u64,
}

impl Calendar {
    /// A calendar whose time zero is 00:00 on `start`.
    pub fn starting(start: Weekday) -> Self {
        Calendar {
            origin_ms: start.index() * MS_PER_DAY,
        }
    }
    /// Milliseconds since Monday 00:00 of the current week.
    pub fn week_ms(&self, t: SimTime) -> u64 {
        (t.0 + self.origin_ms) % MS_PER_WEEK
    }
    /// Milliseconds since 00:00 of the current day.
    pub fn day_ms(&self, t: SimTime) -> u64 {
        (t.0 + self.origin_ms) % MS_PER_DAY
    }
    /// Day of week, 0 = Monday.
    pub fn weekday(&self, t: SimTime) -> u64 {
        self.week_ms(t) / MS_PER_DAY
    }
    /// Hour of day as a float in [0, 24).
    pub fn hour_of_day(&self, t: SimTime) -> f64 {
        self.day_ms(t) as f64 / MS_PER_HOUR as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("90s"), Ok(SimDuration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(SimDuration::from_mins(5)));
        assert_eq!(parse_duration("1h30m"), Ok(SimDuration::from_mins(90)));
        assert_eq!(parse_duration("2d"), Ok(SimDuration::from_days(2)));
        assert_eq!(parse_duration("1w"), Ok(SimDuration::from_days(7)));
        assert_eq!(parse_duration("250ms"), Ok(SimDuration(250)));
        assert_eq!(parse_duration("1.5h"), Ok(SimDuration::from_mins(90)));
        assert_eq!(parse_duration("300"), Ok(SimDuration::from_secs(300)));
        assert!(parse_duration("5").is_ok());
        assert!(parse_duration("").unwrap_err().contains("empty"));
        assert!(parse_duration("5x").unwrap_err().contains("unknown unit \"x\""));
        assert!(parse_duration("m").unwrap_err().contains("expected a number"));
        assert!(parse_duration("5 ").is_ok());
        assert!(
            parse_duration("99999999999999999999d")
                .unwrap_err()
                .contains("too large")
        );
    }

    #[test]
    fn displays_durations_exactly() {
        assert_eq!(SimDuration::from_secs(90).to_string(), "90s");
        assert_eq!(SimDuration::from_mins(5).to_string(), "5m");
        assert_eq!(SimDuration::from_days(14).to_string(), "2w");
        assert_eq!(SimDuration(1500).to_string(), "1500ms");
        for s in ["90s", "5m", "36h", "3d", "2w", "250ms"] {
            assert_eq!(parse_duration(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn calendar_maps_time_of_day_and_weekday() {
        let cal = Calendar::starting(Weekday::Sat);
        let t = SimTime(MS_PER_DAY + 14 * MS_PER_HOUR + 30 * MS_PER_MIN);
        assert_eq!(cal.weekday(t), 6); // Sunday
        assert!((cal.hour_of_day(t) - 14.5).abs() < 1e-12);
        assert_eq!(cal.weekday(SimTime(2 * MS_PER_DAY)), 0); // Monday
    }
}
