//! The outcome of a run, and its forms: one line a case for people
//! ([`console`]), JUnit XML for CI ([`junit`]), JSON with every transcript
//! for whoever has to find out why ([`json`]).

pub mod console;
pub mod json;
pub mod junit;

use serde::Serialize;

use crate::case::{Case, Failure, Level};
use crate::wire::transcript::{Transcript, Violation};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Passed,
    Failed,
    Skipped,
    /// Failed, and listed in the expected-failures file.
    ExpectedFailure,
    /// Listed in the expected-failures file, yet passed: the list is stale.
    UnexpectedPass,
}

/// One case's result.
#[derive(Debug, Clone, Serialize)]
pub struct CaseReport {
    pub id: String,
    pub level: Level,
    pub spec: String,
    pub expectation: String,
    pub status: Status,
    pub duration_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    /// What the case found wrong: what was expected and what came back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// Responses and frames that broke the spec documents.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<Violation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_failure_note: Option<String>,
    pub transcript: Transcript,
}

impl CaseReport {
    pub fn skipped(case: &Case, reason: String) -> CaseReport {
        CaseReport {
            id: case.id.clone(),
            level: case.level,
            spec: case.reference(),
            expectation: case.expectation.clone(),
            status: Status::Skipped,
            duration_ms: 0,
            skip_reason: Some(reason),
            failure: None,
            violations: Vec::new(),
            expected_failure_note: None,
            transcript: Transcript::default(),
        }
    }

    /// The area of the case (`auth.jwt`), for grouping.
    pub fn area(&self) -> &str {
        match self.id.match_indices('.').nth(1) {
            Some((end, _)) => &self.id[..end],
            None => &self.id,
        }
    }
}

/// Counts of a run, as the closing line prints them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub passed: usize,
    /// Failures of every level, unexpected passes included.
    pub failed: usize,
    pub skipped: usize,
    pub expected_failures: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub base_url: String,
    pub strict: bool,
    /// Seed of the property cases: the same seed replays the same inputs.
    pub property_seed: u64,
    pub duration_ms: u64,
    pub counts: Counts,
    /// Whether the server conforms: the exit code's verdict.
    pub conforms: bool,
    pub cases: Vec<CaseReport>,
}

impl Report {
    pub fn new(
        base_url: String,
        strict: bool,
        property_seed: u64,
        duration_ms: u64,
        cases: Vec<CaseReport>,
    ) -> Report {
        let mut counts = Counts::default();
        for case in &cases {
            match case.status {
                Status::Passed => counts.passed += 1,
                Status::Failed | Status::UnexpectedPass => counts.failed += 1,
                Status::Skipped => counts.skipped += 1,
                Status::ExpectedFailure => counts.expected_failures += 1,
            }
        }
        let conforms = !cases.iter().any(|case| fails_the_run(case, strict));
        Report {
            base_url,
            strict,
            property_seed,
            duration_ms,
            counts,
            conforms,
            cases,
        }
    }
}

/// A MUST failure fails the run; a SHOULD failure only with `--strict`; a
/// stale expected failure always, so the list is kept honest.
pub fn fails_the_run(case: &CaseReport, strict: bool) -> bool {
    match case.status {
        Status::Failed => case.level == Level::Must || strict,
        Status::UnexpectedPass => true,
        Status::Passed | Status::Skipped | Status::ExpectedFailure => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::transcript::Transcript;

    fn report(level: Level, status: Status) -> CaseReport {
        CaseReport {
            id: "a.b".into(),
            level,
            spec: String::new(),
            expectation: String::new(),
            status,
            duration_ms: 0,
            skip_reason: None,
            failure: None,
            violations: Vec::new(),
            expected_failure_note: None,
            transcript: Transcript::default(),
        }
    }

    #[test]
    fn should_failures_fail_the_run_only_when_strict() {
        let should = report(Level::Should, Status::Failed);
        assert!(!fails_the_run(&should, false));
        assert!(fails_the_run(&should, true));
        assert!(fails_the_run(&report(Level::Must, Status::Failed), false));
        assert!(fails_the_run(
            &report(Level::Must, Status::UnexpectedPass),
            false
        ));
        assert!(!fails_the_run(
            &report(Level::Must, Status::ExpectedFailure),
            true
        ));
        assert!(!fails_the_run(&report(Level::Must, Status::Skipped), true));
    }

    #[test]
    fn counts_put_stale_expected_failures_with_the_failures() {
        let cases = vec![
            report(Level::Must, Status::Passed),
            report(Level::Should, Status::Failed),
            report(Level::Must, Status::UnexpectedPass),
            report(Level::Must, Status::Skipped),
            report(Level::Must, Status::ExpectedFailure),
        ];
        let lenient = Report::new(String::new(), false, 0, 0, cases.clone());
        assert_eq!(
            lenient.counts,
            Counts {
                passed: 1,
                failed: 2,
                skipped: 1,
                expected_failures: 1
            }
        );
        assert!(
            !lenient.conforms,
            "the stale expected failure fails the run"
        );
        let cases = vec![report(Level::Should, Status::Failed)];
        assert!(Report::new(String::new(), false, 0, 0, cases.clone()).conforms);
        assert!(!Report::new(String::new(), true, 0, 0, cases).conforms);
    }
}
