//! Nodes (hosts) and instance placement.
//!
//! Capacities are held as integers (millicores, MiB, KB/s, kbit/s) so that "a node's capacity
//! is never exceeded" is exact arithmetic, not a floating-point tolerance. A max-segment tree
//! over the nodes' free capacity makes first fit O(log n) in the usual case; best fit scans an
//! ordered index of free CPU from the smallest sufficient value.

use std::collections::BTreeSet;

use crate::scenario::schema::Placement;

/// Integer resource amounts: millicores, MiB, KB/s, kbit/s.
pub type Units = [u64; 4];

/// Converts an amount in metric units (cores, GiB, MB/s, Mbit/s) to integer [`Units`],
/// rounding up so that a placed instance never gets less than its type's capacity.
pub fn to_units(amount: [f64; 4]) -> Units {
    let scale = [1000.0, 1024.0, 1000.0, 1000.0];
    let mut u = [0u64; 4];
    for m in 0..4 {
        let v = (amount[m].max(0.0) * scale[m]).ceil();
        u[m] = if v.is_finite() {
            v.min(u64::MAX as f64 / 4.0) as u64
        } else {
            0
        };
    }
    u
}

/// Index of a node.
pub type NodeId = u32;

/// The nodes of a cluster and their free capacity.
#[derive(Clone, Debug)]
pub struct Nodes {
    capacity: Vec<Units>,
    free: Vec<Units>,
    /// Segment tree of per-dimension maxima of `free` (1-based heap layout).
    tree: Vec<Units>,
    leaves: usize,
    by_free_cpu: BTreeSet<(u64, u64, NodeId)>,
    placement: Placement,
}

impl Nodes {
    /// Nodes with these capacities, all empty.
    pub fn new(capacity: Vec<Units>, placement: Placement) -> Nodes {
        let leaves = capacity.len().next_power_of_two().max(1);
        let mut n = Nodes {
            free: capacity.clone(),
            capacity,
            tree: vec![[0; 4]; 2 * leaves],
            leaves,
            by_free_cpu: BTreeSet::new(),
            placement,
        };
        for i in 0..n.free.len() {
            n.tree[leaves + i] = n.free[i];
            if placement == Placement::BestFit {
                n.by_free_cpu.insert((n.free[i][0], n.free[i][1], i as NodeId));
            }
        }
        for i in (1..leaves).rev() {
            n.tree[i] = max4(n.tree[2 * i], n.tree[2 * i + 1]);
        }
        n
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.capacity.len()
    }
    /// Whether there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.capacity.is_empty()
    }
    /// Free capacity of a node.
    pub fn free(&self, n: NodeId) -> Units {
        self.free[n as usize]
    }
    /// Total capacity of a node.
    pub fn capacity(&self, n: NodeId) -> Units {
        self.capacity[n as usize]
    }

    /// Places one instance needing `need`; returns its node, or `None` (a capacity denial).
    pub fn place(&mut self, need: Units) -> Option<NodeId> {
        let node = match self.placement {
            Placement::FirstFit => self.first_fit(1, need),
            Placement::BestFit => self.best_fit(need),
        }?;
        self.set_free(node, sub4(self.free[node as usize], need));
        Some(node)
    }

    /// Returns an instance's capacity to its node.
    pub fn release(&mut self, node: NodeId, need: Units) {
        let f = self.free[node as usize];
        let mut back = [0u64; 4];
        for m in 0..4 {
            back[m] = (f[m] + need[m]).min(self.capacity[node as usize][m]);
        }
        self.set_free(node, back);
    }

    fn set_free(&mut self, node: NodeId, f: Units) {
        let i = node as usize;
        if self.placement == Placement::BestFit {
            self.by_free_cpu.remove(&(self.free[i][0], self.free[i][1], node));
            self.by_free_cpu.insert((f[0], f[1], node));
        }
        self.free[i] = f;
        let mut k = self.leaves + i;
        self.tree[k] = f;
        while k > 1 {
            k /= 2;
            self.tree[k] = max4(self.tree[2 * k], self.tree[2 * k + 1]);
        }
    }

    fn first_fit(&self, k: usize, need: Units) -> Option<NodeId> {
        if !fits(self.tree[k], need) {
            return None;
        }
        if k >= self.leaves {
            let i = k - self.leaves;
            return (i < self.free.len()).then_some(i as NodeId);
        }
        self.first_fit(2 * k, need).or_else(|| self.first_fit(2 * k + 1, need))
    }

    fn best_fit(&self, need: Units) -> Option<NodeId> {
        self.by_free_cpu
            .range((need[0], 0, 0)..)
            .find(|&&(_, _, n)| fits(self.free[n as usize], need))
            .map(|&(_, _, n)| n)
    }
}

fn fits(free: Units, need: Units) -> bool {
    free[0] >= need[0] && free[1] >= need[1] && free[2] >= need[2] && free[3] >= need[3]
}

fn max4(a: Units, b: Units) -> Units {
    [a[0].max(b[0]), a[1].max(b[1]), a[2].max(b[2]), a[3].max(b[3])]
}

fn sub4(a: Units, b: Units) -> Units {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3]]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(cpu: u64, mem: u64) -> Units {
        [cpu, mem, 1000, 1000]
    }

    fn need(cpu: u64, mem: u64) -> Units {
        [cpu, mem, 0, 0]
    }

    #[test]
    fn first_fit_takes_the_first_node_with_room() {
        let mut n = Nodes::new(
            vec![cap(2000, 4096), cap(8000, 32768), cap(8000, 32768)],
            Placement::FirstFit,
        );
        assert_eq!(n.place(need(4000, 1024)), Some(1));
        assert_eq!(n.place(need(1000, 1024)), Some(0));
        assert_eq!(n.place(need(4000, 1024)), Some(1));
        assert_eq!(n.place(need(4000, 1024)), Some(2));
        assert_eq!(n.place(need(8000, 1024)), None);
        n.release(1, need(4000, 1024));
        assert_eq!(n.place(need(4000, 1024)), Some(1));
    }

    #[test]
    fn best_fit_takes_the_tightest_node() {
        let mut n = Nodes::new(
            vec![cap(8000, 32768), cap(3000, 16384), cap(4000, 16384)],
            Placement::BestFit,
        );
        assert_eq!(n.place(need(3500, 1024)), Some(2));
        assert_eq!(n.place(need(3000, 1024)), Some(1));
        // Memory also has to fit: node 0 is the only one with 30 GiB free.
        assert_eq!(n.place(need(100, 30000)), Some(0));
    }

    #[test]
    fn capacity_is_never_exceeded() {
        let mut n = Nodes::new(vec![cap(4000, 8192); 5], Placement::FirstFit);
        let mut placed = 0;
        while n.place(need(1500, 1000)).is_some() {
            placed += 1;
        }
        assert_eq!(placed, 10); // two per node
        for i in 0..5 {
            assert!(n.free(i)[0] <= n.capacity(i)[0]);
        }
    }
}
