//! The four resource metrics every workload has, and small fixed-size vectors over them.

use serde::{Deserialize, Serialize};

/// A resource metric. Units: CPU in cores, memory in GiB, disk I/O in MB/s, network in Mbit/s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Metric {
    /// CPU, in cores.
    Cpu,
    /// Memory, in GiB.
    Mem,
    /// Disk I/O throughput, in MB/s.
    Disk,
    /// Network throughput, in Mbit/s.
    Net,
}

/// All metrics in their canonical order (the order of every [`PerMetric`] array).
pub const METRICS: [Metric; 4] = [Metric::Cpu, Metric::Mem, Metric::Disk, Metric::Net];

impl Metric {
    /// Position in [`METRICS`].
    pub const fn index(self) -> usize {
        self as usize
    }
    /// Lower-case name used in CSV files (`cpu`, `mem`, `disk`, `net`).
    pub const fn name(self) -> &'static str {
        match self {
            Metric::Cpu => "cpu",
            Metric::Mem => "mem",
            Metric::Disk => "disk",
            Metric::Net => "net",
        }
    }
    /// Unit of absolute values.
    pub const fn unit(self) -> &'static str {
        match self {
            Metric::Cpu => "cores",
            Metric::Mem => "GiB",
            Metric::Disk => "MB/s",
            Metric::Net => "Mbit/s",
        }
    }
    /// Parses a CSV name (`cpu`, `mem`, `disk`, `net`).
    pub fn from_name(s: &str) -> Option<Metric> {
        METRICS.into_iter().find(|m| m.name() == s)
    }
}

/// One value per metric, indexed by [`Metric::index`].
pub type PerMetric<T> = [T; 4];

/// Element-wise minimum.
pub fn min4(a: PerMetric<f64>, b: PerMetric<f64>) -> PerMetric<f64> {
    [a[0].min(b[0]), a[1].min(b[1]), a[2].min(b[2]), a[3].min(b[3])]
}

/// Element-wise scaling.
pub fn scale4(a: PerMetric<f64>, k: f64) -> PerMetric<f64> {
    [a[0] * k, a[1] * k, a[2] * k, a[3] * k]
}

/// A set of metrics (bit i = metric i), used to declare which metrics a trace provides.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MetricSet(pub u8);

impl MetricSet {
    /// All four metrics.
    pub const ALL: MetricSet = MetricSet(0b1111);
    /// CPU only.
    pub const CPU: MetricSet = MetricSet(0b0001);
    /// Whether `m` is in the set.
    pub fn contains(self, m: Metric) -> bool {
        self.0 & (1 << m.index()) != 0
    }
    /// The set with `m` added.
    pub fn with(self, m: Metric) -> MetricSet {
        MetricSet(self.0 | (1 << m.index()))
    }
}
