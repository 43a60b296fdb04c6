//! Resource amounts as the recommender keeps them. Follows
//! `vertical-pod-autoscaler/pkg/recommender/model/types.go`.
//!
//! A [`ResourceAmount`] is an `int64`: CPU in millicores, memory in bytes. Converting a float
//! truncates toward zero, clamps negative values to 0 and values above
//! [`ResourceAmount::MAX`] (`MaxResourceAmount = 1e14`) to it (`resourceAmountFromFloat`).

/// An integer amount of one resource: millicores for CPU, bytes for memory (`model.ResourceAmount`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceAmount(pub i64);

impl ResourceAmount {
    /// Zero.
    pub const ZERO: ResourceAmount = ResourceAmount(0);
    /// `MaxResourceAmount = 1e14`.
    pub const MAX: ResourceAmount = ResourceAmount(100_000_000_000_000);

    /// `resourceAmountFromFloat`: truncation toward zero, negative → 0, above 1e14 → 1e14.
    ///
    /// NaN gives 0. Go's `int64(NaN)` is platform-defined (`math.MinInt64` on amd64); every
    /// upstream path that can produce NaN (a zero estimate times an infinite confidence
    /// multiplier) is followed by the pod-minimum `max`, so both end at the same value there.
    pub fn from_f64(amount: f64) -> Self {
        if amount.is_nan() || amount < 0.0 {
            ResourceAmount::ZERO
        } else if amount > Self::MAX.0 as f64 {
            Self::MAX
        } else {
            // In [0, 1e14]: the cast truncates toward zero and cannot saturate.
            ResourceAmount(amount as i64)
        }
    }

    /// `CPUAmountFromCores`: `cores * 1000` millicores, truncated.
    pub fn from_cores(cores: f64) -> Self {
        Self::from_f64(cores * 1000.0)
    }

    /// `MemoryAmountFromBytes`.
    pub fn from_bytes(bytes: f64) -> Self {
        Self::from_f64(bytes)
    }

    /// `CoresFromCPUAmount`: millicores / 1000.
    pub fn cores(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    /// `BytesFromMemoryAmount` (or the raw value of any amount) as a float.
    pub fn as_f64(self) -> f64 {
        self.0 as f64
    }

    /// `ScaleResource(amount, factor)`: `amount * factor` through [`Self::from_f64`].
    pub fn scale(self, factor: f64) -> Self {
        Self::from_f64(self.0 as f64 * factor)
    }

    /// `a + b` as upstream's `int64` addition, saturating instead of wrapping (amounts are at
    /// most 1e14, so the sums upstream forms never get near the limit).
    pub fn saturating_add(self, other: ResourceAmount) -> Self {
        ResourceAmount(self.0.saturating_add(other.0))
    }
}

/// CPU and memory amounts, both present (`model.Resources` with both keys).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Resources {
    /// CPU in millicores.
    pub cpu_millicores: ResourceAmount,
    /// Memory in bytes.
    pub memory_bytes: ResourceAmount,
}

impl Resources {
    /// Both amounts.
    pub fn new(cpu_millicores: ResourceAmount, memory_bytes: ResourceAmount) -> Self {
        Resources {
            cpu_millicores,
            memory_bytes,
        }
    }

    /// From cores and bytes, through the upstream conversions.
    pub fn from_cores_and_bytes(cpu_cores: f64, memory_bytes: f64) -> Self {
        Resources::new(
            ResourceAmount::from_cores(cpu_cores),
            ResourceAmount::from_bytes(memory_bytes),
        )
    }

    /// CPU in cores.
    pub fn cpu_cores(&self) -> f64 {
        self.cpu_millicores.cores()
    }

    /// Per-resource maximum (`ResourceAmountMax`, the min-resources estimator).
    pub fn max_each(&self, other: &Resources) -> Resources {
        Resources::new(
            self.cpu_millicores.max(other.cpu_millicores),
            self.memory_bytes.max(other.memory_bytes),
        )
    }
}

/// A resource map in which either resource may be missing: the output of
/// `FilterControlledResources`, or a pod's requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ResourceList {
    /// CPU in millicores, if present.
    pub cpu_millicores: Option<ResourceAmount>,
    /// Memory in bytes, if present.
    pub memory_bytes: Option<ResourceAmount>,
}

impl From<Resources> for ResourceList {
    fn from(r: Resources) -> Self {
        ResourceList {
            cpu_millicores: Some(r.cpu_millicores),
            memory_bytes: Some(r.memory_bytes),
        }
    }
}

/// Which resources a VPA controls (`ContainerResourcePolicy.ControlledResources`; the default,
/// `DefaultControlledResources`, is both).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ControlledResources {
    /// CPU is recommended.
    pub cpu: bool,
    /// Memory is recommended.
    pub memory: bool,
}

impl Default for ControlledResources {
    fn default() -> Self {
        ControlledResources {
            cpu: true,
            memory: true,
        }
    }
}

impl ControlledResources {
    /// `FilterControlledResources`: keeps only the controlled resources.
    pub fn filter(&self, estimation: &Resources) -> ResourceList {
        ResourceList {
            cpu_millicores: self.cpu.then_some(estimation.cpu_millicores),
            memory_bytes: self.memory.then_some(estimation.memory_bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_truncates_and_clamps() {
        assert_eq!(ResourceAmount::from_cores(0.0125), ResourceAmount(12));
        assert_eq!(ResourceAmount::from_cores(-1.0), ResourceAmount::ZERO);
        assert_eq!(ResourceAmount::from_bytes(2.5e14), ResourceAmount::MAX);
        assert_eq!(ResourceAmount::from_f64(f64::INFINITY), ResourceAmount::MAX);
        assert_eq!(ResourceAmount::from_f64(f64::NAN), ResourceAmount::ZERO);
        assert_eq!(ResourceAmount(3140).scale(0.1), ResourceAmount(314));
        assert_eq!(ResourceAmount(3).scale(0.5), ResourceAmount(1));
        assert_eq!(ResourceAmount(1500).cores(), 1.5);
    }

    #[test]
    fn filter_keeps_controlled_only() {
        let r = Resources::new(ResourceAmount(1), ResourceAmount(2));
        let only_memory = ControlledResources {
            cpu: false,
            memory: true,
        };
        assert_eq!(
            only_memory.filter(&r),
            ResourceList {
                cpu_millicores: None,
                memory_bytes: Some(ResourceAmount(2))
            }
        );
        assert_eq!(ControlledResources::default().filter(&r), r.into());
    }
}
