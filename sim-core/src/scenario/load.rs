//! Reading RON input files into typed structures, with every problem reported as a
//! [`Diagnostic`].
//!
//! - Syntax and type errors come with `line:col` and the field path being read.
//! - Unknown fields are warnings with a did-you-mean, not errors: a file written for a newer
//!   version still loads.
//! - Files are read as UTF-8; binary or truncated input gets an error, never a panic.

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::diag::{Diagnostic, Diagnostics, suggestion};
use crate::scenario::overrides::{Segment, keys_at, path_to_string};

/// RON options used for every input file: `Some(..)` may be omitted around optional values,
/// and newtype variants may be written without double parentheses (`Static(headroom: 2.0)`).
pub fn ron_options() -> ron::Options {
    ron::Options::default().with_default_extension(
        ron::extensions::Extensions::IMPLICIT_SOME | ron::extensions::Extensions::UNWRAP_VARIANT_NEWTYPES,
    )
}

/// Largest input file accepted (scenario and experiment files are small; anything larger is
/// almost certainly the wrong file).
pub const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

/// Reads a file as UTF-8 text, with a clear error for missing, unreadable, huge or binary files.
pub fn read_text(path: &Path) -> Result<String, Diagnostic> {
    let name = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| Diagnostic::in_file(&name, format!("cannot read file: {e}")))?;
    if meta.is_dir() {
        return Err(Diagnostic::in_file(&name, "is a directory, expected a RON file"));
    }
    if meta.len() > MAX_INPUT_BYTES {
        return Err(Diagnostic::in_file(
            &name,
            format!(
                "file is {} bytes; input files are limited to {MAX_INPUT_BYTES} bytes",
                meta.len()
            ),
        ));
    }
    // Read at most one byte past the limit: a device or pipe (`/dev/zero`, a FIFO) reports
    // length 0 in its metadata and could otherwise be read forever.
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| std::io::Read::read_to_end(&mut std::io::Read::take(f, MAX_INPUT_BYTES + 1), &mut bytes))
        .map_err(|e| Diagnostic::in_file(&name, format!("cannot read file: {e}")))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(Diagnostic::in_file(
            &name,
            format!("input is longer than {MAX_INPUT_BYTES} bytes (the limit for input files)"),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let prefix = &e.as_bytes()[..at];
        let line = prefix.iter().filter(|&&b| b == b'\n').count() + 1;
        let col = prefix.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
        Diagnostic::at_position(&name, line, col, "file is not UTF-8 text (binary file?)")
    })
}

/// The name of the struct a RON text holds at its top level (`Scenario`, `Experiment`), after
/// leading whitespace, comments and `#![enable(...)]` attributes; `None` for a text that does
/// not start with a named struct.
pub fn top_level_name(text: &str) -> Option<&str> {
    let (at, _) = identifiers(text).find(|&(_, depth)| depth == 0)?;
    let name = &text[at];
    name.starts_with(|c: char| c.is_ascii_alphabetic()).then_some(name)
}

/// The byte just after `field:` among the fields of a RON text's top-level struct (depth 1 of
/// its brackets); `None` if there is no such field.
pub(crate) fn field_value_start(text: &str, field: &str) -> Option<usize> {
    identifiers(text).find_map(|(at, depth)| {
        let value = text[at.end..].trim_start().strip_prefix(':')?;
        (depth == 1 && &text[at] == field).then(|| text.len() - value.len())
    })
}

