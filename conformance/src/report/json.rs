//! The JSON report: the whole [`Report`], with per case what was expected,
//! what came back and the redacted transcript of the exchange.

use super::Report;

pub fn render(report: &Report) -> String {
    // Serialising plain data cannot fail; an empty object is the fallback.
    serde_json::to_string_pretty(report).unwrap_or_else(|_| "{}".to_owned())
}
