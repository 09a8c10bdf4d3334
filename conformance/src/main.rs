//! `byrd-conformance`: run the conformance cases against a Byrd server.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;

use byrd_conformance::cli::Cli;
use byrd_conformance::config::{Config, ProcessEnvironment};
use byrd_conformance::report::{console, json, junit};
use byrd_conformance::runner::{self, RunOptions};
use byrd_conformance::selection::{ExpectedFailures, Selection};
use byrd_conformance::{Case, cases};

/// The runner itself could not run: bad arguments, config or server.
const CANNOT_RUN: u8 = 2;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(message) => {
            eprintln!("byrd-conformance: {message}");
            ExitCode::from(CANNOT_RUN)
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode, String> {
    let all = cases::all();
    let selection = Selection {
        include: cli.cases.clone(),
        exclude: cli.exclude.clone(),
    };
    let selected = selection.apply(all.clone())?;
    if cli.list {
        list(&selected);
        return Ok(ExitCode::SUCCESS);
    }
    let expected_failures = match &cli.expected_failures {
        None => ExpectedFailures::default(),
        Some(path) => {
            let text = read(path)?;
            ExpectedFailures::parse(&text, &all)
                .map_err(|error| format!("{}: {error}", path.display()))?
        }
    };
    let mut config =
        Config::load(cli.config.as_deref(), &ProcessEnvironment).map_err(|e| e.to_string())?;
    if let Some(ca_file) = &cli.ca_file {
        config.ca_file = Some(ca_file.clone());
    }
    let options = RunOptions {
        base_url: cli.base_url.clone().unwrap_or_default(),
        strict: cli.strict,
        expected_failures,
    };
    let strict = cli.strict;
    let report = runner::run(config, options, selected, |case| {
        let mut out = std::io::stdout().lock();
        let _ = console::case(&mut out, case, strict);
        let _ = out.flush();
    })
    .await
    .map_err(|error| error.to_string())?;
    if let Some(path) = &cli.junit {
        write(path, &junit::render(&report))?;
    }
    if let Some(path) = &cli.json {
        write(path, &json::render(&report))?;
    }
    let _ = console::summary(&mut std::io::stdout().lock(), &report);
    Ok(if report.conforms {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn list(cases: &[Case]) {
    let mut areas: BTreeMap<String, usize> = BTreeMap::new();
    for case in cases {
        println!(
            "{:<6} {:<52} {}\n       {}",
            case.level,
            case.id,
            case.reference(),
            case.expectation
        );
        let area = case.id.splitn(3, '.').take(2).collect::<Vec<_>>().join(".");
        *areas.entry(area).or_default() += 1;
    }
    println!();
    for (area, count) in &areas {
        println!("{area:<28} {count:>4}");
    }
    println!("{} cases in {} areas", cases.len(), areas.len());
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .map_err(|error| format!("cannot create {}: {error}", parent.display()))?;
    }
    std::fs::write(path, text).map_err(|error| format!("cannot write {}: {error}", path.display()))
}
