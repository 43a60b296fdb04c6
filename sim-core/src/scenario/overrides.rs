//! `field.path=value` overrides (`shadowsim run --set`, sweep grids).
//!
//! A value is applied to the scenario's generic tree (serde_json, where externally tagged
//! enums keep their variant names) and the result is deserialized again, so an override is
//! type-checked exactly like the file itself.
//!
//! Paths: `seed`, `cluster.provisioning_delay`, `archetypes.web.load.noise.sigma`,
//! `workloads[0].initial`, `policies[1].up` (an enum variant's fields are reached without
//! naming the variant). Values are RON: `42`, `0.5`, `"5m"`, `BestFit`, `[1, 2]`,
//! `Exp(mean: "3d")`, `(cpu_cores: 2.0, mem_gib: 8.0)`.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// One segment of a field path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// A struct field or map key.
    Key(String),
    /// A list index.
    Index(usize),
}

/// Parses `a.b[2].c` or `archetypes."web server".tags`.
pub fn parse_path(path: &str) -> Result<Vec<Segment>, String> {
    let mut out = Vec::new();
    let mut chars = path.chars().peekable();
    let mut cur = String::new();
    let flush = |cur: &mut String, out: &mut Vec<Segment>| {
        if !cur.is_empty() {
            out.push(Segment::Key(std::mem::take(cur)));
        }
    };
    while let Some(ch) = chars.next() {
        match ch {
            '.' => flush(&mut cur, &mut out),
            '"' => {
                let mut key = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some(c) => key.push(c),
                        None => return Err(format!("unterminated quote in path {path:?}")),
                    }
                }
                out.push(Segment::Key(key));
            }
            '[' => {
                flush(&mut cur, &mut out);
                let mut num = String::new();
                loop {
                    match chars.next() {
                        Some(']') => break,
                        Some(c) => num.push(c),
                        None => return Err(format!("unterminated `[` in path {path:?}")),
                    }
                }
                let i = num
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| format!("`[{num}]` in path {path:?} is not a list index"))?;
                out.push(Segment::Index(i));
            }
            c if c.is_whitespace() => {
                return Err(format!(
                    "path {path:?} contains white space (quote keys that have spaces)"
                ));
            }
            c => cur.push(c),
        }
    }
    flush(&mut cur, &mut out);
    if out.is_empty() {
        return Err("empty field path".into());
    }
    Ok(out)
}

/// Renders a path back to text.
pub fn path_to_string(path: &[Segment]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Segment::Key(k) if k.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-') => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Segment::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push('"');
                s.push_str(k);
                s.push('"');
            }
            Segment::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// Sets `path` in `tree` to `value`. Missing keys of structs (optional fields) are created;
/// an externally tagged enum is looked through when the key is not the variant's name.
pub fn set_path(tree: &mut Value, path: &[Segment], value: Value) -> Result<(), String> {
    let mut node = tree;
    for (i, seg) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        let here = path_to_string(&path[..i]);
        let here = if here.is_empty() {
            "the scenario".to_string()
        } else {
            format!("`{here}`")
        };
        node = look_through_variant(node, seg);
        match seg {
            Segment::Key(k) => {
                if node.is_null() {
                    *node = Value::Object(Map::new());
                }
                let Value::Object(m) = node else {
                    return Err(format!("{here} is not a struct or map, so it has no field `{k}`"));
                };
                if !m.contains_key(k) {
                    let keys: Vec<&str> = m.keys().map(String::as_str).collect();
                    let looks_like_struct = !m.is_empty()
                        && keys.iter().all(|k| {
                            k.chars()
                                .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())
                        });
                    if looks_like_struct && !last {
                        let hint = crate::diag::suggestion(k, keys.iter().copied());
                        return Err(format!("{here} has no field `{k}`{hint}"));
                    }
                    m.insert(k.clone(), Value::Null);
                }
                node = m.get_mut(k).ok_or_else(|| format!("{here} has no field `{k}`"))?;
            }
            Segment::Index(idx) => {
                let Value::Array(a) = node else {
                    return Err(format!("{here} is not a list, so it has no element [{idx}]"));
                };
                let len = a.len();
                node = a
                    .get_mut(*idx)
                    .ok_or_else(|| format!("{here} has {len} elements, no element [{idx}]"))?;
            }
        }
    }
    *node = value;
    Ok(())
}

