//! The resource manager's per-workload allocation: groups of identical instances, each
//! launched together, placed on nodes, billed from launch, ready after the provisioning delay.

use crate::cluster::{Catalog, CreditState, NodeId, Nodes, TypeId, to_units};
use crate::policy::{AllocSummary, Target};
use crate::time::SimTime;

/// Instances of one type launched together.
#[derive(Clone, Debug)]
pub struct Group {
    /// Unique within its workload.
    pub id: u32,
    /// Instance type.
    pub ty: TypeId,
    /// Node of each instance.
    pub nodes: Vec<NodeId>,
    /// Launch time (billing starts).
    pub launched: SimTime,
    /// Whether the instances are ready (serving).
    pub ready: bool,
    /// When they became ready.
    pub ready_at: Option<SimTime>,
    /// Credit state of each instance (identical within a group: same launch, even load).
    pub credits: CreditState,
}

impl Group {
    /// Number of instances.
    pub fn count(&self) -> u32 {
        self.nodes.len() as u32
    }
}

/// Costs incurred by releasing instances.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ReleaseCost {
    /// Billing-minimum top-up, USD.
    pub instance_usd: f64,
    /// Surplus credits settled, USD.
    pub surplus_usd: f64,
}

impl ReleaseCost {
    fn add(&mut self, o: ReleaseCost) {
        self.instance_usd += o.instance_usd;
        self.surplus_usd += o.surplus_usd;
    }
}

/// Values derived from the groups, kept up to date on every change (the per-step
/// accounting reads them instead of walking the groups).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AllocCache {
    /// Type of the ready instances.
    pub ty: Option<TypeId>,
    /// Ready instances.
    pub ready: u32,
    /// Capacity of the ready instances per metric.
    pub capacity: [f64; 4],
    /// Price of every launched instance, USD per hour.
    pub price_usd_per_hour: f64,
    /// Whether any ready instance is burstable.
    pub burstable: bool,
}

/// All instances of one workload.
#[derive(Clone, Debug, Default)]
pub struct Allocation {
    /// Groups, oldest first.
    pub groups: Vec<Group>,
    next_id: u32,
    cache: AllocCache,
}

/// What a reconciliation did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Reconciled {
    /// Group launched (needs a ready event), if any.
    pub launched: Option<(u32, u32)>,
    /// Instances that could not be placed.
    pub denied: u32,
    /// Costs of instances released.
    pub released: ReleaseCost,
}

impl Allocation {
    /// The derived values.
    #[inline]
    pub fn cache(&self) -> &AllocCache {
        &self.cache
    }

    fn refresh(&mut self, catalog: &Catalog) {
        let mut c = AllocCache::default();
        for g in &self.groups {
            let t = catalog.get(g.ty);
            c.price_usd_per_hour += t.price_usd_per_hour * f64::from(g.count());
            if g.ready {
                c.ty = Some(g.ty);
                c.ready += g.count();
                c.burstable |= t.burstable.is_some();
            }
        }
        if let Some(ty) = c.ty {
            c.capacity = catalog.get(ty).capacity.map(|x| x * f64::from(c.ready));
        }
        self.cache = c;
    }

    /// Whether the cached values match the groups (checked by the invariant tests).
    pub fn cache_is_consistent(&self, catalog: &Catalog) -> bool {
        let mut copy = self.clone();
        copy.refresh(catalog);
        copy.cache == self.cache
    }

    /// Summary for policies.
    pub fn summary(&self, catalog: &Catalog) -> AllocSummary {
        let mut s = AllocSummary::default();
        for g in &self.groups {
            if g.ready {
                s.ty = Some(g.ty);
                s.ready += g.count();
            } else {
                s.pending_ty = Some(g.ty);
                s.pending += g.count();
            }
        }
        if let Some(ty) = s.ty {
            let cap = catalog.get(ty).capacity;
            s.capacity = cap.map(|c| c * f64::from(s.ready));
        }
        s
    }

    /// Ready type and count.
    pub fn ready(&self) -> (Option<TypeId>, u32) {
        let mut ty = None;
        let mut n = 0;
        for g in self.groups.iter().filter(|g| g.ready) {
            ty = Some(g.ty);
            n += g.count();
        }
        (ty, n)
    }

    /// Price of every launched instance, USD per hour.
    pub fn price_usd_per_hour(&self, catalog: &Catalog) -> f64 {
        self.groups
            .iter()
            .map(|g| catalog.get(g.ty).price_usd_per_hour * f64::from(g.count()))
            .sum()
    }

