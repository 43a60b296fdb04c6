//! The RON scenario schema: what a scenario file may contain, field by field.
//!
//! Every struct here is a serialization boundary: it is what users write, with `serde`
//! defaults for everything that has a sensible one. Meaning is checked by
//! [`super::validate`]; the engine never sees these types directly but the compiled model
//! built from them ([`crate::model`]).
//!
//! The README's scenario reference is generated from the same documentation.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::dur::{Dist, Dur, DurDist};
use crate::metric::Metric;
use crate::time::Weekday;

/// A whole scenario: the cluster, the workload population, the policies to compare, and what
/// to write out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Scenario {
    /// Short name, used in reports.
    pub name: String,
    /// What the scenario is meant to show.
    pub description: String,
    /// Seed of every random stream. `shadowsim run --seed N` overrides it.
    pub seed: u64,
    /// Simulated length of the run.
    pub duration: Dur,
    /// Demand sample interval: a workload's demand is constant within one step. Every other
    /// interval (profiler, control loops) must be a multiple of it or a divisor of it.
    pub step: Dur,
    /// Day of week at time zero (time zero is 00:00 on that day).
    pub start_weekday: Weekday,
    /// Nodes, instance catalog, placement and provisioning.
    pub cluster: ClusterSpec,
    /// Workload archetypes by name (`"web"`, `"db-read"`, …).
    pub archetypes: BTreeMap<String, ArchetypeSpec>,
    /// Workload classes: how many workloads of which archetype exist, arrive and leave.
    pub workloads: Vec<WorkloadClassSpec>,
    /// Workloads replayed from measured traces (docs/replay.md), alone or next to `workloads`.
    pub traces: Vec<TraceSourceSpec>,
    /// The tagging service (tag inference for untagged workloads).
    pub tagging: TaggingSpec,
    /// The profiler (sampling and bounded history).
    pub profiler: ProfilerSpec,
    /// SLO accounting and penalties.
    pub slo: SloSpec,
    /// Shadow profiles (tag-pooled models) used by shadow-based policies.
    pub shadow: ShadowSpec,
    /// The policies to compare; every one runs on identical workload realizations.
    pub policies: Vec<PolicySpec>,
    /// What to write besides the summary.
    pub output: OutputSpec,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            name: String::new(),
            description: String::new(),
            seed: 1,
            duration: Dur::days(1),
            step: Dur::mins(5),
            start_weekday: Weekday::Mon,
            cluster: ClusterSpec::default(),
            archetypes: BTreeMap::new(),
            workloads: Vec::new(),
            traces: Vec::new(),
            tagging: TaggingSpec::default(),
            profiler: ProfilerSpec::default(),
            slo: SloSpec::default(),
            shadow: ShadowSpec::default(),
            policies: Vec::new(),
            output: OutputSpec::default(),
        }
    }
}

// ---------------------------------------------------------------------------------- cluster

/// The virtual cluster.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterSpec {
    /// Groups of identical nodes (hosts). Instances are placed on them; their capacity is
    /// never exceeded.
    pub nodes: Vec<NodeGroupSpec>,
    /// How instances are placed on nodes.
    pub placement: Placement,
    /// Time from a scale-up command until the new instances are ready.
    pub provisioning_delay: Dur,
    /// Minimum billed time per instance (AWS bills Linux instances per second with a
    /// 60-second minimum).
    pub billing_minimum: Dur,
    /// The instance-type catalog.
    pub catalog: CatalogSpec,
}

impl Default for ClusterSpec {
    fn default() -> Self {
        ClusterSpec {
            nodes: vec![NodeGroupSpec::default()],
            placement: Placement::FirstFit,
            provisioning_delay: Dur::secs(90),
            billing_minimum: Dur::secs(60),
            catalog: CatalogSpec::default(),
        }
    }
}

/// A group of identical nodes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NodeGroupSpec {
    /// Name prefix of the nodes (`<name>-<i>`).
    pub name: String,
    /// Number of nodes.
    pub count: u32,
    /// CPU capacity per node, in cores (vCPUs).
    pub cpu_cores: f64,
    /// Memory per node, in GiB.
    pub mem_gib: f64,
    /// Disk throughput per node, in MB/s.
    pub disk_mbps: f64,
    /// Network throughput per node, in Mbit/s.
    pub net_mbps: f64,
}

impl Default for NodeGroupSpec {
    fn default() -> Self {
        NodeGroupSpec {
            name: "node".into(),
            count: 100,
            cpu_cores: 96.0,
            mem_gib: 384.0,
            disk_mbps: 8_000.0,
            net_mbps: 50_000.0,
        }
    }
}

/// Instance placement on nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Placement {
    /// The first node (in declaration order) with room.
    FirstFit,
    /// The node with room that is left with the least free CPU (ties: least memory, then order).
    BestFit,
}

/// The instance-type catalog.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CatalogSpec {
    /// Start from the built-in AWS catalog (T3 burstable, M5, C5, R5; us-east-1 Linux
    /// on-demand prices) or from nothing.
    pub builtin: BuiltinCatalog,
    /// Extra (or replacement, when the name matches) instance types.
    pub types: Vec<InstanceTypeSpec>,
    /// Built-in types to leave out, by name.
    pub exclude: Vec<String>,
}

impl Default for CatalogSpec {
    fn default() -> Self {
        CatalogSpec {
            builtin: BuiltinCatalog::Aws,
            types: Vec::new(),
            exclude: Vec::new(),
        }
    }
}

/// Which built-in catalog to start from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BuiltinCatalog {
    /// AWS T3 (burstable, unlimited mode), M5, C5 and R5 families.
    Aws,
    /// No built-in types: only `types`.
    Empty,
}

