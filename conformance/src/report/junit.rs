//! JUnit XML, for CI dashboards: one `testsuite` per area (`auth.jwt`,
//! `ws.resume`, ...), one `testcase` per case.
//!
//! The XML agrees with the exit code: a failure that fails the run is a
//! `<failure>`; a SHOULD failure without `--strict` and an expected
//! failure are `<skipped>` with a message saying so, so a dashboard is
//! red exactly when the run is.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{CaseReport, Report, Status, fails_the_run};

pub fn render(report: &Report) -> String {
    let mut suites: BTreeMap<&str, Vec<&CaseReport>> = BTreeMap::new();
    for case in &report.cases {
        suites.entry(case.area()).or_default().push(case);
    }
    let failures = |cases: &[&CaseReport]| {
        cases
            .iter()
            .filter(|case| fails_the_run(case, report.strict))
            .count()
    };
    let skipped = |cases: &[&CaseReport]| {
        cases
            .iter()
            .filter(|case| !fails_the_run(case, report.strict) && case.status != Status::Passed)
            .count()
    };
    let all: Vec<&CaseReport> = report.cases.iter().collect();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"byrd-conformance\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{}\">",
        all.len(),
        failures(&all),
        skipped(&all),
        seconds(report.duration_ms)
    );
    for (area, cases) in &suites {
        let time: u64 = cases.iter().map(|case| case.duration_ms).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{}\">",
            escape(area),
            cases.len(),
            failures(cases),
            skipped(cases),
            seconds(time)
        );
        for case in cases {
            testcase(&mut out, case, report.strict);
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn testcase(out: &mut String, case: &CaseReport, strict: bool) {
    let _ = write!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\" time=\"{}\"",
        escape(case.area()),
        escape(&case.id),
        seconds(case.duration_ms)
    );
    let details = details(case);
    let body = match case.status {
        Status::Passed => None,
        Status::Skipped => Some(format!(
            "<skipped message=\"{}\"/>",
            escape(case.skip_reason.as_deref().unwrap_or("skipped"))
        )),
        Status::UnexpectedPass => Some(format!(
            "<failure message=\"{}\" type=\"unexpected-pass\"/>",
            escape("listed as an expected failure, but it passed: remove it from the list")
        )),
        Status::ExpectedFailure => Some(format!(
            "<skipped message=\"{}\"/>",
            escape(&format!(
                "expected failure: {}",
                case.expected_failure_note.as_deref().unwrap_or("listed")
            ))
        )),
        Status::Failed if fails_the_run(case, strict) => Some(format!(
            "<failure message=\"{}\" type=\"{}\">{}</failure>",
            escape(&case.expectation),
            case.level,
            escape(&details)
        )),
        Status::Failed => Some(format!(
            "<skipped message=\"{}\"/>",
            escape(&format!(
                "SHOULD case failed (fatal only with --strict): {}",
                details.replace('\n', "; ")
            ))
        )),
    };
    match body {
        None => out.push_str("/>\n"),
        Some(body) => {
            let _ = writeln!(out, ">\n      {body}");
            if !details.is_empty() {
                let _ = writeln!(out, "      <system-out>{}</system-out>", escape(&details));
            }
            out.push_str("    </testcase>\n");
        }
    }
}

fn details(case: &CaseReport) -> String {
    let mut text = String::new();
    if case.status == Status::Skipped || case.status == Status::Passed {
        return text;
    }
    let _ = writeln!(text, "spec: {}", case.spec);
    let _ = writeln!(text, "requires: {}", case.expectation);
    if let Some(failure) = &case.failure {
        let _ = writeln!(text, "while: {}", failure.context);
        let _ = writeln!(text, "expected: {}", failure.expected);
        let _ = writeln!(text, "actual: {}", failure.actual);
    }
    for violation in &case.violations {
        let _ = writeln!(
            text,
            "document: {}: {}",
            violation.subject,
            violation.problems.join("; ")
        );
    }
    text
}

fn seconds(ms: u64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

/// Escapes text for XML attributes and content; drops the control
/// characters XML 1.0 cannot carry at all.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_xml_well_formed() {
        assert_eq!(
            escape("<a href=\"x\">&'\u{1}"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"
        );
    }
}