    fn launch(
        &mut self,
        catalog: &Catalog,
        nodes: &mut Nodes,
        ty: TypeId,
        n: u32,
        now: SimTime,
        ready: bool,
    ) -> (Option<u32>, u32) {
        let t = catalog.get(ty);
        let need = to_units(t.capacity);
        let mut placed = Vec::with_capacity(n as usize);
        for _ in 0..n {
            match nodes.place(need) {
                Some(node) => placed.push(node),
                None => break,
            }
        }
        let denied = n - placed.len() as u32;
        if placed.is_empty() {
            return (None, denied);
        }
        let id = self.next_id;
        self.next_id += 1;
        let credits = t.burstable.as_ref().map(CreditState::launched).unwrap_or_default();
        self.groups.push(Group {
            id,
            ty,
            nodes: placed,
            launched: now,
            ready,
            ready_at: ready.then_some(now),
            credits,
        });
        (Some(id), denied)
    }

    /// Removes `k` instances from group `gi` (the newest ones), releasing their nodes.
    fn shrink(
        &mut self,
        catalog: &Catalog,
        nodes: &mut Nodes,
        gi: usize,
        k: u32,
        now: SimTime,
        billing_min_ms: u64,
    ) -> ReleaseCost {
        let g = &mut self.groups[gi];
        let t = catalog.get(g.ty);
        let need = to_units(t.capacity);
        let k = k.min(g.count());
        for _ in 0..k {
            if let Some(node) = g.nodes.pop() {
                nodes.release(node, need);
            }
        }
        let lived = now.since(g.launched).ms();
        let mut cost = ReleaseCost::default();
        if lived < billing_min_ms {
            cost.instance_usd = (billing_min_ms - lived) as f64 / 3_600_000.0 * t.price_usd_per_hour * f64::from(k);
        }
        if let Some(b) = &t.burstable {
            cost.surplus_usd = g.credits.surplus * b.surplus_usd_per_credit * f64::from(k);
        }
        if g.nodes.is_empty() {
            self.groups.remove(gi);
        }
        cost
    }

    /// Releases everything (session end).
    pub fn release_all(
        &mut self,
        catalog: &Catalog,
        nodes: &mut Nodes,
        now: SimTime,
        billing_min_ms: u64,
    ) -> ReleaseCost {
        let mut cost = ReleaseCost::default();
        while let Some(gi) = self.groups.len().checked_sub(1) {
            let n = self.groups[gi].count();
            cost.add(self.shrink(catalog, nodes, gi, n, now, billing_min_ms));
        }
        self.refresh(catalog);
        cost
    }

    /// Deploys the initial allocation, ready at once.
    pub fn deploy(&mut self, catalog: &Catalog, nodes: &mut Nodes, target: Target, now: SimTime) -> u32 {
        let denied = self.launch(catalog, nodes, target.ty, target.replicas, now, true).1;
        self.refresh(catalog);
        denied
    }

    /// Moves toward `target`: launches what is missing (pending until ready), cancels pending
    /// instances that are not wanted, and removes ready instances beyond the target at once.
    /// A change of type keeps the old instances serving until the new ones are ready.
    pub fn reconcile(
        &mut self,
        catalog: &Catalog,
        nodes: &mut Nodes,
        target: Target,
        now: SimTime,
        billing_min_ms: u64,
    ) -> Reconciled {
        let mut out = Reconciled::default();
        // Cancel pending instances of another type.
        while let Some(gi) = self.groups.iter().rposition(|g| !g.ready && g.ty != target.ty) {
            let n = self.groups[gi].count();
            out.released
                .add(self.shrink(catalog, nodes, gi, n, now, billing_min_ms));
        }
        let (ready_ty, _) = self.ready();
        let same_type = ready_ty.is_none_or(|t| t == target.ty);
        let have: u32 = self
            .groups
            .iter()
            .filter(|g| g.ty == target.ty && (same_type || !g.ready))
            .map(Group::count)
            .sum();
        if target.replicas > have {
            let (id, denied) = self.launch(catalog, nodes, target.ty, target.replicas - have, now, false);
            out.denied = denied;
            out.launched = id.map(|id| (id, self.groups.last().map_or(0, Group::count)));
        } else if target.replicas < have {
            let mut excess = have - target.replicas;
            // Pending first (newest first), then ready ones (newest first).
            for pending_pass in [true, false] {
                while excess > 0 {
                    let Some(gi) = self
                        .groups
                        .iter()
                        .rposition(|g| g.ty == target.ty && g.ready != pending_pass && (same_type || !g.ready))
                    else {
                        break;
                    };
                    let k = excess.min(self.groups[gi].count());
                    out.released
                        .add(self.shrink(catalog, nodes, gi, k, now, billing_min_ms));
                    excess -= k;
                }
            }
        }
        self.refresh(catalog);
        out
    }

