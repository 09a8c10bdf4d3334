//! The report for people: one line a case as it finishes, the details of
//! every failure indented under it (expected and actual one above the
//! other), and a closing count.

use std::io::{self, Write};

use super::{CaseReport, Report, Status, fails_the_run};
use crate::case::Level;

/// Writes the line (and details) of one finished case.
pub fn case(out: &mut dyn Write, report: &CaseReport, strict: bool) -> io::Result<()> {
    let label = match report.status {
        Status::Passed => "pass ",
        Status::Failed if fails_the_run(report, strict) => "FAIL ",
        Status::Failed => "warn ",
        Status::Skipped => "skip ",
        Status::ExpectedFailure => "xfail",
        Status::UnexpectedPass => "XPASS",
    };
    let level = match report.level {
        Level::Must => "MUST  ",
        Level::Should => "SHOULD",
    };
    writeln!(
        out,
        "{label} {level} {:<52} {:>6} ms",
        report.id, report.duration_ms
    )?;
    match report.status {
        Status::Passed => {}
        Status::Skipped => {
            writeln!(
                out,
                "        skipped: {}",
                report.skip_reason.as_deref().unwrap_or("")
            )?;
        }
        Status::UnexpectedPass => {
            writeln!(
                out,
                "        listed as an expected failure ({}), but it passed: remove it from the list",
                report.expected_failure_note.as_deref().unwrap_or("no note")
            )?;
        }
        Status::Failed | Status::ExpectedFailure => details(out, report)?,
    }
    Ok(())
}

fn details(out: &mut dyn Write, report: &CaseReport) -> io::Result<()> {
    writeln!(out, "        spec:     {}", report.spec)?;
    writeln!(out, "        requires: {}", report.expectation)?;
    if let Some(note) = &report.expected_failure_note {
        writeln!(out, "        known:    {note}")?;
    }
    if let Some(failure) = &report.failure {
        writeln!(out, "        while:    {}", failure.context)?;
        writeln!(out, "        expected: {}", failure.expected)?;
        writeln!(out, "        actual:   {}", failure.actual)?;
    }
    for violation in &report.violations {
        writeln!(out, "        document: {}", violation.subject)?;
        for problem in violation.problems.iter().take(5) {
            writeln!(out, "                  {problem}")?;
        }
    }
    Ok(())
}

/// The closing lines: expected failures, the verdict, the counts.
pub fn summary(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    let counts = report.counts;
    writeln!(out)?;
    if counts.expected_failures > 0 {
        writeln!(
            out,
            "{} expected failure(s), listed in the expected-failures file",
            counts.expected_failures
        )?;
    }
    let fatal = report
        .cases
        .iter()
        .filter(|case| fails_the_run(case, report.strict))
        .count();
    let seconds = report.duration_ms as f64 / 1000.0;
    if report.conforms {
        writeln!(
            out,
            "{} conforms to spec/v1 ({}) in {seconds:.1} s",
            report.base_url,
            if report.strict {
                "every MUST and SHOULD case passed, --strict"
            } else {
                "every MUST case passed"
            }
        )?;
    } else {
        writeln!(
            out,
            "{} does not conform to spec/v1: {fatal} case(s) failed the run, in {seconds:.1} s",
            report.base_url
        )?;
    }
    writeln!(
        out,
        "{} passed, {} failed, {} skipped",
        counts.passed, counts.failed, counts.skipped
    )
}
