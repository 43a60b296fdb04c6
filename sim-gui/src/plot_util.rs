//! Shared plot conventions: colours, axis formatters, the linked time axis and CSV output.

use egui::Color32;
use egui_plot::GridMark;

/// Id linking the x (time) axes and cursors of every time plot.
pub fn time_axis_id() -> egui::Id {
    egui::Id::unique("shadowsim_time_axis")
}

/// Series colours.
pub mod colors {
    use egui::Color32;
    /// Demand.
    pub const DEMAND: Color32 = Color32::from_rgb(230, 126, 34);
    /// Allocated capacity.
    pub const ALLOCATION: Color32 = Color32::from_rgb(52, 152, 219);
    /// Served load.
    pub const SERVED: Color32 = Color32::from_rgb(46, 204, 113);
    /// Shadow prediction.
    pub const PREDICTED: Color32 = Color32::from_rgb(155, 89, 182);
    /// Shadow band fill.
    pub const BAND: Color32 = Color32::from_rgba_premultiplied(70, 40, 90, 70);
    /// Burst shading.
    pub const BURST: Color32 = Color32::from_rgba_premultiplied(90, 70, 0, 50);
    /// Pre-scaling window shading.
    pub const PRESCALE: Color32 = Color32::from_rgba_premultiplied(0, 60, 90, 50);
    /// Burst pre-scaling markers.
    pub const PRESCALE_MARK: Color32 = Color32::from_rgb(52, 172, 224);
    /// SLO violation shading.
    pub const VIOLATION: Color32 = Color32::from_rgba_premultiplied(110, 20, 20, 60);
    /// OOM markers.
    pub const OOM: Color32 = Color32::from_rgb(231, 76, 60);
    /// Scale-up markers.
    pub const UP: Color32 = Color32::from_rgb(241, 196, 15);
    /// Scale-down markers.
    pub const DOWN: Color32 = Color32::from_rgb(26, 188, 156);
    /// Instance cost.
    pub const INSTANCE: Color32 = Color32::from_rgb(52, 152, 219);
    /// Burstable surplus cost.
    pub const SURPLUS: Color32 = Color32::from_rgb(241, 196, 15);
    /// SLO penalty.
    pub const PENALTY: Color32 = Color32::from_rgb(231, 76, 60);
}

/// A colour per policy index (stable across views).
pub fn policy_color(i: usize) -> Color32 {
    const P: [Color32; 8] = [
        Color32::from_rgb(52, 152, 219),
        Color32::from_rgb(230, 126, 34),
        Color32::from_rgb(46, 204, 113),
        Color32::from_rgb(155, 89, 182),
        Color32::from_rgb(231, 76, 60),
        Color32::from_rgb(26, 188, 156),
        Color32::from_rgb(241, 196, 15),
        Color32::from_rgb(149, 165, 166),
    ];
    P[i % P.len()]
}

/// Colour with a new alpha (premultiplied).
pub fn with_alpha(c: Color32, alpha: u8) -> Color32 {
    Color32::from_rgba_unmultiplied(c.r(), c.g(), c.b(), alpha)
}

/// Formats simulated hours as `d2 14:00` (day since start, 1-based).
pub fn hours_label(h: f64) -> String {
    if !h.is_finite() {
        return String::new();
    }
    let total_min = (h * 60.0).round() as i64;
    let day = total_min.div_euclid(24 * 60) + 1;
    let min = total_min.rem_euclid(24 * 60);
    format!("d{day} {:02}:{:02}", min / 60, min % 60)
}

/// Axis formatter for time in hours.
pub fn time_axis_fmt(mark: GridMark, _range: &std::ops::RangeInclusive<f64>) -> String {
    hours_label(mark.value)
}

/// Formats an hour of the week (0 = Monday 00:00) as `Tue 13:00`.
pub fn hour_of_week_label(h: f64) -> String {
    const D: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    if !h.is_finite() {
        return String::new();
    }
    let total_min = (h * 60.0).round() as i64;
    let day = total_min.div_euclid(24 * 60).rem_euclid(7) as usize;
    let min = total_min.rem_euclid(24 * 60);
    format!("{} {:02}:{:02}", D[day], min / 60, min % 60)
}

/// A CSV field, quoted when needed.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A number for CSV (shortest round-trip form; empty for NaN).
pub fn csv_num(x: f64) -> String {
    if x.is_finite() { format!("{x}") } else { String::new() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_labels() {
        assert_eq!(hours_label(0.0), "d1 00:00");
        assert_eq!(hours_label(26.5), "d2 02:30");
        assert_eq!(hour_of_week_label(24.0 + 13.0), "Tue 13:00");
        assert_eq!(hour_of_week_label(167.0), "Sun 23:00");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_num(f64::NAN), "");
        assert_eq!(csv_num(0.5), "0.5");
    }
}