    /// Marks group `id` ready. If it completes a change of type (no more pending instances of
    /// its type), the old type's instances are released.
    pub fn mark_ready(
        &mut self,
        catalog: &Catalog,
        nodes: &mut Nodes,
        id: u32,
        now: SimTime,
        billing_min_ms: u64,
    ) -> ReleaseCost {
        let mut cost = ReleaseCost::default();
        let Some(gi) = self.groups.iter().position(|g| g.id == id) else {
            return cost;
        };
        self.groups[gi].ready = true;
        self.groups[gi].ready_at = Some(now);
        let ty = self.groups[gi].ty;
        let still_pending = self.groups.iter().any(|g| g.ty == ty && !g.ready);
        if !still_pending {
            while let Some(old) = self.groups.iter().rposition(|g| g.ready && g.ty != ty) {
                let n = self.groups[old].count();
                cost.add(self.shrink(catalog, nodes, old, n, now, billing_min_ms));
            }
        }
        self.refresh(catalog);
        cost
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::schema::{CatalogSpec, Placement};

    fn setup() -> (Catalog, Nodes) {
        let cat = Catalog::from_spec(&CatalogSpec::default());
        let nodes = Nodes::new(
            vec![to_units([16.0, 64.0, 10_000.0, 100_000.0]); 2],
            Placement::FirstFit,
        );
        (cat, nodes)
    }

    #[test]
    fn horizontal_scale_up_then_down() {
        let (cat, mut nodes) = setup();
        let m5 = cat.id_of("m5.large").unwrap();
        let mut a = Allocation::default();
        assert_eq!(
            a.deploy(&cat, &mut nodes, Target { ty: m5, replicas: 2 }, SimTime(0)),
            0
        );
        let r = a.reconcile(&cat, &mut nodes, Target { ty: m5, replicas: 5 }, SimTime(1000), 60_000);
        assert!(a.cache_is_consistent(&cat));
        assert_eq!(r.launched.map(|l| l.1), Some(3));
        let s = a.summary(&cat);
        assert_eq!((s.ready, s.pending), (2, 3));
        a.mark_ready(&cat, &mut nodes, r.launched.unwrap().0, SimTime(91_000), 60_000);
        assert_eq!(a.summary(&cat).ready, 5);
        // Down to 1: removes the newest first; the group launched at 1 s lived 9 s past its
        // minimum, so no top-up.
        let r = a.reconcile(
            &cat,
            &mut nodes,
            Target { ty: m5, replicas: 1 },
            SimTime(100_000),
            60_000,
        );
        assert_eq!(r.released.instance_usd, 0.0);
        assert_eq!(a.summary(&cat).ready, 1);
        assert!(a.cache_is_consistent(&cat));
        assert_eq!(a.cache().ready, 1);
    }

    #[test]
    fn billing_minimum_on_early_release() {
        let (cat, mut nodes) = setup();
        let m5 = cat.id_of("m5.large").unwrap();
        let mut a = Allocation::default();
        a.deploy(&cat, &mut nodes, Target { ty: m5, replicas: 1 }, SimTime(0));
        let r = a.reconcile(&cat, &mut nodes, Target { ty: m5, replicas: 2 }, SimTime(0), 60_000);
        let c = a.reconcile(
            &cat,
            &mut nodes,
            Target { ty: m5, replicas: 1 },
            SimTime(20_000),
            60_000,
        );
        assert!(r.launched.is_some());
        // The cancelled pending instance lived 20 s: 40 s more are billed.
        assert!((c.released.instance_usd - 40.0 / 3600.0 * 0.096).abs() < 1e-12);
    }

    #[test]
    fn vertical_change_keeps_old_until_new_ready() {
        let (cat, mut nodes) = setup();
        let small = cat.id_of("m5.large").unwrap();
        let big = cat.id_of("m5.2xlarge").unwrap();
        let mut a = Allocation::default();
        a.deploy(&cat, &mut nodes, Target { ty: small, replicas: 1 }, SimTime(0));
        let r = a.reconcile(&cat, &mut nodes, Target { ty: big, replicas: 1 }, SimTime(1000), 60_000);
        let s = a.summary(&cat);
        assert_eq!((s.ty, s.ready, s.pending_ty, s.pending), (Some(small), 1, Some(big), 1));
        a.mark_ready(&cat, &mut nodes, r.launched.unwrap().0, SimTime(91_000), 60_000);
        let s = a.summary(&cat);
        assert_eq!((s.ty, s.ready, s.pending), (Some(big), 1, 0));
        assert_eq!(a.groups.len(), 1);
    }

    #[test]
    fn denials_when_nodes_are_full() {
        let (cat, mut nodes) = setup();
        let big = cat.id_of("m5.4xlarge").unwrap(); // 16 cores: one per node
        let mut a = Allocation::default();
        assert_eq!(
            a.deploy(&cat, &mut nodes, Target { ty: big, replicas: 3 }, SimTime(0)),
            1
        );
        assert_eq!(a.summary(&cat).ready, 2);
    }
}