/// One instance type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InstanceTypeSpec {
    /// Name (`"m5.large"`).
    pub name: String,
    /// vCPUs.
    pub vcpus: f64,
    /// Memory in GiB.
    pub mem_gib: f64,
    /// Disk throughput in MB/s.
    pub disk_mbps: f64,
    /// Network throughput in Mbit/s.
    pub net_mbps: f64,
    /// On-demand price per instance-hour, USD.
    pub price_usd_per_hour: f64,
    /// CPU-credit model, for burstable types.
    pub burstable: Option<BurstableSpec>,
}

impl Default for InstanceTypeSpec {
    fn default() -> Self {
        InstanceTypeSpec {
            name: String::new(),
            vcpus: 2.0,
            mem_gib: 8.0,
            disk_mbps: 250.0,
            net_mbps: 1_000.0,
            price_usd_per_hour: 0.1,
            burstable: None,
        }
    }
}

/// The CPU-credit model of a burstable type (AWS T-series semantics; see BASELINES.md §6).
/// One credit is one vCPU at 100 % for one minute.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BurstableSpec {
    /// Credits earned per hour (baseline = credits_per_hour / vCPUs / 60 per vCPU).
    pub credits_per_hour: f64,
    /// Accrual cap (credits earned in 24 h for AWS).
    pub max_credits: f64,
    /// Credits at launch (T2 standard: 30 per vCPU; T3: none).
    pub launch_credits: f64,
    /// Standard (throttled to baseline at zero balance) or unlimited (surplus charged).
    pub mode: CreditMode,
    /// Price of surplus credits in unlimited mode, USD per vCPU-hour ($0.05 for Linux T3).
    pub surplus_usd_per_vcpu_hour: f64,
}

impl Default for BurstableSpec {
    fn default() -> Self {
        BurstableSpec {
            credits_per_hour: 24.0,
            max_credits: 576.0,
            launch_credits: 0.0,
            mode: CreditMode::Unlimited,
            surplus_usd_per_vcpu_hour: 0.05,
        }
    }
}

/// Burstable credit mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CreditMode {
    /// At zero balance the CPU is throttled to the baseline.
    Standard,
    /// At zero balance the instance spends surplus credits, charged per vCPU-hour.
    Unlimited,
}

// ---------------------------------------------------------------------------------- archetypes

/// A kind of workload: its tags, SLO class, requested size, load shape and process signature.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ArchetypeSpec {
    /// Tags every workload of this archetype carries (unless it arrives untagged).
    pub tags: Vec<String>,
    /// How unmet demand is treated and what counts as an SLO violation.
    pub slo: SloClass,
    /// The size a user requests for one workload of this archetype (before per-workload size
    /// classes). Shadow profiles normalise usage by it.
    pub nominal: Resources,
    /// How the initial instance type is chosen.
    pub instance: InstanceChoice,
    /// The load intensity over time (dimensionless, about 1 on average).
    pub load: LoadSpec,
    /// How each metric follows the load intensity.
    pub metrics: MetricResponses,
    /// How individual workloads differ from the archetype.
    pub variation: VariationSpec,
    /// The synthetic system-call mix the tagging service sees.
    pub signature: SignatureSpec,
}

impl Default for ArchetypeSpec {
    fn default() -> Self {
        ArchetypeSpec {
            tags: Vec::new(),
            slo: SloClass::Latency,
            nominal: Resources::default(),
            instance: InstanceChoice::Fit,
            load: LoadSpec::default(),
            metrics: MetricResponses::default(),
            variation: VariationSpec::default(),
            signature: SignatureSpec::default(),
        }
    }
}

/// SLO class of an archetype.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SloClass {
    /// Latency-sensitive: CPU, disk or network demand above capacity is dropped, and any such
    /// time (or an OOM restart) is SLO-violation time.
    Latency,
    /// Batch: CPU demand above capacity is queued as backlog and served later; violation time
    /// is time with more backlog than can be cleared within `deadline` at the nominal size.
    Batch {
        /// How late batch work may finish.
        deadline: Dur,
    },
}

/// Amounts of the four resources.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Resources {
    /// CPU, cores.
    pub cpu_cores: f64,
    /// Memory, GiB.
    pub mem_gib: f64,
    /// Disk throughput, MB/s.
    pub disk_mbps: f64,
    /// Network throughput, Mbit/s.
    pub net_mbps: f64,
}

impl Default for Resources {
    fn default() -> Self {
        Resources {
            cpu_cores: 2.0,
            mem_gib: 4.0,
            disk_mbps: 50.0,
            net_mbps: 100.0,
        }
    }
}

impl Resources {
    /// As a per-metric array in [`crate::metric::METRICS`] order.
    pub fn as_array(&self) -> [f64; 4] {
        [self.cpu_cores, self.mem_gib, self.disk_mbps, self.net_mbps]
    }
}

/// How a new workload's instance type is chosen (policies may override it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum InstanceChoice {
    /// The cheapest non-burstable type that covers the nominal CPU and memory.
    Fit,
    /// The cheapest type, burstable ones included, that covers the nominal CPU and memory.
    FitAny,
    /// This catalog type.
    Type(String),
}

