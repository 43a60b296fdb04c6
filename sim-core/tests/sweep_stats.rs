//! Sweep statistics: Student t intervals and paired differences against hand-computed values,
//! and the summary/runs/points files written from hand-made records.

use sim_core::sweep::journal::{Outcome, RunRecord};
use sim_core::sweep::output::{points_csv, runs_csv, summary_csv};
use sim_core::sweep::plan::{FORMAT, Header, Param, Provenance};
use sim_core::sweep::stats::{paired_difference, t_interval, t_quantile};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[test]
fn t_quantiles_match_tables() {
    // Two-sided 95 % critical values of Student's t (any statistics table).
    for (dof, t) in [
        (1.0, 12.706_204_7),
        (2.0, 4.302_652_7),
        (3.0, 3.182_446_3),
        (9.0, 2.262_157_2),
    ] {
        assert!(
            close(t_quantile(0.975, dof), t),
            "dof {dof}: {}",
            t_quantile(0.975, dof)
        );
    }
    assert!(t_quantile(0.975, 0.0).is_nan());
}

#[test]
fn t_interval_by_hand() {
    // 1, 2, 3, 4: mean 2.5, sd sqrt(5/3) = 1.2909944, half width 3.1824463 · 1.2909944 / 2.
    let i = t_interval(&[1.0, 2.0, 3.0, 4.0], 0.95);
    assert_eq!(i.n, 4);
    assert!(close(i.mean, 2.5));
    assert!(close(i.sd, 1.290_994_4));
    assert!(close(i.lo, 0.445_739_7), "{}", i.lo);
    assert!(close(i.hi, 4.554_260_3), "{}", i.hi);
    // 10, 12: mean 11, sd sqrt 2, half width t(0.975, 1) = 12.7062047.
    let i = t_interval(&[10.0, 12.0], 0.95);
    assert!(close(i.lo, -1.706_204_7) && close(i.hi, 23.706_204_7), "{i:?}");
    // Identical values: zero width.
    let i = t_interval(&[3.0, 3.0, 3.0], 0.95);
    assert_eq!((i.sd, i.lo, i.hi), (0.0, 3.0, 3.0));
    // One value: mean only.
    let i = t_interval(&[7.0], 0.95);
    assert_eq!(i.mean, 7.0);
    assert!(i.sd.is_nan() && i.lo.is_nan() && i.hi.is_nan());
    assert!(t_interval(&[], 0.95).mean.is_nan());
}

#[test]
fn paired_difference_by_hand() {
    // a − b = 2, 1, 4: mean 7/3, sd sqrt(7/3) = 1.5275252, half width 4.3026527 · 1.5275252 / √3.
    let d = paired_difference(&[10.0, 12.0, 15.0], &[8.0, 11.0, 11.0], 0.95);
    assert!(close(d.mean, 7.0 / 3.0));
    assert!(close(d.sd, 1.527_525_2));
    assert!(close(d.lo, -1.461_249_7), "{}", d.lo);
    assert!(close(d.hi, 6.127_916_4), "{}", d.hi);
    // Pairing removes the shared variation: the unpaired interval of `a` is far wider.
    let a = t_interval(&[10.0, 12.0, 15.0], 0.95);
    assert!(a.hi - a.lo > d.hi - d.lo);
}

fn header() -> Header {
    Header {
        format: FORMAT,
        version: "test".into(),
        experiment: "t".into(),
        plan_hash: "0".into(),
        params: vec![
            Param {
                path: "cluster.provisioning_delay".into(),
                column: "param_cluster.provisioning_delay".into(),
            },
            Param {
                path: "archetypes.\"a b\".x".into(),
                column: "param_archetypes.a_b.x".into(),
            },
        ],
        points: vec![
            vec!["\"1m\"".into(), "Exp(mean: \"3d\")".into()],
            vec!["\"5m\"".into(), "0.5".into()],
        ],
        seeds: vec![11, 22, 33],
        policies: vec!["ref".into(), "other".into()],
        reference: "ref".into(),
        metrics: vec!["cost_usd".into()],
        shard: None,
        provenance: Provenance::default(),
    }
}

