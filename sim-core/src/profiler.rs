//! The workload profiler: samples every metric at a fixed interval, absolute and as a share
//! of the allocation, and keeps a bounded history.
//!
//! It sees what a metrics pipeline sees — usage (served load), never the true demand — and
//! keeps per workload: the latest sample, a ring of recent samples (`profiler.recent_window`
//! at the sampling interval) and a ring of hourly means (`profiler.hourly_window`). Memory per
//! workload is fixed when it is created: long runs do not grow.

use crate::time::{MS_PER_HOUR, SimTime};

/// One profiler sample: means over the sampling interval ending at `t`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sample {
    /// End of the interval.
    pub t: SimTime,
    /// Mean usage per metric (cores, GiB, MB/s, Mbit/s).
    pub usage: [f64; 4],
    /// Mean usable capacity (allocation) per metric.
    pub capacity: [f64; 4],
    /// Whether an out-of-memory restart began in the interval.
    pub oom: bool,
    /// Share of the interval in SLO violation.
    pub violation_share: f64,
}

impl Sample {
    /// Usage as a share of the allocation (0 when nothing is allocated).
    pub fn utilization(&self, m: usize) -> f64 {
        if self.capacity[m] > 0.0 {
            self.usage[m] / self.capacity[m]
        } else {
            0.0
        }
    }
}

/// A fixed-capacity ring buffer.
#[derive(Clone, Debug, Default)]
pub struct Ring<T: Copy> {
    buf: Vec<T>,
    head: usize,
    len: usize,
}

impl<T: Copy + Default> Ring<T> {
    /// An empty ring holding at most `cap` items.
    pub fn with_capacity(cap: usize) -> Self {
        Ring {
            buf: vec![T::default(); cap.max(1)],
            head: 0,
            len: 0,
        }
    }
    /// Appends, dropping the oldest item when full.
    #[inline]
    pub fn push(&mut self, v: T) {
        let cap = self.buf.len();
        let mut idx = self.head + self.len;
        if idx >= cap {
            idx -= cap;
        }
        self.buf[idx] = v;
        if self.len < cap {
            self.len += 1;
        } else {
            self.head += 1;
            if self.head == cap {
                self.head = 0;
            }
        }
    }
    /// Number of items held.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// Capacity.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }
    /// The `i`-th item, oldest first.
    pub fn get(&self, i: usize) -> Option<T> {
        (i < self.len).then(|| self.buf[(self.head + i) % self.buf.len()])
    }
    /// The newest item.
    pub fn last(&self) -> Option<T> {
        self.len.checked_sub(1).and_then(|i| self.get(i))
    }
    /// Items oldest first.
    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        (0..self.len).map(move |i| self.buf[(self.head + i) % self.buf.len()])
    }
}

/// A recent sample as kept in the ring: mean usage and the hour-of-week slot it was taken in.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Recent {
    /// Mean usage per metric.
    pub usage: [f32; 4],
    /// Hour-of-week slot (0 = Monday 00:00).
    pub slot: u8,
}

/// What the profiler holds for one workload.
#[derive(Clone, Debug, Default)]
pub struct Profile {
    /// The latest completed sample.
    pub last: Option<Sample>,
    /// Recent samples, oldest first.
    pub recent: Ring<Recent>,
    /// Hourly mean usage, oldest first (complete hours only).
    pub hourly: Ring<[f32; 4]>,
    /// Samples taken so far (over the workload's whole life).
    pub samples: u64,
    acc_usage: [f64; 4],
    acc_cap: [f64; 4],
    acc_ms: u64,
    acc_violation_ms: f64,
    acc_oom: bool,
    hour_usage: [f64; 4],
    hour_ms: u64,
}

impl Profile {
    /// A profile with room for `recent` samples and `hours` hourly means.
    pub fn new(recent: usize, hours: usize) -> Profile {
        Profile {
            recent: Ring::with_capacity(recent),
            hourly: Ring::with_capacity(hours),
            ..Profile::default()
        }
    }

    /// Adds `ms` milliseconds of observation: usage and capacity rates per metric.
    #[inline]
    pub fn observe(&mut self, usage: &[f64; 4], capacity: &[f64; 4], ms: u64, violation_ms: f64) {
        let w = ms as f64;
        for m in 0..4 {
            self.acc_usage[m] += usage[m] * w;
            self.acc_cap[m] += capacity[m] * w;
            self.hour_usage[m] += usage[m] * w;
        }
        self.acc_ms += ms;
        self.hour_ms += ms;
        self.acc_violation_ms += violation_ms;
    }

    /// Notes that an OOM restart began.
    pub fn note_oom(&mut self) {
        self.acc_oom = true;
    }

    /// Closes the sampling interval ending at `t` (no-op if nothing was observed); `slot` is
    /// the hour-of-week slot of the interval's start.
    pub fn close_interval(&mut self, t: SimTime, slot: u8) {
        if self.acc_ms == 0 {
            return;
        }
        let w = self.acc_ms as f64;
        let s = Sample {
            t,
            usage: self.acc_usage.map(|x| x / w),
            capacity: self.acc_cap.map(|x| x / w),
            oom: self.acc_oom,
            violation_share: self.acc_violation_ms / w,
        };
        self.recent.push(Recent {
            usage: s.usage.map(|x| x as f32),
            slot,
        });
        self.last = Some(s);
        self.samples += 1;
        self.acc_usage = [0.0; 4];
        self.acc_cap = [0.0; 4];
        self.acc_ms = 0;
        self.acc_violation_ms = 0.0;
        self.acc_oom = false;
        if self.hour_ms >= MS_PER_HOUR {
            let w = self.hour_ms as f64;
            self.hourly.push(self.hour_usage.map(|x| (x / w) as f32));
            self.hour_usage = [0.0; 4];
            self.hour_ms = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_keeps_the_newest() {
        let mut r: Ring<u32> = Ring::with_capacity(3);
        for i in 0..5 {
            r.push(i);
        }
        assert_eq!(r.iter().collect::<Vec<_>>(), vec![2, 3, 4]);
        assert_eq!(r.last(), Some(4));
        assert_eq!(r.len(), 3);
    }

    #[test]
    fn samples_are_time_weighted_means() {
        let mut p = Profile::new(4, 2);
        p.observe(&[1.0, 2.0, 0.0, 0.0], &[2.0, 4.0, 1.0, 1.0], 1000, 0.0);
        p.observe(&[3.0, 2.0, 0.0, 0.0], &[2.0, 4.0, 1.0, 1.0], 3000, 3000.0);
        p.close_interval(SimTime(4000), 0);
        let s = p.last.unwrap();
        assert_eq!(s.usage[0], 2.5);
        assert_eq!(s.utilization(0), 1.25);
        assert_eq!(s.violation_share, 0.75);
        assert_eq!(p.recent.len(), 1);
        assert_eq!(p.hourly.len(), 0);
    }
}