/// The load intensity of an archetype: the product of its parts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoadSpec {
    /// Daily seasonality.
    pub daily: Option<DailySpec>,
    /// Day-of-week multipliers, Monday first (7 values).
    pub weekly: Option<Vec<f64>>,
    /// Autocorrelated (AR(1), log-normal) noise shared by all metrics.
    pub noise: NoiseSpec,
    /// Markov-modulated regimes (empty: one regime at level 1).
    pub regimes: Vec<RegimeSpec>,
    /// Regime transition probabilities on leaving a regime (row = from, column = to; the
    /// diagonal is ignored). Default: uniform over the other regimes.
    pub transitions: Option<Vec<Vec<f64>>>,
    /// Bursts on a schedule (peak hours, nightly batches).
    pub scheduled_bursts: Vec<ScheduledBurstSpec>,
    /// Bursts at random times.
    pub random_bursts: Option<RandomBurstSpec>,
    /// Multiplicative growth per day since the workload started (0.01 = +1 %/day).
    pub trend_per_day: f64,
}

impl Default for LoadSpec {
    fn default() -> Self {
        LoadSpec {
            daily: None,
            weekly: None,
            noise: NoiseSpec::default(),
            regimes: Vec::new(),
            transitions: None,
            scheduled_bursts: Vec::new(),
            random_bursts: None,
            trend_per_day: 0.0,
        }
    }
}

/// Daily seasonality (a multiplier with mean 1 over the day).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum DailySpec {
    /// `1 + amplitude · cos(2π (hour − peak_hour) / 24)`.
    Cosine {
        /// Relative amplitude in [0, 1).
        amplitude: f64,
        /// Hour of the daily peak, in [0, 24).
        peak_hour: f64,
    },
    /// 24 hourly multipliers (00:00 first), linearly interpolated and normalised to mean 1.
    Hourly(Vec<f64>),
}

/// AR(1) noise on the log of the load: `x' = φ x + sqrt(1 − φ²) ε`, multiplier
/// `exp(sigma · x − sigma²/2)` (mean 1), with `φ = exp(−step / correlation_time)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NoiseSpec {
    /// Standard deviation of the log-multiplier.
    pub sigma: f64,
    /// Correlation time (e-folding) of the noise.
    pub correlation_time: Dur,
}

impl Default for NoiseSpec {
    fn default() -> Self {
        NoiseSpec {
            sigma: 0.1,
            correlation_time: Dur::mins(30),
        }
    }
}

/// One regime of a Markov-modulated load.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RegimeSpec {
    /// Name (for reports).
    pub name: String,
    /// Load multiplier while in this regime.
    pub level: f64,
    /// Mean time spent in the regime per visit (geometric dwell).
    pub mean_dwell: Dur,
    /// Extra per-metric multipliers while in this regime (default 1 each).
    pub metric_levels: MetricWeights,
}

impl Default for RegimeSpec {
    fn default() -> Self {
        RegimeSpec {
            name: String::new(),
            level: 1.0,
            mean_dwell: Dur::hours(1),
            metric_levels: MetricWeights::default(),
        }
    }
}

/// One value per metric.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricWeights {
    /// CPU.
    pub cpu: f64,
    /// Memory.
    pub mem: f64,
    /// Disk.
    pub disk: f64,
    /// Network.
    pub net: f64,
}

impl Default for MetricWeights {
    fn default() -> Self {
        MetricWeights {
            cpu: 1.0,
            mem: 1.0,
            disk: 1.0,
            net: 1.0,
        }
    }
}

impl MetricWeights {
    /// As an array in metric order.
    pub fn as_array(&self) -> [f64; 4] {
        [self.cpu, self.mem, self.disk, self.net]
    }
}

/// A burst on a cron-like schedule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScheduledBurstSpec {
    /// When bursts start: `"minute hour * * day-of-week"` (cron syntax; lists `1,3`, ranges
    /// `1-5`, steps `*/2`; day 0 or 7 = Sunday). Day-of-month and month must be `*`.
    pub cron: String,
    /// How long each burst lasts.
    pub duration: Dur,
    /// Load multiplier during the burst.
    pub magnitude: f64,
    /// Per-workload random offset of the start, uniform in `[0, jitter]` (fixed per workload).
    pub jitter: Dur,
    /// How strongly each metric takes part (0 = not at all, 1 = fully).
    pub metrics: MetricWeights,
}

impl Default for ScheduledBurstSpec {
    fn default() -> Self {
        ScheduledBurstSpec {
            cron: "0 9 * * 1-5".into(),
            duration: Dur::hours(1),
            magnitude: 2.0,
            jitter: Dur::secs(0),
            metrics: MetricWeights::default(),
        }
    }
}

/// Bursts arriving as a Poisson process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RandomBurstSpec {
    /// Mean bursts per day.
    pub rate_per_day: f64,
    /// Burst length.
    pub duration: DurDist,
    /// Load multiplier during a burst.
    pub magnitude: Dist,
    /// How strongly each metric takes part.
    pub metrics: MetricWeights,
}

impl Default for RandomBurstSpec {
    fn default() -> Self {
        RandomBurstSpec {
            rate_per_day: 1.0,
            duration: DurDist::Exp { mean: Dur::mins(30) },
            magnitude: Dist::LogNormal {
                median: 2.5,
                sigma: 0.3,
            },
            metrics: MetricWeights::default(),
        }
    }
}

/// How each metric follows the load intensity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricResponses {
    /// CPU.
    pub cpu: ResponseSpec,
    /// Memory.
    pub mem: ResponseSpec,
    /// Disk I/O.
    pub disk: ResponseSpec,
    /// Network.
    pub net: ResponseSpec,
}

impl Default for MetricResponses {
    fn default() -> Self {
        MetricResponses {
            cpu: ResponseSpec {
                idle: 0.05,
                per_load: 0.45,
                noise_sigma: 0.05,
                smoothing: Dur::secs(0),
            },
            mem: ResponseSpec {
                idle: 0.4,
                per_load: 0.2,
                noise_sigma: 0.02,
                smoothing: Dur::mins(30),
            },
            disk: ResponseSpec {
                idle: 0.05,
                per_load: 0.3,
                noise_sigma: 0.1,
                smoothing: Dur::secs(0),
            },
            net: ResponseSpec {
                idle: 0.02,
                per_load: 0.4,
                noise_sigma: 0.08,
                smoothing: Dur::secs(0),
            },
        }
    }
}

