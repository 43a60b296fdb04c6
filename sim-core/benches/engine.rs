//! Engine benchmarks: whole-engine throughput (workload-steps per second on one core with the
//! static policy: generation + execution + profiling), the demand generator alone, and the
//! event queue.
//!
//! `cargo bench -p sim-core --bench engine`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sim_core::engine::queue::{EventKind, Queue};
use sim_core::model::Model;
use sim_core::rng::{EntityKind, stream};
use sim_core::runner;
use sim_core::scenario::parse_scenario;
use sim_core::time::SimTime;
use sim_core::workload::generator::Generator;

fn model(workloads_per_class: u32, days: u32) -> Model {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/quickstart.ron")).unwrap();
    let n = workloads_per_class.to_string();
    let ov: Vec<(String, String)> = vec![
        ("workloads[0].initial".into(), n.clone()),
        ("workloads[1].initial".into(), n.clone()),
        ("workloads[2].initial".into(), n.clone()),
        ("workloads[3].initial".into(), n),
        ("workloads[0].arrivals_per_day".into(), "0".into()),
        ("workloads[1].arrivals_per_day".into(), "0".into()),
        ("workloads[2].arrivals_per_day".into(), "0".into()),
        ("workloads[2].lifetime".into(), "None".into()),
        ("workloads[3].schedule".into(), "Always".into()),
        ("cluster.nodes[0].count".into(), "2000".into()),
        ("duration".into(), format!("\"{days}d\"")),
        ("output.series".into(), "None".into()),
        ("policies".into(), "[Static()]".into()),
    ];
    Model::build(&parse_scenario("bench.ron", &text, &ov).unwrap().scenario)
}

fn engine(c: &mut Criterion) {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let m = model(500, 2); // 2,000 workloads × 576 steps
    let steps = 2_000u64 * 576;
    let mut g = c.benchmark_group("engine");
    g.sample_size(10);
    g.throughput(Throughput::Elements(steps));
    g.bench_function("static_1_thread_2000x2d", |b| {
        b.iter(|| pool.install(|| black_box(runner::run_all(&m).workload_steps())))
    });
    g.finish();
}

fn generator(c: &mut Criterion) {
    let m = model(1, 1);
    let w = &m.population.workloads[0];
    let arch = &m.archetypes[w.archetype as usize];
    let mut g = c.benchmark_group("generator");
    g.throughput(Throughput::Elements(1));
    let mut gen_ = Generator::new(stream(1, EntityKind::WorkloadDemand, w.entity), arch, 0);
    let mut t = 0u64;
    g.bench_function("step", |b| {
        b.iter(|| {
            let d = gen_.step(arch, &w.traits, &w.nominal, t, m.calendar.week_ms(SimTime(t)));
            t += m.step_ms;
            black_box(d)
        })
    });
    g.finish();
}

fn queue(c: &mut Criterion) {
    let mut g = c.benchmark_group("queue");
    g.throughput(Throughput::Elements(1));
    // A queue holding 100,000 pending per-workload events; one push + one pop per iteration.
    let mut q = Queue::default();
    for i in 0..100_000u32 {
        q.push(SimTime(u64::from(i) * 7_919 % 1_000_000), EventKind::SessionStart, i, 0);
    }
    let mut t = 1_000_000u64;
    g.bench_function("push_pop_100k", |b| {
        b.iter(|| {
            t += 13;
            q.push(SimTime(t), EventKind::InstanceReady, 1, 0);
            black_box(q.pop())
        })
    });
    g.finish();
}

criterion_group!(benches, engine, generator, queue);
criterion_main!(benches);
