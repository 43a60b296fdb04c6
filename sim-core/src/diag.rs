//! Diagnostics: every problem found in an input file, with where it is and what was expected.
//!
//! Syntax problems render as `file:line:col: message`; problems of meaning as
//! `file: field.path: message`. Loaders and validators collect every problem they can before
//! giving up, so a user fixes a file in one pass.

use std::fmt;

/// How bad a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Information about how the input is used (the metrics a replayed trace lacks, say).
    Note,
    /// The input is used, but something looks wrong (an unknown field, say).
    Warning,
    /// The input cannot be used.
    Error,
}

/// One problem in an input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The file (as the user named it), or `<input>`.
    pub file: String,
    /// 1-based line and column, for syntax problems.
    pub position: Option<(usize, usize)>,
    /// Dotted field path (`archetypes.web.load.noise.sigma`), for problems of meaning.
    pub path: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
}

impl Diagnostic {
    /// An error at a field path.
    pub fn at_path(file: &str, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: file.to_string(),
            position: None,
            path: Some(path.into()),
            message: message.into(),
        }
    }
    /// An error at a position in the text.
    pub fn at_position(file: &str, line: usize, col: usize, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: file.to_string(),
            position: Some((line, col)),
            path: None,
            message: message.into(),
        }
    }
    /// An error about the file as a whole.
    pub fn in_file(file: &str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: file.to_string(),
            position: None,
            path: None,
            message: message.into(),
        }
    }
    /// The same problem as a warning.
    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }
    /// The same as a note (information, nothing wrong).
    pub fn note(mut self) -> Self {
        self.severity = Severity::Note;
        self
    }
    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((line, col)) = self.position {
            write!(f, ":{line}:{col}")?;
        }
        write!(f, ": ")?;
        match self.severity {
            Severity::Note => write!(f, "note: ")?,
            Severity::Warning => write!(f, "warning: ")?,
            Severity::Error => {}
        }
        if let Some(path) = self.path.as_deref().filter(|p| !p.is_empty()) {
            write!(f, "{path}: ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// A list of problems that made an input unusable (and any warnings beside them).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Only the errors.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| d.is_error())
    }
    /// Whether any problem is an error.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// The closest candidate to `word` (edit distance, then Jaro-Winkler similarity), if it is
/// close enough to be a plausible typo.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let allowed = 1 + word.chars().count() / 4;
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (strsim::damerau_levenshtein(word, c), strsim::jaro_winkler(word, c), c))
        .filter(|(dist, jw, _)| *dist <= allowed || *jw >= 0.85)
        .min_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)).then_with(|| a.2.cmp(b.2)))
        .map(|(_, _, c)| c)
}

/// `" (did you mean `x`?)"` or nothing.
pub fn suggestion<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    did_you_mean(word, candidates)
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_both_forms() {
        let d = Diagnostic::at_position("a.ron", 3, 7, "expected `)`");
        assert_eq!(d.to_string(), "a.ron:3:7: expected `)`");
        let d = Diagnostic::at_path("a.ron", "cluster.nodes[0].count", "must be at least 1");
        assert_eq!(d.to_string(), "a.ron: cluster.nodes[0].count: must be at least 1");
        assert_eq!(
            d.warning().to_string(),
            "a.ron: warning: cluster.nodes[0].count: must be at least 1"
        );
        let d = Diagnostic::at_path("a.ron", "traces[0]", "absent metrics: mem").note();
        assert_eq!(d.to_string(), "a.ron: note: traces[0]: absent metrics: mem");
        assert!(!d.is_error());
    }

    #[test]
    fn suggests_close_names() {
        assert_eq!(did_you_mean("duraton", ["duration", "step", "seed"]), Some("duration"));
        assert_eq!(did_you_mean("xyz", ["duration", "step"]), None);
    }
}