impl MetricResponses {
    /// The response of metric `m`.
    pub fn get(&self, m: Metric) -> &ResponseSpec {
        match m {
            Metric::Cpu => &self.cpu,
            Metric::Mem => &self.mem,
            Metric::Disk => &self.disk,
            Metric::Net => &self.net,
        }
    }
}

/// `demand = nominal · (idle + per_load · L̃) · exp(noise_sigma · e − noise_sigma²/2)`, where
/// `L̃` is the load intensity smoothed with time constant `smoothing` and `e` is this metric's
/// own AR(1) noise (correlation time of the load noise). Metrics are correlated through `L`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResponseSpec {
    /// Usage at zero load, as a fraction of nominal.
    pub idle: f64,
    /// Usage per unit of load intensity, as a fraction of nominal.
    pub per_load: f64,
    /// Metric-specific log-noise.
    pub noise_sigma: f64,
    /// Time constant of exponential smoothing of the load (memory follows load slowly).
    pub smoothing: Dur,
}

impl Default for ResponseSpec {
    fn default() -> Self {
        ResponseSpec {
            idle: 0.05,
            per_load: 0.45,
            noise_sigma: 0.05,
            smoothing: Dur::secs(0),
        }
    }
}

/// Per-workload variation around the archetype.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VariationSpec {
    /// Log-normal sigma of the workload's load level relative to its nominal size.
    pub scale_sigma: f64,
    /// Standard deviation of the workload's shift of the daily phase.
    pub phase_sigma: Dur,
    /// Log-normal sigma of the workload's noise-level multiplier.
    pub noise_sigma: f64,
    /// Size classes: nominal size and load both scale by `factor`; picked with probability
    /// proportional to `weight`. Default: one class of factor 1.
    pub sizes: Vec<SizeClass>,
}

impl Default for VariationSpec {
    fn default() -> Self {
        VariationSpec {
            scale_sigma: 0.25,
            phase_sigma: Dur::mins(45),
            noise_sigma: 0.2,
            sizes: Vec::new(),
        }
    }
}

/// A size class of an archetype.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SizeClass {
    /// Relative frequency.
    pub weight: f64,
    /// Multiplier of nominal size and load.
    pub factor: f64,
}

impl Default for SizeClass {
    fn default() -> Self {
        SizeClass {
            weight: 1.0,
            factor: 1.0,
        }
    }
}

/// A synthetic process signature: the expected share of each system-call family.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SignatureSpec {
    /// Relative weight of each system-call family (`"read"`, `"sendto"`, `"fsync"`, …).
    pub calls: BTreeMap<String, f64>,
    /// Log-normal sigma of each workload's per-family deviation from the archetype mix.
    pub noise: f64,
}

impl Default for SignatureSpec {
    fn default() -> Self {
        SignatureSpec {
            calls: BTreeMap::new(),
            noise: 0.3,
        }
    }
}

// ---------------------------------------------------------------------------------- population

/// A class of workloads of one archetype.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkloadClassSpec {
    /// Name of the class; workload names are `<name>-<i>` (initial) and `<name>-a<i>`
    /// (arrivals). Default: the archetype name.
    pub name: Option<String>,
    /// Archetype name (a key of `archetypes`).
    pub archetype: String,
    /// Workloads present at time zero.
    pub initial: u32,
    /// Mean arrivals per day during the run (Poisson).
    pub arrivals_per_day: f64,
    /// Lifetime from arrival (default: until the end of the run).
    pub lifetime: Option<DurDist>,
    /// Share of workloads that arrive without tags (the tagging service infers them).
    pub untagged_share: f64,
    /// When workloads of this class run.
    pub schedule: ScheduleSpec,
    /// Extra tags for this class on top of the archetype's.
    pub extra_tags: Vec<String>,
}

impl Default for WorkloadClassSpec {
    fn default() -> Self {
        WorkloadClassSpec {
            name: None,
            archetype: String::new(),
            initial: 0,
            arrivals_per_day: 0.0,
            lifetime: None,
            untagged_share: 0.0,
            schedule: ScheduleSpec::Always,
            extra_tags: Vec::new(),
        }
    }
}

/// When a workload runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ScheduleSpec {
    /// From arrival until it leaves.
    Always,
    /// Infrequently: sessions arrive as a Poisson process; between sessions the workload holds
    /// no resources. Each session starts cold (a new placement) but keeps the workload's
    /// identity and history.
    Sessions {
        /// Mean sessions per week.
        per_week: f64,
        /// Length of a session.
        duration: DurDist,
    },
}

// ---------------------------------------------------------------------------------- traces

