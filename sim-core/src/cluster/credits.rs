//! The exact CPU-credit model of burstable instances (BASELINES.md §6, AWS T-series).
//!
//! One credit is one vCPU at 100 % for one minute. An instance earns `credits_per_hour / 60`
//! credits per minute and spends `used_cores` credits per minute. Demand is constant within an
//! accounting segment, so the balance moves linearly and every quantity is integrated exactly
//! (no per-minute stepping): the moment the balance empties or fills is solved for.
//!
//! - Standard mode: launch credits are spent first, then the accrued balance; at zero balance
//!   the CPU is throttled to the baseline (`credits_per_hour / 60` cores). The gradual
//!   15-minute ramp down that AWS describes (BASELINES.md marks it \[R\]) is not modelled: the
//!   throttle is immediate, which slightly overstates throttling right after depletion.
//! - Unlimited mode: when the balance is empty the instance spends surplus credits; earnings
//!   pay the surplus down first. Surplus above the accrual cap is charged at the end of the
//!   segment, and whatever surplus remains is charged when the instance stops.
//! - The balance never exceeds the cap; newly earned credits beyond it are discarded.

use super::catalog::Burstable;
use crate::scenario::schema::CreditMode;

/// Credit state of one burstable instance.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CreditState {
    /// Accrued credits, in `[0, max_credits]`.
    pub balance: f64,
    /// Unspent launch credits (standard mode), not counted against the cap.
    pub launch: f64,
    /// Surplus credits spent and not yet paid back (unlimited mode), in `[0, max_credits]`.
    pub surplus: f64,
}

/// What one instance did during a segment.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CreditOutcome {
    /// CPU actually delivered, in core-minutes.
    pub served_core_mins: f64,
    /// Time throttled below demand, in minutes (standard mode).
    pub throttled_mins: f64,
    /// Surplus credits charged during the segment (unlimited mode).
    pub charged_credits: f64,
}

impl CreditState {
    /// The state of a freshly launched instance.
    pub fn launched(model: &Burstable) -> Self {
        CreditState {
            balance: 0.0,
            launch: model.launch_credits,
            surplus: 0.0,
        }
    }

    /// Runs one instance for `mins` minutes at a CPU demand of `demand_cores` (clamped to
    /// `[0, vcpus]`), updating the credit state.
    pub fn advance(&mut self, model: &Burstable, vcpus: f64, demand_cores: f64, mins: f64) -> CreditOutcome {
        let d = demand_cores.clamp(0.0, vcpus);
        let earn = model.credits_per_hour / 60.0; // credits (= cores) per minute
        let cap = model.max_credits;
        let mut out = CreditOutcome::default();
        if mins <= 0.0 {
            return out;
        }
        match model.mode {
            CreditMode::Standard => {
                if d <= earn {
                    self.balance = (self.balance + (earn - d) * mins).min(cap);
                    out.served_core_mins = d * mins;
                } else {
                    let drain = d - earn;
                    let available = self.launch + self.balance;
                    let full = available / drain; // minutes at full demand
                    if full >= mins {
                        let mut spend = drain * mins;
                        let from_launch = spend.min(self.launch);
                        self.launch -= from_launch;
                        spend -= from_launch;
                        self.balance = (self.balance - spend).max(0.0);
                        out.served_core_mins = d * mins;
                    } else {
                        self.launch = 0.0;
                        self.balance = 0.0;
                        out.served_core_mins = d * full + earn * (mins - full);
                        out.throttled_mins = mins - full;
                    }
                }
            }
            CreditMode::Unlimited => {
                out.served_core_mins = d * mins;
                let net = (earn - d) * mins;
                if net >= 0.0 {
                    let pay = net.min(self.surplus);
                    self.surplus -= pay;
                    self.balance = (self.balance + net - pay).min(cap);
                } else {
                    let mut need = -net;
                    let from_launch = need.min(self.launch);
                    self.launch -= from_launch;
                    need -= from_launch;
                    let used = need.min(self.balance);
                    self.balance -= used;
                    self.surplus += need - used;
                    if self.surplus > cap {
                        out.charged_credits = self.surplus - cap;
                        self.surplus = cap;
                    }
                }
            }
        }
        out
    }

