#!/usr/bin/env python3
"""Scores the PlanetLab replay study from `shadowsim run` outputs.

Each run (one per test day) replays two trace days back to back: day 0 (warm-up) and day 1
(the test day). Only workloads arriving on day 1 (arrival_hours >= 24) are scored, from
`workloads.csv`. Writes `summary.csv`: one row per (test day, policy) and, per policy, the
mean over the test days with a Student-t 95 % interval (n - 1 degrees of freedom).

usage: score.py OUT_CSV TUNING_DAY DAY=RUN_DIR [DAY=RUN_DIR ...]
"""
import csv
import math
import sys

T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571}
METRICS = ["cost_usd", "cost_per_oracle", "violation_mins", "theta_u_pct", "theta_o_pct",
           "unmet_cpu_core_hours", "slack_cpu_core_hours", "actions"]


def score(run_dir):
    per = {}
    order = []
    with open(f"{run_dir}/workloads.csv", newline="") as f:
        for row in csv.DictReader(f):
            if float(row["arrival_hours"]) < 24:
                continue
            p = row["policy"]
            if p not in per:
                order.append(p)
                per[p] = dict(n=0, hours=0.0, cost_usd=0.0, violation_mins=0.0, tu=0.0, to=0.0,
                              unmet_cpu_core_hours=0.0, slack_cpu_core_hours=0.0, actions=0)
            a = per[p]
            h = float(row["workload_hours"])
            a["n"] += 1
            a["hours"] += h
            a["cost_usd"] += float(row["cost_usd"])
            a["violation_mins"] += float(row["violation_mins"])
            a["tu"] += float(row["theta_u_pct"]) * h
            a["to"] += float(row["theta_o_pct"]) * h
            a["unmet_cpu_core_hours"] += float(row["unmet_cpu_core_hours"])
            a["slack_cpu_core_hours"] += float(row["slack_cpu_core_hours"])
            a["actions"] += int(row["actions"])
    oracle = per.get("oracle", {}).get("cost_usd", float("nan"))
    out = {}
    for p in order:
        a = per[p]
        out[p] = dict(workloads=a["n"], cost_usd=a["cost_usd"], cost_per_oracle=a["cost_usd"] / oracle,
                      violation_mins=a["violation_mins"], theta_u_pct=a["tu"] / a["hours"],
                      theta_o_pct=a["to"] / a["hours"], unmet_cpu_core_hours=a["unmet_cpu_core_hours"],
                      slack_cpu_core_hours=a["slack_cpu_core_hours"], actions=a["actions"])
    return order, out


def main():
    out_csv, tuning = sys.argv[1], sys.argv[2]
    runs = [arg.split("=", 1) for arg in sys.argv[3:]]
    rows = []
    test = {}
    order = []
    for day, d in runs:
        order, res = score(d)
        for p in order:
            rows.append(dict(day=day, role="tuning" if day == tuning else "test", policy=p, **res[p]))
            if day != tuning:
                test.setdefault(p, []).append(res[p])
    for p in order:
        vals = test.get(p, [])
        n = len(vals)
        if n == 0:
            continue
        agg = dict(day="mean", role=f"test days (n={n})", policy=p, workloads=sum(v["workloads"] for v in vals))
        for m in METRICS:
            xs = [v[m] for v in vals]
            mean = sum(xs) / n
            sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1)) if n > 1 else float("nan")
            half = T975.get(n - 1, 1.96) * sd / math.sqrt(n) if n > 1 else float("nan")
            agg[m] = mean
            agg[m + "_ci95_lo"] = mean - half
            agg[m + "_ci95_hi"] = mean + half
        rows.append(agg)
    cols = ["day", "role", "policy", "workloads"]
    for m in METRICS:
        cols += [m, m + "_ci95_lo", m + "_ci95_hi"]
    with open(out_csv, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, restval="")
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})


if __name__ == "__main__":
    main()