/// A workload source that replays a measured trace: each selected trace workload (VM, VM-day)
/// becomes one workload whose demand is the trace's values (docs/replay.md).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TraceSourceSpec {
    /// Class name (workload names are `<name>:<trace workload name>`). Default: `trace<i>`.
    pub name: Option<String>,
    /// File format.
    pub format: TraceFormat,
    /// File or folder of the trace; a relative path is relative to the scenario file's folder.
    pub path: String,
    /// Archetype giving what a trace does not say: SLO class, instance choice, system-call
    /// signature and its tags. Its load model is not used.
    pub archetype: String,
    /// Extra tags for every workload of this source, on top of the trace's own tags.
    pub tags: Vec<String>,
    /// Which trace workloads to replay.
    pub select: TraceSelect,
    /// Simulated time per trace time (0.5 replays a day in 12 hours).
    pub time_scale: f64,
    /// Simulated time of the trace origin (00:00 UTC of the first selected day).
    pub offset: Dur,
    /// How trace workloads are cut into simulated workloads.
    pub split: TraceSplit,
    /// Place the selected days one after another (day k of the selection is simulated day k),
    /// closing calendar gaps between non-consecutive trace days.
    pub pack_days: bool,
    /// PlanetLab only: cores of the VM a CPU percentage refers to (PlanetLab does not record it).
    pub vm_cores: f64,
    /// Nominal size for metrics the trace gives no size for (`None`: such a metric is an
    /// error). Metrics the trace does not measure are absent whatever this says.
    pub size: Option<Resources>,
    /// Share of workloads that arrive without tags (the tagging service infers them).
    pub untagged_share: f64,
    /// The trace as loaded at validation (not part of the file).
    #[serde(skip)]
    pub loaded: Option<std::sync::Arc<crate::trace::replay::LoadedTrace>>,
}

impl Default for TraceSourceSpec {
    fn default() -> Self {
        TraceSourceSpec {
            name: None,
            format: TraceFormat::Neutral,
            path: String::new(),
            archetype: String::new(),
            tags: Vec::new(),
            select: TraceSelect::default(),
            time_scale: 1.0,
            offset: Dur::secs(0),
            split: TraceSplit::None,
            pack_days: false,
            vm_cores: 1.0,
            size: None,
            untagged_share: 0.0,
            loaded: None,
        }
    }
}

/// Trace file formats (importers in [`crate::trace`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TraceFormat {
    /// PlanetLab in the CloudSim layout: a folder with `tags.csv` and one folder per day.
    PlanetLab,
    /// Bitbrains GWA-T-12 raw per-VM files: one file, or a folder of `*.csv` files.
    Gwa,
    /// The OpenDC export of Bitbrains: a folder with `trace.csv` and `meta.csv`.
    OpenDc,
    /// Azure Public Dataset V1/V2: a folder with `vmtable.csv[.gz]` and
    /// `vm_cpu_readings-file-K-of-N.csv[.gz]`.
    Azure,
    /// The neutral long CSV (one file).
    Neutral,
}

/// Which trace workloads to replay. Filters apply in this order: days, tags, sample.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TraceSelect {
    /// Keep workloads (after `split`) that start on one of these UTC days, `YYYYMMDD`
    /// (empty: all days).
    pub days: Vec<String>,
    /// Keep workloads carrying at least one of these tags (empty: all).
    pub tags: Vec<String>,
    /// Keep at most this many, a deterministic uniform sample (bottom-k of
    /// [`crate::trace::sample_priority`] under `sample_seed`).
    pub max_workloads: Option<u32>,
    /// Seed of the sample.
    pub sample_seed: u64,
}

/// How trace workloads become simulated workloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TraceSplit {
    /// One simulated workload per trace workload.
    None,
    /// One simulated workload per trace workload and UTC day (`<name>@YYYYMMDD`), arriving
    /// at that day's first sample.
    Days,
}

// ---------------------------------------------------------------------------------- services

/// The tagging service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaggingSpec {
    /// How long a workload runs before its system-call signature is read.
    pub observe: Dur,
    /// System calls observed in that time (multinomial sample size).
    pub calls_observed: u32,
    /// Tagged workloads per tag set needed before the service infers that tag set.
    pub min_examples: u32,
}

impl Default for TaggingSpec {
    fn default() -> Self {
        TaggingSpec {
            observe: Dur::mins(15),
            calls_observed: 2_000,
            min_examples: 3,
        }
    }
}

/// The profiler.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProfilerSpec {
    /// Sampling interval (a multiple of `step`; default: `step`).
    pub interval: Option<Dur>,
    /// How much recent history to keep per workload at the sampling interval.
    pub recent_window: Dur,
    /// How much hourly history to keep per workload.
    pub hourly_window: Dur,
}

impl Default for ProfilerSpec {
    fn default() -> Self {
        ProfilerSpec {
            interval: None,
            recent_window: Dur::days(1),
            hourly_window: Dur::days(14),
        }
    }
}

/// SLO accounting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SloSpec {
    /// Penalty per minute of SLO violation, USD (added to the total cost).
    pub penalty_usd_per_violation_minute: f64,
    /// Time an out-of-memory restart takes; the workload serves nothing meanwhile.
    pub oom_restart: Dur,
}

impl Default for SloSpec {
    fn default() -> Self {
        SloSpec {
            penalty_usd_per_violation_minute: 0.01,
            oom_restart: Dur::mins(2),
        }
    }
}

/// Shadow profiles: how the pooled models are built and refreshed. Read by the policies that
/// use shadows (`Engine`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ShadowSpec {
    /// Model family.
    pub family: ShadowFamily,
    /// How often models are refitted from the profiler's pooled history.
    pub refit_every: Dur,
    /// When the first fit happens (until then shadow-based policies keep the initial
    /// allocation).
    pub first_fit_after: Dur,
    /// Workloads with history a tag set (or tag) needs before it gets its own model; below it
    /// predictions fall back to single tags, then to all workloads.
    pub min_workloads: u32,
    /// Most workloads pooled per model (a deterministic sample beyond it).
    pub max_pool: u32,
    /// Own history after which a workload graduates to a model of its own history (`None`:
    /// never).
    pub graduation: Option<Dur>,
}