fn look_through_variant<'a>(node: &'a mut Value, seg: &Segment) -> &'a mut Value {
    let is_variant = matches!(&*node, Value::Object(m) if m.len() == 1
        && m.keys().next().is_some_and(|k| k.starts_with(|c: char| c.is_ascii_uppercase()))
        && !matches!(seg, Segment::Key(s) if m.contains_key(s)));
    if !is_variant {
        return node;
    }
    match node {
        Value::Object(m) => m.values_mut().next().expect("checked: one entry"),
        other => other,
    }
}

/// Applies `path = value_ron` to a serializable value and deserializes the result, so the
/// override is type-checked like the original file.
pub fn apply<T: Serialize + DeserializeOwned>(value: &T, path: &str, value_ron: &str) -> Result<T, String> {
    let segs = parse_path(path)?;
    let mut tree = serde_json::to_value(value).map_err(|e| format!("internal error: {e}"))?;
    let before = tree.clone();
    let v = parse_value(value_ron)?;
    let none_variant = v.is_null() && value_ron.trim() == "None";
    set_path(&mut tree, &segs, v)?;
    let mut result = serde_path_to_error::deserialize::<_, T>(tree.clone());
    if result.is_err() && none_variant {
        // `None` is also the name of enum variants (`series: None`).
        set_path(&mut tree, &segs, Value::String("None".into()))?;
        result = serde_path_to_error::deserialize::<_, T>(tree);
    }
    let out = result.map_err(|e| {
        let p = e.path().to_string();
        format!(
            "{path} = {value_ron}: {}{}",
            if p == "." { String::new() } else { format!("{p}: ") },
            e.into_inner()
        )
    })?;
    // A key the type does not have is dropped by deserialization: say so instead of silently
    // ignoring the override.
    let after = serde_json::to_value(&out).map_err(|e| format!("internal error: {e}"))?;
    let mut probe = after.clone();
    if get_path(&mut probe, &segs).is_none() {
        let (parent, leaf) = segs.split_at(segs.len() - 1);
        let mut b = before;
        let keys: Vec<String> = get_path(&mut b, parent)
            .and_then(|n| match n {
                Value::Object(m) => Some(m.keys().cloned().collect()),
                _ => None,
            })
            .unwrap_or_default();
        let leaf = path_to_string(leaf);
        let hint = crate::diag::suggestion(&leaf, keys.iter().map(String::as_str));
        return Err(format!("{path}: there is no field `{leaf}` here{hint}"));
    }
    Ok(out)
}

/// The field names of the struct at `path` in `tree` (enum variants looked through), or
/// `None` when there is no struct there.
pub(crate) fn keys_at(tree: &Value, path: &[Segment]) -> Option<Vec<String>> {
    let mut probe = tree.clone();
    // An empty key is no variant's name, so a variant there is looked through.
    match look_through_variant(get_path(&mut probe, path)?, &Segment::Key(String::new())) {
        Value::Object(m) => Some(m.keys().cloned().collect()),
        _ => None,
    }
}

/// The node at `path`, looking through enum variants, or `None`.
fn get_path<'a>(tree: &'a mut Value, path: &[Segment]) -> Option<&'a mut Value> {
    let mut node = tree;
    for seg in path {
        node = look_through_variant(node, seg);
        node = match (seg, node) {
            (Segment::Key(k), Value::Object(m)) => m.get_mut(k)?,
            (Segment::Index(i), Value::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(node)
}

/// Parses a RON value into the generic tree, keeping enum variant names
/// (`Exp(mean: "3d")` becomes `{"Exp": {"mean": "3d"}}`, `BestFit` becomes `"BestFit"`).
pub fn parse_value(text: &str) -> Result<Value, String> {
    let mut p = ValueParser {
        s: text.as_bytes(),
        i: 0,
        text,
    };
    let v = p.value()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!("unexpected {:?} after the value in {text:?}", &text[p.i..]));
    }
    Ok(v)
}