/// The identifiers (and bare numbers) of a RON text in order, each with its byte range and the
/// depth of brackets around it, past strings, raw strings, characters and nested comments.
/// Slices are cut at ASCII bytes only, so any text, even unterminated, is scanned without a
/// panic.
fn identifiers(text: &str) -> impl Iterator<Item = (std::ops::Range<usize>, usize)> + '_ {
    let b = text.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    // The position after a string or character literal opening at `j` with quote `q`.
    let past_quoted = move |mut j: usize, q: u8| {
        j += 1;
        while j < b.len() && b[j] != q {
            j += if b[j] == b'\\' { 2 } else { 1 };
        }
        j + 1
    };
    let (mut i, mut depth) = (0usize, 0usize);
    std::iter::from_fn(move || {
        while i < b.len() {
            match b[i] {
                b'/' if b.get(i + 1) == Some(&b'/') => {
                    i = text[i..].find('\n').map_or(b.len(), |n| i + n + 1);
                }
                b'/' if b.get(i + 1) == Some(&b'*') => {
                    // Block comments nest in RON.
                    let mut level = 0usize;
                    while i < b.len() {
                        if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                            level += 1;
                            i += 2;
                        } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                            level -= 1;
                            i += 2;
                            if level == 0 {
                                break;
                            }
                        } else {
                            i += 1;
                        }
                    }
                }
                b'r' if matches!(b.get(i + 1), Some(b'"' | b'#')) && (i == 0 || !ident(b[i - 1])) => {
                    // Raw string r"…" or r#"…"#: ends at a quote followed by as many hashes.
                    let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
                    let open = i + 1 + hashes;
                    if b.get(open) != Some(&b'"') {
                        i += 1;
                        continue;
                    }
                    let close: String = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
                    i = text[open + 1..]
                        .find(&close)
                        .map_or(b.len(), |n| open + 1 + n + close.len());
                }
                b'"' => i = past_quoted(i, b'"'),
                b'\'' => i = past_quoted(i, b'\''),
                b'(' | b'[' | b'{' => {
                    depth += 1;
                    i += 1;
                }
                b')' | b']' | b'}' => {
                    depth = depth.saturating_sub(1);
                    i += 1;
                }
                c if ident(c) => {
                    let start = i;
                    while i < b.len() && ident(b[i]) {
                        i += 1;
                    }
                    return Some((start..i, depth));
                }
                _ => i += 1,
            }
        }
        None
    })
}

/// Parses `text` (from `file`) as a `T`. Unknown fields become warnings (returned with the
/// value); syntax and type errors are returned as diagnostics with position and field path.
/// Field paths are written as overrides take them (`policies[0].family.adapt.prior_samples`:
/// list indices in brackets, enum variants looked through). A did-you-mean for an unknown
/// field names a field of the struct it was found in; `example` is a fully populated value
/// whose field names are the candidates when that struct cannot be found.
pub fn parse_ron<T: DeserializeOwned + Serialize, E: Serialize>(
    file: &str,
    text: &str,
    example: &E,
) -> Result<(T, Vec<Diagnostic>), Diagnostics> {
    if text.contains('\0') {
        let at = text.find('\0').unwrap_or(0);
        let (line, col) = line_col(text, at);
        return Err(Diagnostics(vec![Diagnostic::at_position(
            file,
            line,
            col,
            "file contains NUL bytes (binary file?)",
        )]));
    }
    let mut de = ron::Deserializer::from_str_with_options(text, &ron_options())
        .map_err(|e| Diagnostics(vec![spanned(file, &e)]))?;
    let mut unknown: Vec<Vec<Segment>> = Vec::new();
    let result = {
        let mut record = |path: serde_ignored::Path<'_>| unknown.push(ignored_segments(&path));
        let ignoring = serde_ignored::Deserializer::new(&mut de, &mut record);
        serde_path_to_error::deserialize::<_, T>(ignoring)
    };
    let value = match result {
        Ok(v) => v,
        Err(e) => {
            let path = error_path(e.path());
            let inner = e.into_inner();
            let err = de.span_error(inner);
            let mut d = spanned(file, &err);
            if !path.is_empty() {
                d.path = Some(path);
            }
            d.message
                .push_str(some_struct_hint(text, err.span.start.line, err.span.start.col));
            return Err(Diagnostics(vec![d]));
        }
    };
    if let Err(e) = de.end() {
        return Err(Diagnostics(vec![spanned(file, &de.span_error(e))]));
    }
    let parsed = serde_json::to_value(&value).unwrap_or(serde_json::Value::Null);
    let tree = serde_json::to_value(example).unwrap_or(serde_json::Value::Null);
    let warnings = unknown
        .into_iter()
        .map(|path| {
            let message = match path.split_last() {
                Some((Segment::Key(leaf), parent)) => {
                    let candidates = keys_at(&parsed, parent).unwrap_or_else(|| global_keys(&tree));
                    let hint = suggestion(leaf, candidates.iter().map(String::as_str));
                    format!("unknown field `{leaf}` is ignored{hint}")
                }
                _ => "this value is not used and is ignored".to_string(),
            };
            Diagnostic::at_path(file, path_to_string(&path), message).warning()
        })
        .collect();
    Ok((value, warnings))
}

/// The field path of an ignored field, without `Some`, newtype and variant wrappers.
fn ignored_segments(path: &serde_ignored::Path<'_>) -> Vec<Segment> {
    use serde_ignored::Path as P;
    match path {
        P::Root => Vec::new(),
        P::Seq { parent, index } => {
            let mut v = ignored_segments(parent);
            v.push(Segment::Index(*index));
            v
        }
        P::Map { parent, key } => {
            let mut v = ignored_segments(parent);
            v.push(Segment::Key(key.clone()));
            v
        }
        P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => ignored_segments(parent),
    }
}

