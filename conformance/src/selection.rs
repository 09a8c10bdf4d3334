//! Which cases run (`--cases`, `--exclude`) and which are known to fail
//! (`--expected-failures`).
//!
//! Patterns are globs over case ids: `*` matches any run of characters
//! (dots included), `?` exactly one. An expected-failures file lists one
//! case id a line, `#` starting a comment; a listed id that names no case
//! is an error, so a typo cannot hide a failure.

use std::collections::BTreeMap;

use crate::case::Case;

/// Whether `id` matches `pattern`.
pub fn glob_matches(pattern: &str, id: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let id: Vec<char> = id.chars().collect();
    // Classic wildcard matching with one backtrack point for the last `*`.
    let (mut p, mut i) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while i < id.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == id[i]) {
            p += 1;
            i += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, i));
            p += 1;
        } else if let Some((star_p, star_i)) = star {
            p = star_p + 1;
            i = star_i + 1;
            star = Some((star_p, star_i + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

/// The cases to run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

impl Selection {
    pub fn selects(&self, id: &str) -> bool {
        let included =
            self.include.is_empty() || self.include.iter().any(|pattern| glob_matches(pattern, id));
        included && !self.exclude.iter().any(|pattern| glob_matches(pattern, id))
    }

    /// The selected cases, in their order; a pattern that selects nothing
    /// is an error (it is a typo more often than not).
    pub fn apply(&self, cases: Vec<Case>) -> Result<Vec<Case>, String> {
        for pattern in &self.include {
            if !cases.iter().any(|case| glob_matches(pattern, &case.id)) {
                return Err(format!("--cases {pattern:?} matches no case"));
            }
        }
        Ok(cases
            .into_iter()
            .filter(|case| self.selects(&case.id))
            .collect())
    }
}

/// Cases known to fail against the server under test, each with its note.
#[derive(Debug, Clone, Default)]
pub struct ExpectedFailures(BTreeMap<String, String>);

impl ExpectedFailures {
    /// Reads the file's text, checking every id against `known`.
    pub fn parse(text: &str, known: &[Case]) -> Result<ExpectedFailures, String> {
        let mut entries = BTreeMap::new();
        for (number, line) in text.lines().enumerate() {
            let (id, note) = match line.split_once('#') {
                Some((id, note)) => (id.trim(), note.trim()),
                None => (line.trim(), ""),
            };
            if id.is_empty() {
                continue;
            }
            if !known.iter().any(|case| case.id == id) {
                return Err(format!(
                    "line {}: {id:?} is not a case id (see --list)",
                    number + 1
                ));
            }
            entries.insert(id.to_owned(), note.to_owned());
        }
        Ok(ExpectedFailures(entries))
    }

    pub fn note(&self, id: &str) -> Option<&str> {
        self.0.get(id).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::Case;

    fn case(id: &str) -> Case {
        Case::must(id, "errors", "a test case", |_| async { Ok(()) })
    }

    #[test]
    fn globs_match_ids() {
        assert!(glob_matches("auth.*", "auth.jwt.alg-none.rest"));
        assert!(glob_matches("*.rest", "auth.jwt.alg-none.rest"));
        assert!(glob_matches(
            "auth.jwt.alg-none.ws-*",
            "auth.jwt.alg-none.ws-query"
        ));
        assert!(glob_matches("ws.?eq.*", "ws.seq.no-gaps"));
        assert!(glob_matches("*", "anything"));
        assert!(!glob_matches("auth.*", "ws.seq.no-gaps"));
        assert!(!glob_matches("ws.seq", "ws.seq.no-gaps"));
        assert!(glob_matches("a*b*c", "a-x-b-y-c"));
        assert!(!glob_matches("a*b*c", "a-x-b-y-d"));
    }

    #[test]
    fn exclusions_win_and_empty_includes_select_all() {
        let selection = Selection {
            include: vec![],
            exclude: vec!["rate.*".into()],
        };
        assert!(selection.selects("ws.seq.no-gaps"));
        assert!(!selection.selects("rate.chat-start"));
        let none = Selection {
            include: vec!["nothing.*".into()],
            exclude: vec![],
        };
        assert!(none.apply(vec![case("ws.a")]).is_err());
    }

    #[test]
    fn expected_failures_name_real_cases() {
        let known = [case("ws.a"), case("ws.b")];
        let parsed = ExpectedFailures::parse("# comment\nws.a  # server bug\n\n", &known).unwrap();
        assert_eq!(parsed.note("ws.a"), Some("server bug"));
        assert_eq!(parsed.note("ws.b"), None);
        let typo = ExpectedFailures::parse("ws.c\n", &known).unwrap_err();
        assert!(typo.contains("\"ws.c\""), "{typo}");
    }
}
