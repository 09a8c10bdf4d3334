//! Generated files: formatting, writing and the drift check.

use std::collections::BTreeSet;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

/// One file an emitter produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Relative to the workspace root.
    pub path: PathBuf,
    pub contents: String,
}

/// How a committed file differs from the generated one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    Missing(PathBuf),
    Changed(PathBuf),
    /// In a generated folder, but no emitter makes it any more.
    Stale(PathBuf),
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Drift::Missing(path) => write!(f, "missing: {}", path.display()),
            Drift::Changed(path) => write!(f, "differs: {}", path.display()),
            Drift::Stale(path) => write!(f, "no longer generated: {}", path.display()),
        }
    }
}

/// Formats Rust source with the toolchain's `rustfmt`, as `cargo fmt`
/// would for a crate of edition 2024, so that the committed files pass
/// `cargo fmt --check` unchanged.
pub fn rustfmt(source: &str) -> anyhow::Result<String> {
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run `rustfmt`; is the Rust toolchain on PATH?")?;
    child
        .stdin
        .take()
        .context("rustfmt's stdin")?
        .write_all(source.as_bytes())?;
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!(
            "rustfmt refused the generated code:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    String::from_utf8(output.stdout).context("rustfmt's output is not UTF-8")
}

pub fn write(root: &Path, files: &[GeneratedFile], dirs: &[&str]) -> anyhow::Result<Vec<PathBuf>> {
    for stale in stale_files(root, files, dirs)? {
        std::fs::remove_file(root.join(&stale))
            .with_context(|| format!("cannot remove {}", stale.display()))?;
    }
    let mut written = Vec::new();
    for file in files {
        let path = root.join(&file.path);
        if std::fs::read_to_string(&path).ok().as_deref() == Some(file.contents.as_str()) {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, &file.contents)
            .with_context(|| format!("cannot write {}", path.display()))?;
        written.push(file.path.clone());
    }
    Ok(written)
}

pub fn check(root: &Path, files: &[GeneratedFile], dirs: &[&str]) -> anyhow::Result<Vec<Drift>> {
    let mut drift = Vec::new();
    for file in files {
        match std::fs::read_to_string(root.join(&file.path)) {
            Err(_) => drift.push(Drift::Missing(file.path.clone())),
            Ok(committed) if committed != file.contents => {
                drift.push(Drift::Changed(file.path.clone()))
            }
            Ok(_) => {}
        }
    }
    drift.extend(
        stale_files(root, files, dirs)?
            .into_iter()
            .map(Drift::Stale),
    );
    Ok(drift)
}

/// Files in the generated folders that no emitter produced.
fn stale_files(
    root: &Path,
    files: &[GeneratedFile],
    dirs: &[&str],
) -> anyhow::Result<Vec<PathBuf>> {
    let produced: BTreeSet<&Path> = files.iter().map(|f| f.path.as_path()).collect();
    let mut stale = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries {
            let path = Path::new(dir).join(entry?.file_name());
            if !produced.contains(path.as_path()) {
                stale.push(path);
            }
        }
    }
    stale.sort();
    Ok(stale)
}