/// The field path of a deserialization error, enum variants left out (as overrides and
/// validation messages write it); "" at the top level.
fn error_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment as S;
    let segs: Vec<Segment> = path
        .iter()
        .filter_map(|s| match s {
            S::Seq { index } => Some(Segment::Index(*index)),
            S::Map { key } => Some(Segment::Key(key.clone())),
            S::Enum { .. } | S::Unknown => None,
        })
        .collect();
    path_to_string(&segs)
}

/// Reads and parses a file; see [`parse_ron`].
pub fn load_ron<T: DeserializeOwned + Serialize, E: Serialize>(
    path: &Path,
    example: &E,
) -> Result<(T, Vec<Diagnostic>), Diagnostics> {
    let text = read_text(path).map_err(|d| Diagnostics(vec![d]))?;
    parse_ron(&path.display().to_string(), &text, example)
}

fn spanned(file: &str, e: &ron::error::SpannedError) -> Diagnostic {
    let msg = e.code.to_string();
    let msg = if msg.is_empty() {
        "syntax error".to_string()
    } else {
        msg
    };
    Diagnostic::at_position(file, e.span.start.line, e.span.start.col, msg)
}

/// A hint to append to a RON error at the 1-based `line`:`col` of `text` when the text up to it
/// ends in `Some((`, whitespace aside (else ""). With implicit `Some` (see [`ron_options`]) RON
/// reads `Some(` before a struct as a struct name and then fails on the struct's own `(`, with
/// a message that does not say why.
pub(crate) fn some_struct_hint(text: &str, line: usize, col: usize) -> &'static str {
    let upto: String = text
        .lines()
        .nth(line.saturating_sub(1))
        .unwrap_or("")
        .chars()
        .take(col)
        .filter(|c| !c.is_whitespace())
        .collect();
    if upto.ends_with("Some((") {
        " (an optional struct is written without `Some`: `field: (a: 1)`, not `field: Some((a: 1))`)"
    } else {
        ""
    }
}

/// The 1-based (line, column) of byte offset `byte` in `text`, columns counted in characters.
pub(crate) fn line_col(text: &str, byte: usize) -> (usize, usize) {
    let prefix = &text[..byte.min(text.len())];
    let line = prefix.matches('\n').count() + 1;
    let col = prefix.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

fn global_keys(tree: &serde_json::Value) -> Vec<String> {
    fn walk(v: &serde_json::Value, out: &mut std::collections::BTreeSet<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    out.insert(k.clone());
                    walk(v, out);
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = std::collections::BTreeSet::new();
    walk(tree, &mut out);
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_level_name_skips_comments_and_attributes() {
        assert_eq!(top_level_name("Scenario(name: \"x\")"), Some("Scenario"));
        let text = "// Question: ...\n/* block\n comment */\n#![enable(implicit_some)]\n  Experiment(\n";
        assert_eq!(top_level_name(text), Some("Experiment"));
        assert_eq!(top_level_name("(name: \"x\")"), None);
        assert_eq!(top_level_name("// only a comment"), None);
        assert_eq!(top_level_name(""), None);
        assert_eq!(
            top_level_name("/* a /* nested */ comment */ Experiment("),
            Some("Experiment")
        );
    }

    /// The top-level field is found past strings, raw strings, characters and (nested)
    /// comments that mention it, and past a nested struct's field of the same name.
    #[test]
    fn finds_the_top_level_field_only() {
        let text = r##"Experiment(
    name: "policies: [x]", note: r#"policies: "y""#, c: '(',
    /* policies: [ /* nested */ ] */ // policies: [
    scenario: Scenario(policies: [Static()]),
    policies  : ["static"],
)"##;
        let at = field_value_start(text, "policies").unwrap();
        assert!(text[at..].starts_with(r#" ["static"]"#), "{}", &text[at..]);
        assert_eq!(field_value_start(text, "grid"), None);
        assert_eq!(field_value_start("Experiment(policy: [])", "policies"), None);
        // Unterminated input ends the scan without a panic.
        assert_eq!(field_value_start("Experiment(name: \"é", "policies"), None);
        assert_eq!(field_value_start("Experiment(/* é", "policies"), None);
        assert_eq!(field_value_start("Experiment(r#\"é", "policies"), None);
    }
}
