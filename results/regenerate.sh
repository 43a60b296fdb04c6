#!/usr/bin/env bash
# Regenerates the reference results. Usage (from anywhere):
#   results/regenerate.sh [EXPERIMENT...]        (default: all ten)
#
# The seven sweep experiments (cold-start, hmm-adaptation, hmm-adaptation-factors,
# predictive-bursting, sensitivity, trigger, burstable-suitability): `shadowsim sweep
# experiments/E.ron` into target/results/E (a scratch folder: a rerun starts clean, an
# interrupted one can be resumed there with
# `shadowsim sweep experiments/E.ron --out target/results/E --resume`), then summary.csv,
# runs.csv, points.csv and manifest.ron are copied to results/E/ and `shadowsim plot` draws
# tradeoff.png, by-point.png or by-policy.png and table.md there.
#
# The three studies on real traces read ../shared/traces (beside the clone; not in the
# repository) and are skipped, with the reason printed, where it is absent:
# - planetlab-replay: four `shadowsim run scenarios/planetlab-replay.ron` runs (a warm-up day,
#   then the test day) into target/results/planetlab-replay/run-DAY, scored by
#   results/planetlab-replay/score.py (python3, standard library only) into summary.csv;
# - planetlab-forecast: `shadowsim forecast --bounds` on the protocol's development split and
#   two other splits of the five PlanetLab days, into one CSV per split;
# - bitbrains-forecast: `shadowsim forecast --trace-format opendc` into forecast.csv.
#
# results/E/README.md (the question, the table and what it shows) is written by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

all=(cold-start hmm-adaptation hmm-adaptation-factors predictive-bursting sensitivity trigger burstable-suitability planetlab-replay planetlab-forecast bitbrains-forecast)
traces=../shared/traces
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

planetlab_replay() {
    local scratch=target/results/planetlab-replay runs=()
    rm -rf "$scratch"
    for pair in 20110303:20110306 20110306:20110309 20110309:20110322 20110322:20110325; do
        local warm=${pair%:*} test=${pair#*:}
        "$bin" run scenarios/planetlab-replay.ron --quiet --out "$scratch/run-$test" \
            --set "traces[0].select.days=[\"$warm\", \"$test\"]"
        runs+=("$test=$scratch/run-$test")
    done
    python3 results/planetlab-replay/score.py results/planetlab-replay/summary.csv 20110306 "${runs[@]}"
}

planetlab_forecast() {
    local p=$traces/planetlab
    "$bin" forecast --bounds --train "$p:20110303,20110306,20110309" --test "$p:20110322,20110325" \
        --out results/planetlab-forecast/dev.csv
    "$bin" forecast --bounds --train "$p:20110322,20110325,20110303" --test "$p:20110306,20110309" \
        --out results/planetlab-forecast/test-0306-0309.csv
    "$bin" forecast --bounds --train "$p:20110306,20110309,20110322" --test "$p:20110325,20110303" \
        --out results/planetlab-forecast/test-0325-0303.csv
}

bitbrains_forecast() {
    "$bin" forecast --trace-format opendc \
        --train "$traces/bitbrains:20130813..20130902" \
        --test "$traces/bitbrains:20130903..20130910" \
        --out results/bitbrains-forecast/forecast.csv
}

for e in "${experiments[@]}"; do
    echo "== $e"
    case "$e" in
        planetlab-replay | planetlab-forecast | bitbrains-forecast)
            dir=$traces/${e%%-*}
            if [[ ! -d $dir ]]; then
                echo "skipped: $dir not found (the real traces sit beside the clone, in ../shared/traces)"
                continue
            fi
            "${e//-/_}" # the function of the same name
            continue
            ;;
    esac
    scratch=target/results/$e
    rm -rf "$scratch"
    "$bin" sweep "experiments/$e.ron" --out "$scratch"
    mkdir -p "results/$e"
    cp "$scratch"/{summary.csv,runs.csv,points.csv,manifest.ron} "results/$e/"
    "$bin" plot "$scratch" --out "results/$e" --metrics "$(metrics_for "$e")"
done
