//! The instance-type catalog: sizes, prices and burstable credit models.
//!
//! The built-in catalog is AWS us-east-1 Linux on-demand: the T3 table of BASELINES.md §6
//! (credits per hour, accrual caps, $0.05 per vCPU-hour surplus, unlimited mode, no launch
//! credits) and the general-purpose M5, compute C5 and memory R5 families. Network and disk
//! figures are the types' published "up to" network and EBS bandwidths.

use crate::scenario::schema::{BuiltinCatalog, BurstableSpec, CatalogSpec, CreditMode, InstanceTypeSpec};

/// Index of an instance type in the [`Catalog`].
pub type TypeId = u16;

/// A compiled instance type.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceType {
    /// Name (`"t3.large"`).
    pub name: String,
    /// Capacity per instance: CPU cores (vCPUs), memory GiB, disk MB/s, network Mbit/s.
    pub capacity: [f64; 4],
    /// Price per instance-hour, USD.
    pub price_usd_per_hour: f64,
    /// Credit model, for burstable types.
    pub burstable: Option<Burstable>,
}

/// A compiled credit model (one credit = one vCPU at 100 % for one minute).
#[derive(Clone, Debug, PartialEq)]
pub struct Burstable {
    /// Credits earned per hour.
    pub credits_per_hour: f64,
    /// Accrual cap.
    pub max_credits: f64,
    /// Credits at launch.
    pub launch_credits: f64,
    /// Standard or unlimited.
    pub mode: CreditMode,
    /// USD per surplus credit (= price per vCPU-hour / 60).
    pub surplus_usd_per_credit: f64,
}

impl Burstable {
    /// Baseline utilization per vCPU, as a fraction (credits per hour / vCPUs / 60).
    pub fn baseline_fraction(&self, vcpus: f64) -> f64 {
        self.credits_per_hour / vcpus / 60.0
    }
}

/// The catalog of a run, sorted by price (then name) so "cheapest that fits" is a scan.
#[derive(Clone, Debug, PartialEq)]
pub struct Catalog {
    types: Vec<InstanceType>,
}

