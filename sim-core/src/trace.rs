//! Real utilization traces: streaming importers for the public formats and a neutral CSV.
//!
//! ```text
//! PlanetLab (CloudSim layout) ─┐
//! Bitbrains GWA-T-12 raw ──────┤   rows ──► Assembler ──► TraceWorkload ──► neutral CSV
//! OpenDC export of Bitbrains ──┤  (stream)  (per-workload   (regular series,   (writer and
//! Azure Public Dataset V1/V2 ──┤            grid, gaps,      units, tags,       reader,
//! neutral CSV ─────────────────┘            duplicates)      capacity)          round-trip)
//! ```
//!
//! # Common model
//!
//! Every importer yields [`TraceWorkload`]s: one regular series per workload (VM, VM-day)
//! with a name, tags, optional capacity and the metrics the trace provides. Streaming readers
//! yield per-format rows ([`planetlab`] files are read whole, they are 288 lines);
//! [`Assembler`] turns any stream of samples into workloads.
//!
//! - **Units** (those of [`crate::metric::Metric`]): CPU in cores, memory in GiB, disk in MB/s
//!   (10^6 bytes/s), network in Mbit/s (10^6 bits/s). Each format's module states its
//!   conversions.
//! - **Time**: integer seconds. `start_secs` and every sample time are the START of the
//!   interval a value describes. Dated traces use Unix time in UTC; traces without dates
//!   (Azure) use seconds since the trace start. Placement of samples on the grid (jitter,
//!   unsorted rows, duplicates, gaps) follows [`assemble`].
//! - **Absent data** is `None` and stays absent: no importer interpolates, fills or invents a
//!   sample.
//! - **Bad rows**: [`BadRows::Skip`] (default) or [`BadRows::Fail`]; either way counted in an
//!   [`ImportReport`] whose logs keep the first [`ImportOptions::max_messages`] messages as
//!   `file:line: message`. No input (empty, truncated, binary, NaN, huge numbers) makes an
//!   importer panic.
//!
//! # Formats
//!
//! | format | entry points | metrics |
//! |---|---|---|
//! | PlanetLab, CloudSim layout | [`PlanetLab::open`], [`PlanetLab::load`], [`PlanetLab::load_all`] | CPU |
//! | Bitbrains GWA-T-12 raw | [`GwaReader`], [`load_gwa_vm`] | CPU, memory, disk, network |
//! | OpenDC export of Bitbrains | [`OpenDcReader`], [`load_opendc`] | CPU |
//! | Azure Public Dataset V1/V2 | [`AzureVmTable`], [`AzureReadings`], [`AzureSelection`], [`assemble_azure`] | CPU |
//! | neutral long CSV | [`NeutralReader`], [`read_neutral`], [`NeutralWriter`], [`write_neutral`] | any |

pub mod assemble;
pub mod azure;
pub mod civil;
mod csvio;
pub mod gwa;
mod input;
pub mod neutral;
pub mod opendc;
pub mod planetlab;
pub mod replay;
mod report;
mod workload;

pub use assemble::{Assembler, FileId, WorkloadId, WorkloadMeta};
pub use azure::{
    AzureOptions, AzureReading, AzureReadingRef, AzureReadings, AzureSelection, AzureVm, AzureVmTable, VmSample,
    assemble_azure, readings_files, sample_priority,
};
pub use gwa::{GwaReader, GwaRow, load_gwa_vm};
pub use neutral::{NeutralReader, NeutralRecord, NeutralWriter, read_neutral, read_neutral_from, write_neutral};
pub use opendc::{OpenDcFragment, OpenDcReader, OpenDcVm, load_opendc, read_opendc_meta};
pub use planetlab::{CpuFractions, PlanetLab, VmDay};
pub use replay::{LoadedTrace, ReplaySeries, load_source};
pub use report::{BadRows, ImportOptions, ImportReport, Issue, IssueLog, TraceError};
pub use workload::{Sample, TraceWorkload};
