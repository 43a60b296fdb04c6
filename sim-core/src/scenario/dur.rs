//! Durations and distributions as they are written in scenario files.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::time::{SimDuration, parse_duration};

/// A duration in a scenario file: a string with a unit (`"90s"`, `"5m"`, `"2h"`, `"7d"`,
/// `"1w"`, `"1h30m"`, `"250ms"`) or a bare integer number of seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dur(pub SimDuration);

impl Dur {
    /// From whole seconds.
    pub const fn secs(s: u64) -> Self {
        Dur(SimDuration::from_secs(s))
    }
    /// From whole minutes.
    pub const fn mins(m: u64) -> Self {
        Dur(SimDuration::from_mins(m))
    }
    /// From whole hours.
    pub const fn hours(h: u64) -> Self {
        Dur(SimDuration::from_hours(h))
    }
    /// From whole days.
    pub const fn days(d: u64) -> Self {
        Dur(SimDuration::from_days(d))
    }
    /// Milliseconds.
    pub fn ms(self) -> u64 {
        self.0.ms()
    }
    /// Seconds as a float.
    pub fn secs_f64(self) -> f64 {
        self.0.secs_f64()
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.ms() == 0 {
            s.serialize_str("0s")
        } else {
            s.serialize_str(&self.0.to_string())
        }
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as \"90s\", \"5m\", \"2h\", \"7d\" or a whole number of seconds")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Dur, E> {
                parse_duration(v).map(Dur).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dur, E> {
                v.checked_mul(1000)
                    .map(|ms| Dur(SimDuration(ms)))
                    .ok_or_else(|| E::custom(format!("duration of {v} seconds is too large")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dur, E> {
                if v < 0 {
                    Err(E::custom(format!("a duration cannot be negative (found {v})")))
                } else {
                    self.visit_u64(v as u64)
                }
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dur, E> {
                if !v.is_finite() || v < 0.0 {
                    Err(E::custom(format!(
                        "a duration must be a finite, non-negative number of seconds (found {v})"
                    )))
                } else if v > 1e15 {
                    Err(E::custom(format!("duration of {v} seconds is too large")))
                } else {
                    Ok(Dur(SimDuration::from_secs_f64(v)))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A distribution of non-negative numbers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Dist {
    /// Always this value.
    Fixed(f64),
    /// Exponential with this mean.
    Exp {
        /// Mean.
        mean: f64,
    },
    /// Log-normal: `median · exp(sigma · Z)`.
    LogNormal {
        /// Median (the geometric mean).
        median: f64,
        /// Standard deviation of the logarithm.
        sigma: f64,
    },
    /// Uniform on `[lo, hi]`.
    Uniform {
        /// Lower end.
        lo: f64,
        /// Upper end.
        hi: f64,
    },
}

/// A distribution of durations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum DurDist {
    /// Always this long.
    Fixed(Dur),
    /// Exponential with this mean.
    Exp {
        /// Mean.
        mean: Dur,
    },
    /// Log-normal: `median · exp(sigma · Z)`.
    LogNormal {
        /// Median.
        median: Dur,
        /// Standard deviation of the logarithm.
        sigma: f64,
    },
    /// Uniform on `[lo, hi]`.
    Uniform {
        /// Shortest.
        lo: Dur,
        /// Longest.
        hi: Dur,
    },
}

impl DurDist {
    /// The same distribution over seconds.
    pub fn as_secs_dist(&self) -> Dist {
        match self {
            DurDist::Fixed(d) => Dist::Fixed(d.secs_f64()),
            DurDist::Exp { mean } => Dist::Exp { mean: mean.secs_f64() },
            DurDist::LogNormal { median, sigma } => Dist::LogNormal {
                median: median.secs_f64(),
                sigma: *sigma,
            },
            DurDist::Uniform { lo, hi } => Dist::Uniform {
                lo: lo.secs_f64(),
                hi: hi.secs_f64(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dur_reads_strings_and_integers() {
        let d: Dur = ron::from_str("\"5m\"").unwrap();
        assert_eq!(d, Dur::mins(5));
        let d: Dur = ron::from_str("300").unwrap();
        assert_eq!(d, Dur::mins(5));
        let e = ron::from_str::<Dur>("-3").unwrap_err().to_string();
        assert!(e.contains("negative"), "{e}");
        let e = ron::from_str::<Dur>("\"5 parsecs\"").unwrap_err().to_string();
        assert!(e.contains("unknown unit \"parsecs\""), "{e}");
        assert_eq!(ron::to_string(&Dur::hours(36)).unwrap(), "\"36h\"");
    }
}
