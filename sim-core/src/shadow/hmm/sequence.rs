//! Observation sequences: the input of fitting and likelihood evaluation.

use super::HmmError;

/// One observation sequence: `T` steps of `D` values flattened row-major (`T×D`), optional
/// per-step transition bucket ids, and a weight.
///
/// NaN marks a missing value; ±∞ is rejected. Bucket ids are required when the model has
/// more than one bucket (`B > 1`) and default to 0 otherwise; the id of step `t` selects the
/// matrix of the transition into step `t` (step 0's id is unused). The weight (default 1)
/// acts as a replication count in fitting: the sequence contributes `weight ×` its
/// log-likelihood and `weight ×` its observed steps to the BIC sample size. Zero-weight
/// sequences are ignored.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sequence<'a> {
    /// Observations, `T×D` row-major; NaN = missing.
    pub observations: &'a [f64],
    /// Per-step bucket ids (length `T`), or `None` for bucket 0 throughout.
    pub buckets: Option<&'a [usize]>,
    /// Non-negative finite weight.
    pub weight: f64,
}

impl<'a> Sequence<'a> {
    /// A sequence with weight 1 and no bucket ids.
    pub fn new(observations: &'a [f64]) -> Self {
        Sequence {
            observations,
            buckets: None,
            weight: 1.0,
        }
    }

    /// The same sequence with per-step bucket ids.
    pub fn with_buckets(self, buckets: &'a [usize]) -> Self {
        Sequence {
            buckets: Some(buckets),
            ..self
        }
    }

    /// The same sequence with another weight.
    pub fn with_weight(self, weight: f64) -> Self {
        Sequence { weight, ..self }
    }
}

/// A validated sequence: `steps × d` observations without infinities, bucket ids in range.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Prepared<'a> {
    pub observations: &'a [f64],
    pub buckets: Option<&'a [usize]>,
    pub weight: f64,
    pub steps: usize,
    /// Steps with at least one observed value.
    pub observed_steps: usize,
}

impl<'a> Prepared<'a> {
    /// Validates sequence number `index` against dimension `d` and `b` buckets.
    /// `ignore_weight` skips the weight check (likelihood evaluation).
    pub fn validate(
        seq: &Sequence<'a>,
        index: usize,
        d: usize,
        b: usize,
        ignore_weight: bool,
    ) -> Result<Self, HmmError> {
        let bad = |msg: String| HmmError::InvalidInput(format!("sequence {index}: {msg}"));
        if d == 0 || !seq.observations.len().is_multiple_of(d) {
            return Err(bad(format!(
                "{} observation values is not a multiple of the dimension {d}",
                seq.observations.len()
            )));
        }
        let steps = seq.observations.len() / d;
        let weight_ok = seq.weight >= 0.0 && seq.weight.is_finite();
        if !ignore_weight && !weight_ok {
            return Err(bad(format!("weight {} must be finite and ≥ 0", seq.weight)));
        }
        if let Some(pos) = seq.observations.iter().position(|y| y.is_infinite()) {
            return Err(bad(format!(
                "observation at step {}, dimension {} is infinite (use NaN for missing)",
                pos / d,
                pos % d
            )));
        }
        match seq.buckets {
            Some(ids) => {
                if ids.len() != steps {
                    return Err(bad(format!("{} bucket ids for {steps} steps", ids.len())));
                }
                if let Some(t) = ids.iter().skip(1).position(|&id| id >= b) {
                    return Err(bad(format!(
                        "bucket id {} at step {} is out of range (B = {b})",
                        ids.get(t + 1).copied().unwrap_or(0),
                        t + 1
                    )));
                }
            }
            None if b > 1 && steps > 1 => {
                return Err(bad(format!(
                    "the model has {b} transition buckets but the sequence has no bucket ids"
                )));
            }
            None => {}
        }
        let observed_steps = seq
            .observations
            .chunks_exact(d)
            .filter(|row| row.iter().any(|y| !y.is_nan()))
            .count();
        Ok(Prepared {
            observations: seq.observations,
            buckets: seq.buckets,
            weight: if ignore_weight { 1.0 } else { seq.weight },
            steps,
            observed_steps,
        })
    }

    /// Bucket id of step `t` (0 without bucket ids).
    #[inline]
    pub fn bucket(&self, t: usize) -> usize {
        self.buckets.and_then(|ids| ids.get(t).copied()).unwrap_or(0)
    }
}

/// Validates every sequence for fitting and keeps those with a positive weight and at least
/// one observed value. Fails on malformed input or when nothing remains.
pub(crate) fn prepare_all<'a>(sequences: &[Sequence<'a>], d: usize, b: usize) -> Result<Vec<Prepared<'a>>, HmmError> {
    let mut out = Vec::with_capacity(sequences.len());
    for (index, seq) in sequences.iter().enumerate() {
        let p = Prepared::validate(seq, index, d, b, false)?;
        if p.weight > 0.0 && p.observed_steps > 0 {
            out.push(p);
        }
    }
    if out.is_empty() {
        return Err(HmmError::NoData(format!(
            "none of the {} sequence(s) has a positive weight and an observed value",
            sequences.len()
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_catches_malformed_sequences() {
        let obs = [1.0, 2.0, 3.0, 4.0];
        assert!(Prepared::validate(&Sequence::new(&obs), 0, 3, 1, false).is_err());
        assert!(Prepared::validate(&Sequence::new(&[1.0, f64::INFINITY]), 0, 1, 1, false).is_err());
        assert!(Prepared::validate(&Sequence::new(&obs).with_weight(-1.0), 0, 1, 1, false).is_err());
        assert!(Prepared::validate(&Sequence::new(&obs).with_weight(f64::NAN), 0, 1, 1, false).is_err());
        let ids = [0, 1, 2];
        assert!(Prepared::validate(&Sequence::new(&obs).with_buckets(&ids), 0, 1, 3, false).is_err());
        let ids = [0, 1, 2, 3];
        assert!(Prepared::validate(&Sequence::new(&obs).with_buckets(&ids), 0, 1, 3, false).is_err());
        // Step 0's bucket id is unused, so it may be anything.
        let ids = [99, 1, 2, 0];
        assert!(Prepared::validate(&Sequence::new(&obs).with_buckets(&ids), 0, 1, 3, false).is_ok());
        assert!(Prepared::validate(&Sequence::new(&obs), 0, 1, 3, false).is_err());
        let p = Prepared::validate(&Sequence::new(&[f64::NAN, 1.0, f64::NAN, f64::NAN]), 0, 2, 1, false).unwrap();
        assert_eq!((p.steps, p.observed_steps), (2, 1));
    }

    #[test]
    fn prepare_all_needs_data() {
        assert!(matches!(prepare_all(&[], 1, 1), Err(HmmError::NoData(_))));
        let empty: [f64; 0] = [];
        let nan = [f64::NAN; 4];
        let obs = [1.0];
        let seqs = [
            Sequence::new(&empty),
            Sequence::new(&nan),
            Sequence::new(&obs).with_weight(0.0),
        ];
        assert!(matches!(prepare_all(&seqs, 1, 1), Err(HmmError::NoData(_))));
    }
}