impl Default for ShadowSpec {
    fn default() -> Self {
        ShadowSpec {
            family: ShadowFamily::default(),
            refit_every: Dur::hours(12),
            first_fit_after: Dur::hours(2),
            min_workloads: 5,
            max_pool: 64,
            graduation: None,
        }
    }
}

/// The statistical model behind a shadow profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ShadowFamily {
    /// Hour-of-week seasonal means plus a Gaussian HMM on the residual of all four metrics.
    Hmm {
        /// Hidden states; `None` (default): chosen by BIC from 2 to `max_states` at the first
        /// fit.
        #[serde(default)]
        states: Option<u32>,
        /// Upper end of the BIC search (default 6).
        #[serde(default = "default_hmm_max_states")]
        max_states: u32,
        /// EM iteration cap of a fit from scratch (a key's first model, and the first fit's
        /// search over state counts; default 20).
        #[serde(default = "default_hmm_max_iterations")]
        max_iterations: u32,
        /// EM iterations of a scheduled refit, which starts from the key's previous model: one
        /// E-step and one M-step each, with no convergence test (default 1). The refit window
        /// overlaps the last one, so the model keeps converging from refit to refit; each
        /// iteration costs one pass over the pooled window.
        #[serde(default = "default_hmm_refit_iterations")]
        refit_iterations: u32,
        /// Adapt each workload's copy of the shadow to its own samples (MAP adaptation of the
        /// emissions and transitions, `shadow::hmm::OwnEmissions`/`OwnTransitions`); `None`
        /// (default): every workload predicts with the pooled parameters, its own samples
        /// moving only the filter's state posterior.
        #[serde(default)]
        adapt: Option<HmmAdapt>,
    },
    /// Hour-of-week empirical distributions, mixed with the workload's own recency-weighted
    /// readings.
    Quantile {
        /// Weight of the pooled distribution in own-sample equivalents (default 2).
        #[serde(default = "default_quantile_prior_weight")]
        prior_weight: f64,
        /// Half-life of the weight of own readings (default 4 h).
        #[serde(default = "default_quantile_half_life")]
        half_life: Dur,
    },
}

/// How strongly a workload's HMM shadow adapts to its own samples: the pooled parameters are a
/// prior worth this many own samples (emissions) or transitions (each row of the transition
/// matrix); `None` keeps that part pooled. The defaults are the forecast protocol's HMM shadow
/// settings, chosen on the PlanetLab development split's training days (`docs/forecast.md`),
/// not on any simulated scenario.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct HmmAdapt {
    /// Weight of each state's pooled emission, in own samples (default 0.01: a state the
    /// workload has visited takes on its own level and spread almost at once; `None`: pooled
    /// emissions).
    #[serde(default = "default_adapt_prior_samples")]
    pub prior_samples: Option<f64>,
    /// Weight of each pooled transition row, in own transitions (default 1; `None`: pooled
    /// transitions).
    #[serde(default = "default_adapt_prior_transitions")]
    pub prior_transitions: Option<f64>,
    /// The adapted variance of a state is at least this share of its pooled variance (default
    /// 0.1; at 1 a workload's band is never narrower than its states' pooled spread).
    #[serde(default = "default_adapt_variance_floor")]
    pub variance_floor: f64,
}

fn default_adapt_prior_samples() -> Option<f64> {
    Some(0.01)
}

fn default_adapt_prior_transitions() -> Option<f64> {
    Some(1.0)
}

fn default_adapt_variance_floor() -> f64 {
    crate::shadow::hmm::ADAPT_VARIANCE_FLOOR
}

fn default_hmm_max_states() -> u32 {
    6
}

fn default_hmm_max_iterations() -> u32 {
    20
}

fn default_hmm_refit_iterations() -> u32 {
    1
}

fn default_quantile_prior_weight() -> f64 {
    2.0
}

fn default_quantile_half_life() -> Dur {
    Dur::hours(4)
}

impl Default for ShadowFamily {
    /// The seasonal-quantile family: it forecasts better than the HMM on the PlanetLab
    /// evaluation (README, "Shadow profiles on real traces") and costs far less to refit.
    fn default() -> Self {
        ShadowFamily::Quantile {
            prior_weight: default_quantile_prior_weight(),
            half_life: default_quantile_half_life(),
        }
    }
}

// ---------------------------------------------------------------------------------- policies

/// A scaling policy to compare.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PolicySpec {
    /// Keep the initial allocation for the workload's whole life.
    Static(StaticSpec),
    /// The reactive threshold policy: scale out above `up`, in below `down`.
    Threshold(ThresholdSpec),
    /// The predictive scaling engine fed by shadow profiles (or, for the ablation, by the
    /// workload's own history).
    Engine(EngineSpec),
    /// Kubernetes HorizontalPodAutoscaler (replicas of the workload's instance type).
    Hpa(HpaSpec),
    /// Kubernetes Vertical Pod Autoscaler recommender + updater (instance type).
    Vpa(VpaSpec),
    /// Google Autopilot moving-window recommenders (vertical), optionally with its horizontal
    /// rule.
    Autopilot(AutopilotSpec),
    /// AWS EC2 Auto Scaling predictive scaling (capacity floor) with target tracking on top.
    AwsPredictive(AwsPredictiveSpec),
    /// Knows future demand and provisions just in time under the same delays.
    Oracle(OracleSpec),
}

/// The static policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StaticSpec {
    /// Name in reports (default `static`, or `static-peak` with `size: Peak`).
    pub name: Option<String>,
    /// What to allocate.
    pub size: StaticSize,
    /// Multiple of the chosen size (rounded up to whole instances).
    pub headroom: f64,
}

impl Default for StaticSpec {
    fn default() -> Self {
        StaticSpec {
            name: None,
            size: StaticSize::Nominal,
            headroom: 1.0,
        }
    }
}

