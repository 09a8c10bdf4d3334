//! The command line.

use std::path::PathBuf;

use clap::Parser;

/// Checks a Byrd server, over the wire only, against the v1 protocol
/// (spec/v1). Exit status: 0 when every MUST case passed (and every
/// SHOULD case, with --strict), 1 when one failed, 2 when the runner
/// could not run.
#[derive(Debug, Parser)]
#[command(name = "byrd-conformance", version)]
pub struct Cli {
    /// Base URL of the server, e.g. http://127.0.0.1:8080 or
    /// https://staging.example.com (then the WebSocket is wss://).
    #[arg(long, required_unless_present = "list")]
    pub base_url: Option<String>,
    /// TOML config: admin credentials, the JWT key, the server's limits.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// PEM file of the CA(s) that certify an https:// server, trusted
    /// instead of the public roots (overrides `ca_file` in the config).
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
    /// Run only the cases whose ids match (glob, `*` and `?`; repeatable,
    /// or comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub cases: Vec<String>,
    /// Leave out the cases whose ids match (glob; repeatable).
    #[arg(long, value_delimiter = ',')]
    pub exclude: Vec<String>,
    /// Make SHOULD cases count: any failure fails the run.
    #[arg(long)]
    pub strict: bool,
    /// List the selected cases and exit.
    #[arg(long)]
    pub list: bool,
    /// Write a JUnit XML report here.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Write a JSON report (with every transcript) here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// File of case ids known to fail (one a line, `#` comments): they
    /// are reported but do not fail the run; one that passes does.
    #[arg(long)]
    pub expected_failures: Option<PathBuf>,
}