struct ValueParser<'a> {
    s: &'a [u8],
    i: usize,
    text: &'a str,
}

impl ValueParser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && (self.s[self.i] as char).is_whitespace() {
            self.i += 1;
        }
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("in value {:?} at column {}: {what}", self.text, self.i + 1))
    }
    fn value(&mut self) -> Result<Value, String> {
        self.ws();
        match self.peek() {
            None => self.err("expected a value"),
            Some(b'"') => self.string().map(Value::String),
            Some(b'[') => {
                self.i += 1;
                let items = self.list(b']')?;
                Ok(Value::Array(items))
            }
            Some(b'{') => {
                self.i += 1;
                self.map(b'}')
            }
            Some(b'(') => {
                self.i += 1;
                self.parens()
            }
            Some(c) if c == b'-' || c == b'+' || c.is_ascii_digit() || c == b'.' => self.number(),
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                let id = self.ident();
                match id.as_str() {
                    "true" => return Ok(Value::Bool(true)),
                    "false" => return Ok(Value::Bool(false)),
                    "None" => return Ok(Value::Null),
                    "inf" | "NaN" => return self.err("non-finite numbers are not accepted"),
                    _ => {}
                }
                self.ws();
                if self.peek() == Some(b'(') {
                    self.i += 1;
                    let inner = match self.parens()? {
                        Value::Null if id != "Some" => Value::Object(Map::new()),
                        v => v,
                    };
                    if id == "Some" {
                        return Ok(inner);
                    }
                    let mut m = Map::new();
                    m.insert(id, inner);
                    Ok(Value::Object(m))
                } else {
                    Ok(Value::String(id))
                }
            }
            Some(c) => self.err(&format!("unexpected character {:?}", c as char)),
        }
    }
    fn ident(&mut self) -> String {
        let start = self.i;
        while self.i < self.s.len() && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_') {
            self.i += 1;
        }
        self.text[start..self.i].to_string()
    }
    fn string(&mut self) -> Result<String, String> {
        self.i += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return self.err("unterminated string"),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    match self.peek() {
                        Some(b'n') => out.push('\n'),
                        Some(b't') => out.push('\t'),
                        Some(c) => out.push(c as char),
                        None => return self.err("unterminated string"),
                    }
                    self.i += 1;
                }
                Some(_) => {
                    let rest = &self.text[self.i..];
                    let ch = rest.chars().next().unwrap_or('?');
                    out.push(ch);
                    self.i += ch.len_utf8();
                }
            }
        }
    }
    fn number(&mut self) -> Result<Value, String> {
        let start = self.i;
        while self.i < self.s.len() && matches!(self.s[self.i], b'0'..=b'9' | b'.' | b'-' | b'+' | b'e' | b'E' | b'_') {
            self.i += 1;
        }
        let t = self.text[start..self.i].replace('_', "");
        if let Ok(v) = t.parse::<i64>() {
            return Ok(Value::from(v));
        }
        if let Ok(v) = t.parse::<u64>() {
            return Ok(Value::from(v));
        }
        match t.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Value::from(v)),
            _ => self.err(&format!("{t:?} is not a number")),
        }
    }
    fn list(&mut self, close: u8) -> Result<Vec<Value>, String> {
        let mut items = Vec::new();
        loop {
            self.ws();
            if self.peek() == Some(close) {
                self.i += 1;
                return Ok(items);
            }
            items.push(self.value()?);
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(c) if c == close => {}
                _ => return self.err(&format!("expected `,` or `{}`", close as char)),
            }
        }
    }
    fn map(&mut self, close: u8) -> Result<Value, String> {
        let mut m = Map::new();
        loop {
            self.ws();
            if self.peek() == Some(close) {
                self.i += 1;
                return Ok(Value::Object(m));
            }
            let key = match self.value()? {
                Value::String(s) => s,
                other => other.to_string(),
            };
            self.ws();
            if self.peek() != Some(b':') {
                return self.err("expected `:` after a map key");
            }
            self.i += 1;
            let v = self.value()?;
            m.insert(key, v);
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(c) if c == close => {}
                _ => return self.err(&format!("expected `,` or `{}`", close as char)),
            }
        }
    }
    /// `( ... )` after an identifier or alone: named fields → object; one value → that value;
    /// several values → array; nothing → null.
    fn parens(&mut self) -> Result<Value, String> {
        self.ws();
        let save = self.i;
        // named fields?
        if self.peek().is_some_and(|c| c.is_ascii_alphabetic() || c == b'_') {
            let id = self.ident();
            self.ws();
            if self.peek() == Some(b':') {
                self.i = save;
                let mut m = Map::new();
                loop {
                    self.ws();
                    if self.peek() == Some(b')') {
                        self.i += 1;
                        return Ok(Value::Object(m));
                    }
                    let k = self.ident();
                    if k.is_empty() {
                        return self.err("expected a field name");
                    }
                    self.ws();
                    if self.peek() != Some(b':') {
                        return self.err("expected `:` after a field name");
                    }
                    self.i += 1;
                    let v = self.value()?;
                    m.insert(k, v);
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b')') => {}
                        _ => return self.err("expected `,` or `)`"),
                    }
                }
            }
            let _ = id;
            self.i = save;
        }
        let items = self.list(b')')?;
        Ok(match items.len() {
            0 => Value::Null,
            1 => items.into_iter().next().unwrap_or(Value::Null),
            _ => Value::Array(items),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_ron_values_keeping_variants() {
        assert_eq!(parse_value("42").unwrap(), json!(42));
        assert_eq!(parse_value("-0.5").unwrap(), json!(-0.5));
        assert_eq!(parse_value("\"5m\"").unwrap(), json!("5m"));
        assert_eq!(parse_value("BestFit").unwrap(), json!("BestFit"));
        assert_eq!(
            parse_value("Exp(mean: \"3d\")").unwrap(),
            json!({"Exp": {"mean": "3d"}})
        );
        assert_eq!(parse_value("Fixed(2.0)").unwrap(), json!({"Fixed": 2.0}));
        assert_eq!(parse_value("Some(3)").unwrap(), json!(3));
        assert_eq!(parse_value("[1, 2, 3]").unwrap(), json!([1, 2, 3]));
        assert_eq!(
            parse_value("(cpu_cores: 2.0, mem_gib: 8)").unwrap(),
            json!({"cpu_cores": 2.0, "mem_gib": 8})
        );
        assert_eq!(parse_value("{\"a b\": 1}").unwrap(), json!({"a b": 1}));
        assert!(parse_value("NaN").is_err());
        assert!(parse_value("[1, 2").is_err());
        assert!(parse_value("1 2").is_err());
    }

    #[test]
    fn paths_parse_and_render() {
        let p = parse_path("archetypes.\"web server\".tags[1]").unwrap();
        assert_eq!(
            p,
            vec![
                Segment::Key("archetypes".into()),
                Segment::Key("web server".into()),
                Segment::Key("tags".into()),
                Segment::Index(1)
            ]
        );
        assert_eq!(path_to_string(&p), "archetypes.\"web server\".tags[1]");
        assert!(parse_path("a.[x]").is_err());
        assert!(parse_path("").is_err());
    }

    #[test]
    fn set_looks_through_enum_variants() {
        let mut t = json!({"policies": [{"Threshold": {"up": 0.8}}]});
        set_path(&mut t, &parse_path("policies[0].up").unwrap(), json!(0.9)).unwrap();
        assert_eq!(t, json!({"policies": [{"Threshold": {"up": 0.9}}]}));
        let e = set_path(&mut t, &parse_path("policies[3].up").unwrap(), json!(1)).unwrap_err();
        assert!(e.contains("has 1 elements"), "{e}");
    }
}