/// What a static policy allocates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StaticSize {
    /// The nominal (requested) size.
    Nominal,
    /// The peak demand of the workload's session, known in advance (static peak
    /// provisioning: the best a fixed allocation can do).
    Peak,
}

/// Scaling axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Axis {
    /// More or fewer replicas of the same instance type.
    Horizontal,
    /// A larger or smaller instance type (the cheapest one that fits).
    Vertical,
}

/// The reactive threshold policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ThresholdSpec {
    /// Name in reports (default `threshold`).
    pub name: Option<String>,
    /// Metric whose utilization (usage / allocation) is watched.
    pub metric: Metric,
    /// Scale up when utilization exceeds this.
    pub up: f64,
    /// Scale down when utilization is below this.
    pub down: f64,
    /// Control-loop interval.
    pub interval: Dur,
    /// Minimum time between two actions on one workload.
    pub cooldown: Dur,
    /// Horizontal or vertical.
    pub axis: Axis,
    /// Capacity change per action as a fraction of the current capacity (at least one
    /// replica / the next type).
    pub step_fraction: f64,
}

impl Default for ThresholdSpec {
    fn default() -> Self {
        ThresholdSpec {
            name: None,
            metric: Metric::Cpu,
            up: 0.8,
            down: 0.3,
            interval: Dur::mins(1),
            cooldown: Dur::mins(5),
            axis: Axis::Horizontal,
            step_fraction: 0.5,
        }
    }
}

impl PolicySpec {
    /// The name of the policy in reports.
    pub fn name(&self) -> String {
        let or = |n: &Option<String>, d: &str| n.clone().unwrap_or_else(|| d.to_string());
        match self {
            PolicySpec::Static(s) => or(
                &s.name,
                if s.size == StaticSize::Peak {
                    "static-peak"
                } else {
                    "static"
                },
            ),
            PolicySpec::Threshold(s) => or(&s.name, "threshold"),
            PolicySpec::Engine(s) => or(
                &s.name,
                if s.source == Source::OwnHistory {
                    "own-history"
                } else {
                    "shadow"
                },
            ),
            PolicySpec::Hpa(s) => or(&s.name, "hpa"),
            PolicySpec::Vpa(s) => or(&s.name, "vpa"),
            PolicySpec::Autopilot(s) => or(&s.name, "autopilot"),
            PolicySpec::AwsPredictive(s) => or(&s.name, "aws-predictive"),
            PolicySpec::Oracle(s) => or(&s.name, "oracle"),
        }
    }
}

/// Which bound of the predicted interval the engine's trigger compares usage with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Trigger {
    /// Scale up when usage exceeds the upper bound (the specification's pseudocode).
    Upper,
    /// Scale up when usage exceeds the lower bound (the specification's prose).
    Lower,
}

/// Where the engine's predictions come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    /// Tag-pooled shadow profiles (falling back to single tags, then all workloads).
    Shadow,
    /// A model of the workload's own history only (the ablation that isolates what shadowing
    /// adds); until it has `own_min_history`, the workload keeps its initial allocation.
    OwnHistory,
}

/// How the engine picks a new workload's instance type.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum InstanceSelection {
    /// The archetype's `instance` choice.
    Archetype,
    /// The cheapest type by expected daily cost (price + expected burstable surplus) among
    /// those that cover the shadow's predicted peak, burstable types included when the
    /// probability that their credits suffice for a day is at least `min_confidence`.
    Burstable {
        /// Required probability that a burstable type's credits suffice for a day.
        min_confidence: f64,
    },
}

/// Settings of the engine that may differ per tag.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EngineOverrides {
    /// Overrides `sensitivity`.
    pub sensitivity: Option<f64>,
    /// Overrides `confidence`.
    pub confidence: Option<f64>,
    /// Overrides `trigger`.
    pub trigger: Option<Trigger>,
    /// Overrides `burst_prediction_interval`.
    pub burst_prediction_interval: Option<Dur>,
    /// Overrides the SLO penalty used by the cost-benefit rule.
    pub penalty_usd_per_violation_minute: Option<f64>,
}

/// The predictive scaling engine (the specification's pseudocode, made complete).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EngineSpec {
    /// Name in reports (default `shadow`, or `own-history`).
    pub name: Option<String>,
    /// Shadow profiles or own history.
    pub source: Source,
    /// Model family (default: `shadow.family`).
    pub family: Option<ShadowFamily>,
    /// Control-loop interval (default: the profiler's sampling interval, when new evidence
    /// arrives).
    pub interval: Option<Dur>,
    /// Scale-up per unit of usage above the trigger bound.
    pub sensitivity: f64,
    /// Central interval level of the predictions.
    pub confidence: f64,
    /// Trigger bound.
    pub trigger: Trigger,
    /// How often to anticipate bursts (`None`: never).
    pub burst_prediction_interval: Option<Dur>,
    /// Quantile of the predicted maximum over the window taken as the burst size.
    pub burst_quantile: f64,
    /// Act only when the expected SLO penalty avoided exceeds the extra cost (and scale down
    /// only when the saving exceeds the added expected penalty).
    pub cost_benefit: bool,
    /// SLO penalty for the cost-benefit rule (default: `slo.penalty_usd_per_violation_minute`).
    pub penalty_usd_per_violation_minute: Option<f64>,
    /// Minimum time after a scale-up before scaling down.
    pub scale_down_cooldown: Dur,
    /// Scale down only when capacity exceeds the predicted need by this fraction.
    pub scale_down_hysteresis: f64,
    /// Horizontal or vertical.
    pub axis: Axis,
    /// Instance choice for new workloads.
    pub instance_selection: InstanceSelection,
    /// Own samples the own-history source needs before it predicts.
    pub own_min_history: Dur,
    /// Per-tag overrides, by tag name (the first of a workload's tags, in name order, that has
    /// overrides applies).
    pub per_tag: BTreeMap<String, EngineOverrides>,
}

