//! No importer panics on any input: empty files, binary garbage, overlong lines, truncated
//! data, NaN and huge numbers; and whatever they accept keeps the model's invariants.

use std::path::Path;

use proptest::prelude::*;
use sim_core::metric::METRICS;
use sim_core::trace::{
    AzureOptions, AzureSelection, ImportOptions, ImportReport, PlanetLab, TraceError, TraceWorkload, VmSample,
    assemble_azure, load_gwa_vm, load_opendc, read_neutral,
};

const GWA_HEADER: &str = "Timestamp [ms];\tCPU cores;\tCPU capacity provisioned [MHZ];\tCPU usage \
    [MHZ];\tCPU usage [%];\tMemory capacity provisioned [KB];\tMemory usage [KB];\tDisk read \
    throughput [KB/s];\tDisk write throughput [KB/s];\tNetwork received throughput [KB/s];\t\
    Network transmitted throughput [KB/s]\n";
const NEUTRAL_HEADER: &str = "workload,tags,time_secs,cpu_cores,mem_gib,disk_mbps,net_mbps\n";

/// What every accepted result must satisfy.
fn check(result: Result<(Vec<TraceWorkload>, ImportReport), TraceError>) {
    let Ok((workloads, report)) = result else {
        return;
    };
    let mut present = 0u64;
    for w in &workloads {
        assert!(w.step_secs > 0);
        let len = w.len();
        assert!(len > 0, "empty workload {}", w.name);
        for m in METRICS {
            let col = &w.values[m.index()];
            if w.metrics.contains(m) {
                assert_eq!(col.len(), len);
            } else {
                assert!(col.is_empty());
            }
            for v in col.iter().flatten() {
                assert!(v.is_finite() && *v >= 0.0, "{v}");
                present += 1;
            }
        }
        let any = |i: usize| METRICS.iter().any(|m| w.value(i, *m).is_some());
        assert!(any(0) && any(len - 1), "untrimmed workload {}", w.name);
    }
    // Nothing invented: at most one value per metric per sample read.
    assert!(present <= report.samples.saturating_mul(4));
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, bytes).unwrap();
}

/// Runs every importer on `bytes` placed as the data part of each format.
fn run_all(bytes: &[u8]) {
    for opts in [ImportOptions::default(), ImportOptions::strict()] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();

        // GWA-T-12: raw garbage, and garbage after a valid header.
        write(d, "raw.csv", bytes);
        check(load_gwa_vm(&d.join("raw.csv"), &opts).map(|(w, r)| (vec![w], r)));
        write(d, "gwa.csv", &[GWA_HEADER.as_bytes(), bytes].concat());
        check(load_gwa_vm(&d.join("gwa.csv"), &opts).map(|(w, r)| (vec![w], r)));

        // PlanetLab: a garbage VM file, then a garbage tags.csv.
        let pl = d.join("pl");
        write(&pl, "tags.csv", b"date,vm_file,host,slice\n20200101,x y,h,s\n");
        write(&pl, "20200101/x y", bytes);
        if let Ok((p, _)) = PlanetLab::open(&pl, None, &opts) {
            check(p.load_workloads(1.0, &opts));
            if let Some(day) = p.vm_days().first()
                && let Ok((series, _)) = p.load(day, &opts)
            {
                assert_eq!(series.len(), 288);
            }
        }
        write(&pl, "tags.csv", bytes);
        if let Ok((p, _)) = PlanetLab::open(&pl, None, &opts) {
            check(p.load_workloads(1.0, &opts));
        }

        // OpenDC: garbage fragments after a valid header, then garbage meta.
        let od = d.join("od");
        write(
            &od,
            "meta.csv",
            b"id,start_time,stop_time,cpu_count,cpu_capacity,mem_capacity\n\
              1,2013-08-12T13:35:46Z,2013-08-13T13:35:46Z,2,4000,1\n",
        );
        write(
            &od,
            "trace.csv",
            &[b"id,timestamp,duration,cpu_count,cpu_usage\n".as_slice(), bytes].concat(),
        );
        check(load_opendc(&od, |_| true, &opts));
        write(&od, "meta.csv", bytes);
        check(load_opendc(&od, |_| true, &opts));

        // Azure: garbage vmtable, and garbage readings for a selected VM.
        let az = d.join("az");
        write(&az, "vmtable.csv", bytes);
        let aopts = AzureOptions {
            import: opts,
            ..AzureOptions::default()
        };
        let sample = VmSample { seed: 0, max_vms: 10 };
        let _ = AzureSelection::select(&az.join("vmtable.csv"), |_| true, sample, &aopts);
        write(&az, "vmtable.csv", b"1,s,d,0,86400,1,1,1,Unknown,2,4\n");
        write(&az, "r.csv", bytes);
        if let Ok((sel, _)) = AzureSelection::select(&az.join("vmtable.csv"), |_| true, sample, &aopts) {
            check(assemble_azure(&sel, &[az.join("r.csv")], &aopts));
        }

        // Neutral: raw garbage and garbage after the header.
        write(d, "n1.csv", bytes);
        check(read_neutral(&d.join("n1.csv"), &opts));
        write(d, "n2.csv", &[NEUTRAL_HEADER.as_bytes(), bytes].concat());
        check(read_neutral(&d.join("n2.csv"), &opts));
    }
}

/// Tokens that look like trace data, to reach past the first parse error.
fn token() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "0",
        "1",
        "2",
        "50",
        "100",
        "101",
        "-1",
        "0.5",
        "NaN",
        "inf",
        "1e400",
        "-0",
        "300",
        "600000",
        "599000",
        "1376314846",
        "9223372036854775807",
        "99999999999999999999",
        "2013-08-12T13:40:46Z",
        "1",
        "vm-a",
        "x y",
        ">24",
        "Unknown",
        ";",
        ";\t",
        ",",
        ",",
        "\n",
        "\n",
        "\r\n",
        "\"",
        "",
        " ",
        "\t",
        "\u{0}",
        "\u{feff}",
        "step_secs=300",
        "step_secs=0",
        "capacity_cpu_cores=2",
        "a;;b",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..3000)) {
        run_all(&bytes);
    }

    #[test]
    fn plausible_tokens_never_panic(tokens in prop::collection::vec(token(), 0..400)) {
        run_all(tokens.concat().as_bytes());
    }
}

#[test]
fn fixed_hostile_inputs() {
    let long_line = vec![b'7'; 3 << 20];
    let many_newlines = vec![b'\n'; 10_000];
    let huge = b"1e308,1e308,1e308\n".repeat(10);
    let nul = vec![0u8; 5000];
    for bytes in [
        &b""[..],
        &long_line,
        &many_newlines,
        &huge,
        &nul,
        b"\xff\xfe\xfd",
        b"\r",
    ] {
        run_all(bytes);
    }
}

#[test]
fn overlong_planetlab_line_is_one_bad_row() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "tags.csv", b"date,vm_file,host,slice\n20200101,v,h,s\n");
    let mut data = b"5\n".repeat(287);
    data.extend(vec![b'9'; 2 << 20]);
    data.push(b'\n');
    write(d, "20200101/v", &data);
    let (p, _) = PlanetLab::open(d, None, &ImportOptions::default()).unwrap();
    let (series, report) = p.load(&p.vm_days()[0], &ImportOptions::default()).unwrap();
    assert_eq!(series.iter().filter(|v| v.is_some()).count(), 287);
    assert_eq!(series[287], None);
    assert_eq!(report.bad_rows.count, 1);
    assert!(report.bad_rows.messages()[0].ends_with(":288: line longer than 1 MiB (binary data?)"));
}