    /// Surplus credits charged when the instance stops (unlimited mode); resets the surplus.
    pub fn settle_on_stop(&mut self) -> f64 {
        std::mem::take(&mut self.surplus)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t3_micro(mode: CreditMode) -> Burstable {
        Burstable {
            credits_per_hour: 12.0,
            max_credits: 288.0,
            launch_credits: 0.0,
            mode,
            surplus_usd_per_credit: 0.05 / 60.0,
        }
    }

    #[test]
    fn full_balance_lasts_2_67_hours_at_100_percent() {
        // BASELINES.md: 288 / (120 − 12) ≈ 2.67 h for a t3.micro at 100 % on both vCPUs.
        let m = t3_micro(CreditMode::Standard);
        let mut s = CreditState {
            balance: 288.0,
            ..Default::default()
        };
        let out = s.advance(&m, 2.0, 2.0, 300.0);
        let full_mins: f64 = 288.0 / (2.0 - 0.2);
        assert!((full_mins / 60.0 - 2.6667).abs() < 1e-3);
        assert!((out.throttled_mins - (300.0 - full_mins)).abs() < 1e-9);
        // Throttled to the baseline: 0.2 cores (2 vCPUs × 10 %).
        assert!((out.served_core_mins - (2.0 * full_mins + 0.2 * (300.0 - full_mins))).abs() < 1e-9);
        assert_eq!(s.balance, 0.0);
    }

    #[test]
    fn idle_instance_fills_to_cap_and_discards_the_rest() {
        let m = t3_micro(CreditMode::Standard);
        let mut s = CreditState::default();
        s.advance(&m, 2.0, 0.0, 60.0 * 30.0); // 30 h idle earns 360 > 288
        assert_eq!(s.balance, 288.0);
    }

    #[test]
    fn below_baseline_never_throttles() {
        let m = t3_micro(CreditMode::Standard);
        let mut s = CreditState::default();
        let out = s.advance(&m, 2.0, 0.15, 600.0);
        assert_eq!(out.throttled_mins, 0.0);
        assert!((s.balance - 0.05 * 600.0).abs() < 1e-9);
    }

    #[test]
    fn unlimited_charges_surplus_beyond_cap_and_at_stop() {
        let m = t3_micro(CreditMode::Unlimited);
        let mut s = CreditState {
            balance: 10.0,
            ..Default::default()
        };
        // 1 h at 100 %: spends 120, earns 12, net −108: 10 from balance, 98 surplus.
        let out = s.advance(&m, 2.0, 2.0, 60.0);
        assert_eq!(out.served_core_mins, 120.0);
        assert_eq!(out.charged_credits, 0.0);
        assert!((s.surplus - 98.0).abs() < 1e-9);
        // 3 more hours: +324 surplus → 422, 134 above the cap of 288 are charged.
        let out = s.advance(&m, 2.0, 2.0, 180.0);
        assert!((out.charged_credits - 134.0).abs() < 1e-9);
        assert_eq!(s.surplus, 288.0);
        // Idle 1 h: earns 12, all of it pays the surplus down.
        s.advance(&m, 2.0, 0.0, 60.0);
        assert!((s.surplus - 276.0).abs() < 1e-9);
        assert_eq!(s.balance, 0.0);
        assert_eq!(s.settle_on_stop(), 276.0);
        assert_eq!(s.surplus, 0.0);
    }

    #[test]
    fn launch_credits_are_spent_first() {
        let m = Burstable {
            launch_credits: 30.0,
            ..t3_micro(CreditMode::Standard)
        };
        let mut s = CreditState::launched(&m);
        s.balance = 5.0;
        // 10 minutes at 2 cores: drain 1.8/min = 18 credits, all from launch credits.
        s.advance(&m, 2.0, 2.0, 10.0);
        assert!((s.launch - 12.0).abs() < 1e-9);
        assert_eq!(s.balance, 5.0);
    }
}
