//! Small text conversions of the sweep: generic values back to override text, parameter
//! values for CSV cells, CSV-safe column names.

use serde_json::Value;

use crate::scenario::overrides::parse_value;

/// Renders a generic value tree as override text that
/// [`crate::scenario::overrides::parse_value`] reads back to the same tree (`null` becomes
/// `None`, objects become `{"key": value}` maps, which is how an enum variant with fields
/// is represented).
pub fn value_to_override_text(v: &Value) -> String {
    let mut s = String::new();
    write_value(&mut s, v);
    s
}

fn write_value(s: &mut String, v: &Value) {
    match v {
        Value::Null => s.push_str("None"),
        Value::Bool(b) => s.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => s.push_str(&n.to_string()),
        Value::String(t) => write_string(s, t),
        Value::Array(a) => {
            s.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                write_value(s, x);
            }
            s.push(']');
        }
        Value::Object(m) => {
            s.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                write_string(s, k);
                s.push_str(": ");
                write_value(s, x);
            }
            s.push('}');
        }
    }
}

fn write_string(s: &mut String, t: &str) {
    s.push('"');
    for c in t.chars() {
        if c == '"' || c == '\\' {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('"');
}

/// The value of a parameter as shown in the `param_*` cells of `runs.csv` and
/// `summary.csv`: a string value without its quotes (`5m`), anything else as written
/// (`0.7`, `Upper`, `Exp(mean: "3d")`), white space runs collapsed to one space.
pub fn display_value(ron_text: &str) -> String {
    let t = ron_text.trim();
    if t.starts_with('"')
        && let Ok(Value::String(s)) = parse_value(t)
    {
        return s;
    }
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The `param_*` column name of a field path: `param_` + the path with every character other
/// than ASCII letters, digits, `_`, `-`, `.`, `[` and `]` replaced by `_` and quotes dropped
/// (`archetypes."web server".load.noise.sigma` → `param_archetypes.web_server.load.noise.sigma`).
pub fn param_column(path: &str) -> String {
    let mut s = String::from("param_");
    for c in path.chars() {
        match c {
            '"' => {}
            c if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '[' | ']') => s.push(c),
            _ => s.push('_'),
        }
    }
    s
}

/// One line of text: line breaks and tabs become spaces (error messages in CSV cells).
pub fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("; ")
        .replace('\t', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn override_text_round_trips() {
        for v in [
            json!(null),
            json!({"Threshold": {"name": "a \"q\" \\ b", "up": 0.7, "interval": "1m", "axis": "Vertical", "x": null}}),
            json!([1, -2, 1.5e-7, true]),
            json!({"a b": {"Fixed": 2.0}}),
        ] {
            let text = value_to_override_text(&v);
            assert_eq!(parse_value(&text).unwrap(), v, "{text}");
        }
    }

    #[test]
    fn display_and_columns() {
        assert_eq!(display_value(" \"5m\" "), "5m");
        assert_eq!(display_value("Exp(mean:\n  \"3d\")"), "Exp(mean: \"3d\")");
        assert_eq!(display_value("0.7"), "0.7");
        assert_eq!(
            param_column("archetypes.\"web server\".load.noise.sigma"),
            "param_archetypes.web_server.load.noise.sigma"
        );
        assert_eq!(param_column("policies[1].up"), "param_policies[1].up");
        assert_eq!(one_line("a\nb\tc"), "a; b c");
    }
}