fn ok(run: usize, point: usize, seed: u64, reference: f64, other: f64) -> RunRecord {
    RunRecord {
        run,
        point,
        seed,
        outcome: Outcome::Ok(vec![vec![reference], vec![other]]),
        wall_ms: 1,
    }
}

#[test]
fn summary_rows_by_hand() {
    let h = header();
    let records = vec![
        ok(0, 0, 11, 8.0, 10.0),
        ok(1, 0, 22, 11.0, 12.0),
        ok(2, 0, 33, 11.0, 15.0),
        ok(3, 1, 11, 1.0, 2.0),
        RunRecord {
            run: 4,
            point: 1,
            seed: 22,
            outcome: Outcome::Failed("invalid scenario: x".into()),
            wall_ms: 1,
        },
        ok(5, 1, 33, 3.0, 3.0),
    ];
    let s = summary_csv(&h, &records);
    let lines: Vec<&str> = s.lines().collect();
    assert_eq!(
        lines[0],
        "point,policy,param_cluster.provisioning_delay,param_archetypes.a_b.x,runs,cost_usd_mean,cost_usd_sd,\
         cost_usd_ci95_lo,cost_usd_ci95_hi,cost_usd_diff_mean,cost_usd_diff_ci95_lo,cost_usd_diff_ci95_hi"
    );
    // ref at point 0: 8, 11, 11: mean 10, sd sqrt 3, half 4.3026527 · 1.
    assert_eq!(
        lines[1],
        "0,ref,1m,\"Exp(mean: \"\"3d\"\")\",3,10,1.732051,5.697347,14.302653,0,0,0"
    );
    // other at point 0: 10, 12, 15: mean 37/3, sd 2.5166115, half 4.3026527 · 2.5166115 / √3;
    // differences 2, 1, 4 (see above).
    assert_eq!(
        lines[2],
        "0,other,1m,\"Exp(mean: \"\"3d\"\")\",3,12.333333,2.516611,6.081724,18.584943,2.333333,-1.46125,6.127916"
    );
    // Point 1: the failed seed is left out; two seeds remain.
    // ref: 1, 3 (mean 2, sd √2, half 12.7062047); other − ref: 1, 0 (mean 0.5, sd √0.5).
    assert_eq!(lines[3], "1,ref,5m,0.5,2,2,1.414214,-10.706205,14.706205,0,0,0");
    assert_eq!(
        lines[4],
        "1,other,5m,0.5,2,2.5,0.707107,-3.853102,8.853102,0.5,-5.853102,6.853102"
    );
    assert_eq!(lines.len(), 5);

    let r = runs_csv(&h, &records);
    let lines: Vec<&str> = r.lines().collect();
    assert_eq!(
        lines[0],
        "point,seed,policy,param_cluster.provisioning_delay,param_archetypes.a_b.x,status,error,cost_usd"
    );
    assert_eq!(lines[1], "0,11,ref,1m,\"Exp(mean: \"\"3d\"\")\",ok,,8");
    assert_eq!(lines[9], "1,22,ref,5m,0.5,failed,invalid scenario: x,");
    assert_eq!(lines[10], "1,22,other,5m,0.5,failed,invalid scenario: x,");
    assert_eq!(lines.len(), 1 + 6 * 2);

    assert_eq!(
        points_csv(&h),
        "point,cluster.provisioning_delay,\"archetypes.\"\"a b\"\".x\"\n0,\"\"\"1m\"\"\",\"Exp(mean: \"\"3d\"\")\"\n1,\"\"\"5m\"\"\",0.5\n"
    );
}

#[test]
fn a_single_seed_gives_nan_intervals() {
    let mut h = header();
    h.seeds = vec![11];
    h.points.truncate(1);
    let s = summary_csv(&h, &[ok(0, 0, 11, 4.0, 6.0)]);
    assert_eq!(
        s.lines().nth(2).unwrap(),
        "0,other,1m,\"Exp(mean: \"\"3d\"\")\",1,6,NaN,NaN,NaN,2,NaN,NaN"
    );
}
