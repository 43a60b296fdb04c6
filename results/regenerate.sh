#!/usr/bin/env bash
# Regenerates the reference results: runs each experiment's sweep from scratch and draws its
# figures. Usage (from anywhere):  results/regenerate.sh [EXPERIMENT...]   (default: all five)
#
# For each experiment E: `shadowsim sweep experiments/E.ron` into target/results/E (a scratch
# folder: a rerun starts clean, an interrupted one can be resumed there with
# `shadowsim sweep experiments/E.ron --out target/results/E --resume`), then summary.csv,
# runs.csv, points.csv and manifest.ron are copied to results/E/ and `shadowsim plot` draws
# tradeoff.png, by-point.png or by-policy.png and table.md there. results/E/README.md (the
# question, the table and what it shows) is written by hand from table.md.
set -euo pipefail
cd "$(dirname "$0")/.."

all=(cold-start predictive-bursting sensitivity trigger burstable-suitability)
experiments=("${@:-${all[@]}}")

metrics_for() {
    case "$1" in
        predictive-bursting) echo "cost_per_oracle,violation_mins,cold_violation_mins,warm_violation_mins,tau_u_pct,actions" ;;
        burstable-suitability) echo "choice_cheapest_pct,choice_adequate_pct,choice_regret_usd,throttled_mins,surplus_usd,cost_per_oracle,violation_mins,cold_violation_mins" ;;
        *) echo "cost_per_oracle,violation_mins,cold_violation_mins,warm_violation_mins,cold_cost_per_oracle,warm_cost_per_oracle,theta_u_pct,theta_o_pct" ;;
    esac
}

cargo build --release --locked -p sim-cli
bin=target/release/shadowsim
for e in "${experiments[@]}"; do
    scratch=target/results/$e
    rm -rf "$scratch"
    echo "== $e"
    "$bin" sweep "experiments/$e.ron" --out "$scratch"
    mkdir -p "results/$e"
    cp "$scratch"/{summary.csv,runs.csv,points.csv,manifest.ron} "results/$e/"
    "$bin" plot "$scratch" --out "results/$e" --metrics "$(metrics_for "$e")"
done