impl Default for EngineSpec {
    fn default() -> Self {
        EngineSpec {
            name: None,
            source: Source::Shadow,
            family: None,
            interval: None,
            sensitivity: 1.0,
            confidence: 0.9,
            trigger: Trigger::Upper,
            burst_prediction_interval: Some(Dur::mins(30)),
            burst_quantile: 0.9,
            cost_benefit: true,
            penalty_usd_per_violation_minute: None,
            scale_down_cooldown: Dur::mins(15),
            scale_down_hysteresis: 0.2,
            axis: Axis::Horizontal,
            instance_selection: InstanceSelection::Archetype,
            own_min_history: Dur::hours(6),
            per_tag: BTreeMap::new(),
        }
    }
}

/// Kubernetes HPA (BASELINES.md §1): replicas of the workload's initial instance type, each
/// replica a pod whose CPU request is the type's vCPUs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HpaSpec {
    /// Name in reports.
    pub name: Option<String>,
    /// Target average CPU utilization, percent of the request.
    pub target_cpu_percent: u32,
    /// Fewest replicas.
    pub min_replicas: u32,
    /// Most replicas.
    pub max_replicas: u32,
    /// Tolerance around the target (both directions).
    pub tolerance: f64,
    /// Sync period (`--horizontal-pod-autoscaler-sync-period`).
    pub sync_period: Dur,
    /// `Legacy` (`behavior == nil`) or `Behavior` (the API-defaulted scaling rules).
    pub path: HpaPath,
}

impl Default for HpaSpec {
    fn default() -> Self {
        HpaSpec {
            name: None,
            target_cpu_percent: 80,
            min_replicas: 1,
            max_replicas: 100,
            tolerance: 0.1,
            sync_period: Dur::secs(15),
            path: HpaPath::Behavior,
        }
    }
}

/// Which HPA normalization path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HpaPath {
    /// `behavior == nil`: 5-minute downscale stabilization, scale-up limit max(2×, 4).
    Legacy,
    /// The default `behavior`: stabilization windows and Pods/Percent rate policies.
    Behavior,
}

/// Kubernetes VPA recommender + updater (BASELINES.md §2), resizing the instance type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VpaSpec {
    /// Name in reports.
    pub name: Option<String>,
    /// Recommender loop interval.
    pub interval: Dur,
}

impl Default for VpaSpec {
    fn default() -> Self {
        VpaSpec {
            name: None,
            interval: Dur::mins(1),
        }
    }
}

/// Google Autopilot (BASELINES.md §3): moving-window vertical recommenders.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AutopilotSpec {
    /// Name in reports.
    pub name: Option<String>,
    /// Recommendation interval.
    pub interval: Dur,
    /// Also scale horizontally (tasks) with the deferred-downscaling rule.
    pub horizontal: bool,
    /// Safety margin on top of the recommended limit.
    pub margin: f64,
}

impl Default for AutopilotSpec {
    fn default() -> Self {
        AutopilotSpec {
            name: None,
            interval: Dur::mins(5),
            horizontal: false,
            margin: 0.1,
        }
    }
}

/// AWS predictive scaling + target tracking (BASELINES.md §5), replicas of the initial type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AwsPredictiveSpec {
    /// Name in reports.
    pub name: Option<String>,
    /// Target average CPU utilization (target tracking and the forecast's capacity), percent.
    pub target_cpu_percent: f64,
    /// `ForecastAndScale` (true) or `ForecastOnly`.
    pub forecast_and_scale: bool,
    /// Scheduling buffer (launches this much before the forecast hour).
    pub scheduling_buffer: Dur,
    /// Fewest instances.
    pub min_capacity: u32,
    /// Most instances.
    pub max_capacity: u32,
}

impl Default for AwsPredictiveSpec {
    fn default() -> Self {
        AwsPredictiveSpec {
            name: None,
            target_cpu_percent: 50.0,
            forecast_and_scale: true,
            scheduling_buffer: Dur::secs(300),
            min_capacity: 1,
            max_capacity: 100,
        }
    }
}

/// The oracle.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OracleSpec {
    /// Name in reports.
    pub name: Option<String>,
    /// Decision interval.
    pub interval: Dur,
}

impl Default for OracleSpec {
    fn default() -> Self {
        OracleSpec {
            name: None,
            interval: Dur::mins(1),
        }
    }
}

// ---------------------------------------------------------------------------------- output

/// What `shadowsim run` writes besides the summary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OutputSpec {
    /// Downsampling interval of `series.csv` (means over the interval).
    pub series_interval: Dur,
    /// Which workloads get a time series.
    pub series: SeriesSelect,
    /// Audit every workload's initial instance choice against the hindsight-cheapest adequate
    /// type over its first day (the `choice_*` metrics; costs one extra day of demand
    /// generation per workload and policy).
    pub audit_instance_choice: bool,
}

impl Default for OutputSpec {
    fn default() -> Self {
        OutputSpec {
            series_interval: Dur::hours(1),
            series: SeriesSelect::First(20),
            audit_instance_choice: false,
        }
    }
}

/// Which workloads are written to `series.csv`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SeriesSelect {
    /// None (series output off).
    None,
    /// The first N workloads in name order... of each class in turn.
    First(u32),
    /// Every workload.
    All,
    /// These workloads, by name.
    Names(Vec<String>),
}
