//! The experiment file schema: what an `experiments/*.ron` file may contain.
//!
//! Values of parameters (`grid`, `linked`, `set`) and policy entries are captured as raw RON
//! text ([`RawValue`]) and applied to the scenario with
//! [`crate::scenario::overrides::apply`], exactly like `shadowsim run --set`. A value is
//! therefore written exactly as it would be written in the scenario file: `"5m"` for a
//! duration, `0.7` for a number, `Upper` or `BestFit` for an enum, `Exp(mean: "3d")` for a
//! distribution. Capturing the text (rather than a generic RON value, which drops enum variant
//! names) keeps every value intact.

use std::fmt;

use ron::value::RawValue;
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An experiment file: `Experiment(name: ..., scenario: ..., grid: [...], ...)`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, rename = "Experiment")]
pub struct ExperimentFile {
    /// Short name (reports, manifest).
    pub name: String,
    /// What the experiment is for (free text; the question belongs in the header comment).
    pub description: String,
    /// The base scenario: a path relative to the experiment file (`"../scenarios/x.ron"`) or
    /// an inline `Scenario(...)`. Required.
    pub scenario: Option<Box<RawValue>>,
    /// Fixed overrides applied to the base scenario before the grid, in file order:
    /// `{"duration": "6h", "cluster.placement": BestFit}`.
    pub set: SetList,
    /// Parameters crossed with each other (cartesian product, first parameter slowest).
    pub grid: Vec<ParamSpec>,
    /// Groups of parameters that vary together: within a group, value lists of equal length
    /// are zipped; each group is then crossed with the grid as one more dimension.
    pub linked: Vec<Vec<ParamSpec>>,
    /// The policies to compare, replacing the scenario's: a name selects a policy of the
    /// scenario (`"static"`), a policy spec adds one (`Threshold(name: "t60", up: 0.6)`).
    /// Absent: the scenario's policies.
    pub policies: Option<Vec<Box<RawValue>>>,
    /// The seeds of every grid point: `Replications(10)` (derived from the base scenario's
    /// seed) or `List([1, 2, 3])`. Required.
    pub seeds: Option<SeedsSpec>,
    /// Policy that paired differences are taken against (default: the first policy).
    pub reference: Option<String>,
}

/// One swept parameter: a scenario field path and the values it takes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ParamSpec {
    /// Field path, as for `--set`: `cluster.provisioning_delay`, `policies[1].up`,
    /// `archetypes."db-read".load.noise.sigma`.
    pub path: String,
    /// The values, written as in a scenario file.
    pub values: Vec<Box<RawValue>>,
}

/// How the seeds of a sweep are chosen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SeedsSpec {
    /// N seeds drawn from the sweep stream of the base scenario's seed (see
    /// [`super::plan::derive_seeds`]); the first N of N+1 replications are the same seeds.
    Replications(u32),
    /// These seeds, in this order.
    List(Vec<u64>),
}

/// An ordered list of `path: value` overrides, written as a RON map
/// (`{"duration": "6h", "policies[1].up": 0.7}`); file order is kept.
#[derive(Clone, Debug, Default)]
pub struct SetList(pub Vec<(String, Box<RawValue>)>);

impl Serialize for SetList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for SetList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SetList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map from field paths to values, such as {\"duration\": \"6h\"}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SetList, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Box<RawValue>>()? {
                    out.push((k, v));
                }
                Ok(SetList(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// A fully populated experiment: the source of field names for did-you-mean suggestions.
pub fn example() -> ExperimentFile {
    let raw = |s: &str| RawValue::from_boxed_ron(s.into()).ok();
    let values: Vec<Box<RawValue>> = raw("1").into_iter().collect();
    let param = ParamSpec {
        path: "seed".into(),
        values: values.clone(),
    };
    ExperimentFile {
        name: "example".into(),
        description: "example".into(),
        scenario: raw("\"x.ron\""),
        set: SetList(raw("1").map(|v| ("seed".to_string(), v)).into_iter().collect()),
        grid: vec![param.clone()],
        linked: vec![vec![param]],
        policies: Some(values),
        seeds: Some(SeedsSpec::Replications(1)),
        reference: Some("static".into()),
    }
}