/// A built-in row: name, vCPUs, GiB, disk MB/s, USD/h, net Mbit/s, burstable (credits/h, cap).
type Row = (&'static str, f64, f64, f64, f64, f64, Option<(f64, f64)>);

const fn t3(name: &'static str, vcpus: f64, mem: f64, price: f64, cph: f64, cap: f64) -> Row {
    (name, vcpus, mem, 260.0, price, 5_000.0, Some((cph, cap)))
}

const AWS: &[Row] = &[
    t3("t3.nano", 2.0, 0.5, 0.0052, 6.0, 144.0),
    t3("t3.micro", 2.0, 1.0, 0.0104, 12.0, 288.0),
    t3("t3.small", 2.0, 2.0, 0.0208, 24.0, 576.0),
    t3("t3.medium", 2.0, 4.0, 0.0416, 24.0, 576.0),
    t3("t3.large", 2.0, 8.0, 0.0832, 36.0, 864.0),
    t3("t3.xlarge", 4.0, 16.0, 0.1664, 96.0, 2304.0),
    t3("t3.2xlarge", 8.0, 32.0, 0.3328, 192.0, 4608.0),
    ("m5.large", 2.0, 8.0, 593.0, 0.096, 10_000.0, None),
    ("m5.xlarge", 4.0, 16.0, 593.0, 0.192, 10_000.0, None),
    ("m5.2xlarge", 8.0, 32.0, 593.0, 0.384, 10_000.0, None),
    ("m5.4xlarge", 16.0, 64.0, 593.0, 0.768, 10_000.0, None),
    ("m5.8xlarge", 32.0, 128.0, 850.0, 1.536, 10_000.0, None),
    ("m5.12xlarge", 48.0, 192.0, 1_188.0, 2.304, 12_000.0, None),
    ("c5.large", 2.0, 4.0, 593.0, 0.085, 10_000.0, None),
    ("c5.xlarge", 4.0, 8.0, 593.0, 0.17, 10_000.0, None),
    ("c5.2xlarge", 8.0, 16.0, 593.0, 0.34, 10_000.0, None),
    ("c5.4xlarge", 16.0, 32.0, 593.0, 0.68, 10_000.0, None),
    ("c5.9xlarge", 36.0, 72.0, 1_188.0, 1.53, 12_000.0, None),
    ("r5.large", 2.0, 16.0, 593.0, 0.126, 10_000.0, None),
    ("r5.xlarge", 4.0, 32.0, 593.0, 0.252, 10_000.0, None),
    ("r5.2xlarge", 8.0, 64.0, 593.0, 0.504, 10_000.0, None),
    ("r5.4xlarge", 16.0, 128.0, 593.0, 1.008, 10_000.0, None),
    ("r5.8xlarge", 32.0, 256.0, 850.0, 2.016, 10_000.0, None),
];

/// The built-in AWS catalog as scenario-level specs (for documentation and `exclude` checks).
pub fn builtin_aws() -> Vec<InstanceTypeSpec> {
    AWS.iter()
        .map(|&(name, vcpus, mem, disk, price, net, burst)| InstanceTypeSpec {
            name: name.to_string(),
            vcpus,
            mem_gib: mem,
            disk_mbps: disk,
            net_mbps: net,
            price_usd_per_hour: price,
            burstable: burst.map(|(cph, cap)| BurstableSpec {
                credits_per_hour: cph,
                max_credits: cap,
                launch_credits: 0.0,
                mode: CreditMode::Unlimited,
                surplus_usd_per_vcpu_hour: 0.05,
            }),
        })
        .collect()
}

/// The scenario-level type list a catalog spec resolves to (built-in minus excluded, with
/// user types added or replacing built-ins of the same name), in a stable order.
pub fn resolve_specs(spec: &CatalogSpec) -> Vec<InstanceTypeSpec> {
    let mut out: Vec<InstanceTypeSpec> = match spec.builtin {
        BuiltinCatalog::Aws => builtin_aws(),
        BuiltinCatalog::Empty => Vec::new(),
    };
    out.retain(|t| !spec.exclude.contains(&t.name));
    for t in &spec.types {
        if let Some(slot) = out.iter_mut().find(|o| o.name == t.name) {
            *slot = t.clone();
        } else {
            out.push(t.clone());
        }
    }
    out
}

impl Catalog {
    /// Builds the catalog from a (validated) spec.
    pub fn from_spec(spec: &CatalogSpec) -> Catalog {
        Catalog::from_types(
            resolve_specs(spec)
                .into_iter()
                .map(|t| InstanceType {
                    name: t.name,
                    capacity: [t.vcpus, t.mem_gib, t.disk_mbps, t.net_mbps],
                    price_usd_per_hour: t.price_usd_per_hour,
                    burstable: t.burstable.map(|b| Burstable {
                        credits_per_hour: b.credits_per_hour,
                        max_credits: b.max_credits,
                        launch_credits: b.launch_credits,
                        mode: b.mode,
                        surplus_usd_per_credit: b.surplus_usd_per_vcpu_hour / 60.0,
                    }),
                })
                .collect(),
        )
    }

    /// A catalog of these types (sorted by price, then name).
    pub fn from_types(mut types: Vec<InstanceType>) -> Catalog {
        types.sort_by(|a, b| {
            a.price_usd_per_hour
                .total_cmp(&b.price_usd_per_hour)
                .then_with(|| a.name.cmp(&b.name))
        });
        Catalog { types }
    }

    /// All types, cheapest first.
    pub fn types(&self) -> &[InstanceType] {
        &self.types
    }

    /// The type with this id.
    pub fn get(&self, id: TypeId) -> &InstanceType {
        &self.types[id as usize]
    }

    /// The id of the type with this name.
    pub fn id_of(&self, name: &str) -> Option<TypeId> {
        self.types.iter().position(|t| t.name == name).map(|i| i as TypeId)
    }

    /// The cheapest type whose capacity covers `need` in every metric where `need` is
    /// positive; burstable types only if `allow_burstable`. Ties go to the larger CPU, then
    /// the name order. `None` if nothing is big enough.
    pub fn cheapest_fitting(&self, need: [f64; 4], allow_burstable: bool) -> Option<TypeId> {
        self.types
            .iter()
            .enumerate()
            .filter(|(_, t)| allow_burstable || t.burstable.is_none())
            .filter(|(_, t)| (0..4).all(|m| t.capacity[m] >= need[m] - 1e-9))
            .map(|(i, _)| i as TypeId)
            .next()
    }

    /// The largest type by CPU (then memory) of the same burstability as `like`.
    pub fn largest(&self, allow_burstable: bool) -> Option<TypeId> {
        self.types
            .iter()
            .enumerate()
            .filter(|(_, t)| allow_burstable || t.burstable.is_none())
            .max_by(|a, b| {
                a.1.capacity[0]
                    .total_cmp(&b.1.capacity[0])
                    .then(a.1.capacity[1].total_cmp(&b.1.capacity[1]))
            })
            .map(|(i, _)| i as TypeId)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_t3_table_matches_baselines() {
        let cat = Catalog::from_spec(&CatalogSpec::default());
        let micro = cat.get(cat.id_of("t3.micro").unwrap());
        let b = micro.burstable.as_ref().unwrap();
        assert_eq!((b.credits_per_hour, b.max_credits), (12.0, 288.0));
        assert!((b.baseline_fraction(2.0) - 0.10).abs() < 1e-12);
        let xl = cat.get(cat.id_of("t3.xlarge").unwrap());
        assert!((xl.burstable.as_ref().unwrap().baseline_fraction(4.0) - 0.40).abs() < 1e-12);
        assert!((b.surplus_usd_per_credit - 0.05 / 60.0).abs() < 1e-15);
    }

    #[test]
    fn cheapest_fitting_respects_burstability() {
        let cat = Catalog::from_spec(&CatalogSpec::default());
        let id = cat.cheapest_fitting([2.0, 4.0, 0.0, 0.0], false).unwrap();
        assert_eq!(cat.get(id).name, "c5.large");
        let id = cat.cheapest_fitting([2.0, 4.0, 0.0, 0.0], true).unwrap();
        assert_eq!(cat.get(id).name, "t3.medium");
        let id = cat.cheapest_fitting([3.0, 20.0, 0.0, 0.0], false).unwrap();
        assert_eq!(cat.get(id).name, "r5.xlarge");
        assert!(cat.cheapest_fitting([1000.0, 1.0, 0.0, 0.0], true).is_none());
    }
}
