//! The event queue: a binary heap ordered by (time, kind, sequence number).
//!
//! Ties at the same instant break by event kind (a fixed order, below) and then by insertion
//! sequence, so every run processes events in exactly the same order. Periodic events (steps,
//! control ticks, refits) are single global events that re-arm themselves: the queue holds
//! O(workloads) entries, never O(workloads × periods).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::time::SimTime;

/// Event kinds in the order they are processed at the same instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventKind {
    /// Launched instances of one workload become ready.
    InstanceReady = 0,
    /// A workload's session ends (it releases everything).
    SessionEnd = 1,
    /// A workload's session starts (it is deployed).
    SessionStart = 2,
    /// Every active workload is accounted up to now and gets its next step's demand.
    Step = 3,
    /// A global model refit (shadow profiles).
    Refit = 4,
    /// A policy control tick.
    PolicyTick = 5,
    /// The end of the run.
    End = 6,
}

/// A scheduled event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Event {
    /// When.
    pub time: SimTime,
    /// What.
    pub kind: EventKind,
    /// Insertion order (tie-breaker).
    pub seq: u64,
    /// Workload id (per-workload events).
    pub workload: u32,
    /// Extra datum (instance-group id).
    pub datum: u32,
}

/// The queue.
#[derive(Debug, Default)]
pub struct Queue {
    heap: BinaryHeap<Reverse<Event>>,
    seq: u64,
    processed: u64,
}

impl Queue {
    /// Schedules an event.
    pub fn push(&mut self, time: SimTime, kind: EventKind, workload: u32, datum: u32) {
        self.seq += 1;
        self.heap.push(Reverse(Event {
            time,
            kind,
            seq: self.seq,
            workload,
            datum,
        }));
    }
    /// The next event, if any.
    pub fn pop(&mut self) -> Option<Event> {
        let e = self.heap.pop().map(|Reverse(e)| e);
        if e.is_some() {
            self.processed += 1;
        }
        e
    }
    /// The time of the next event, if any (it stays queued).
    pub fn next_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|Reverse(e)| e.time)
    }
    /// Events processed so far.
    pub fn processed(&self) -> u64 {
        self.processed
    }
    /// Events waiting.
    pub fn len(&self) -> usize {
        self.heap.len()
    }
    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_by_time_then_kind_then_insertion() {
        let mut q = Queue::default();
        q.push(SimTime(10), EventKind::PolicyTick, 0, 0);
        q.push(SimTime(10), EventKind::Step, 0, 0);
        q.push(SimTime(5), EventKind::End, 0, 0);
        q.push(SimTime(10), EventKind::InstanceReady, 2, 0);
        q.push(SimTime(10), EventKind::InstanceReady, 1, 0);
        let order: Vec<(u64, EventKind, u32)> = std::iter::from_fn(|| q.pop())
            .map(|e| (e.time.0, e.kind, e.workload))
            .collect();
        assert_eq!(
            order,
            vec![
                (5, EventKind::End, 0),
                (10, EventKind::InstanceReady, 2),
                (10, EventKind::InstanceReady, 1),
                (10, EventKind::Step, 0),
                (10, EventKind::PolicyTick, 0),
            ]
        );
    }
}
