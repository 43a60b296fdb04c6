//! A fixed-capacity probability vector over hidden states.

use super::{HmmError, MAX_STATES};

/// Probabilities of the hidden states (length `K ≤ MAX_STATES`, non-negative, summing to 1),
/// stored inline so that filtering and prediction never allocate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StateWeights {
    values: [f64; MAX_STATES],
    len: usize,
}

impl StateWeights {
    /// Builds weights from a slice of non-negative finite numbers with a positive sum; they
    /// are normalised to sum to 1.
    pub fn from_slice(weights: &[f64]) -> Result<Self, HmmError> {
        if weights.is_empty() || weights.len() > MAX_STATES {
            return Err(HmmError::InvalidInput(format!(
                "state weights need 1..={MAX_STATES} entries, got {}",
                weights.len()
            )));
        }
        if let Some(w) = weights.iter().find(|w| !w.is_finite() || **w < 0.0) {
            return Err(HmmError::InvalidInput(format!(
                "state weights must be finite and non-negative, got {w}"
            )));
        }
        let sum: f64 = weights.iter().sum();
        if !(sum > 0.0 && sum.is_finite()) {
            return Err(HmmError::InvalidInput(format!(
                "state weights must have a positive finite sum, got {sum}"
            )));
        }
        let mut out = StateWeights::zeros(weights.len());
        for (o, w) in out.values.iter_mut().zip(weights) {
            *o = w / sum;
        }
        Ok(out)
    }

    /// `len` zeros (callers fill them in); `len` is clamped to `1..=MAX_STATES`.
    pub(crate) fn zeros(len: usize) -> Self {
        StateWeights {
            values: [0.0; MAX_STATES],
            len: len.clamp(1, MAX_STATES),
        }
    }

    /// The probabilities, one per state.
    pub fn as_slice(&self) -> &[f64] {
        self.values.get(..self.len).unwrap_or(&[])
    }

    /// All `MAX_STATES` entries, zeros past [`StateWeights::len`]: for loops that copy whole
    /// fixed-size arrays (inlined) rather than slices of run-time length (`memmove`).
    pub(crate) fn padded(&self) -> &[f64; MAX_STATES] {
        &self.values
    }

    /// Mutable access for in-crate propagation.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [f64] {
        self.values.get_mut(..self.len).unwrap_or(&mut [])
    }

    /// Number of states.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a weight vector has at least one state.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The most probable state (the lowest index among ties).
    pub fn most_likely(&self) -> usize {
        let mut best = 0;
        let mut best_w = f64::NEG_INFINITY;
        for (j, &w) in self.as_slice().iter().enumerate() {
            if w > best_w {
                best = j;
                best_w = w;
            }
        }
        best
    }

    /// Moves the weights one step through the row-major `K×K` transition matrix `a` and
    /// renormalises them (against rounding drift over long horizons).
    pub(crate) fn advance(&mut self, a: &[f64]) {
        *self = self.advanced(a);
    }

    /// The weights one step on through `a` ([`StateWeights::advance`]), built in a new value
    /// so that a caller can push it straight into a vector without copying these first.
    pub(crate) fn advanced(&self, a: &[f64]) -> StateWeights {
        let mut next = StateWeights::zeros(self.len);
        super::propagate(self.as_slice(), a, self.len, next.as_mut_slice());
        next.normalise();
        next
    }

    /// Divides by the sum so the weights sum to 1; returns false (and leaves the weights
    /// unchanged) when the sum is not positive and finite.
    pub(crate) fn normalise(&mut self) -> bool {
        let sum: f64 = self.as_slice().iter().sum();
        if !(sum > 0.0 && sum.is_finite()) {
            return false;
        }
        let inv = 1.0 / sum;
        for w in self.as_mut_slice() {
            *w *= inv;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_slice_normalises_and_validates() {
        let w = StateWeights::from_slice(&[1.0, 3.0]).unwrap();
        assert_eq!(w.as_slice(), &[0.25, 0.75]);
        assert_eq!(w.most_likely(), 1);
        assert!(StateWeights::from_slice(&[]).is_err());
        assert!(StateWeights::from_slice(&[0.0, 0.0]).is_err());
        assert!(StateWeights::from_slice(&[-1.0, 2.0]).is_err());
        assert!(StateWeights::from_slice(&[f64::NAN]).is_err());
        assert!(StateWeights::from_slice(&[1.0; MAX_STATES + 1]).is_err());
    }
}
