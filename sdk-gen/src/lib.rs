//! `byrd-sdk-gen`: the generated parts of Byrd's SDKs, from the spec.
//!
//! The design is a reader, a model and emitters. [`read`] turns the
//! committed documents of `spec/v1/` into one small [`model::Model`] of
//! types and operations; each emitter (`emit::rust`, `emit::typescript`)
//! renders its SDK's files from that model through minijinja templates
//! (`sdk-gen/templates/`) and formats them. Nothing reads the documents
//! but the reader, and nothing but the model reaches a template.
//!
//! [`write`] writes the files; [`check`] compares them with what is
//! committed, which the test suite does on every run. Besides the
//! generated folders, one section of `sdks/README.md` is generated: the
//! promises of the client behaviour table (`emit::readme`).

pub mod emit;
pub mod model;
mod output;
mod read;

use std::path::{Path, PathBuf};

pub use output::{Drift, GeneratedFile};
pub use read::read;

/// Where the spec documents live, relative to the workspace root.
pub const SPEC_DIR: &str = "spec/v1";

/// The command that regenerates every SDK file.
pub const WRITE_COMMAND: &str = "cargo run -p byrd-sdk-gen";

/// The workspace root: the parent of this crate's folder.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("sdk-gen sits inside the workspace")
        .to_path_buf()
}

/// Every generated file of every SDK, as it should be committed.
pub fn generate(root: &Path) -> anyhow::Result<Vec<GeneratedFile>> {
    let model = read(&root.join(SPEC_DIR))?;
    let mut files = emit::rust::emit(&model)?;
    files.extend(emit::typescript::emit(&model)?);
    files.push(emit::readme::emit(root, &model.client)?);
    Ok(files)
}

/// Writes every generated file under `root`, removing stale ones from the
/// generated folders; returns the paths written.
pub fn write(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    output::write(root, &generate(root)?, emit::GENERATED_DIRS)
}

/// The files under `root` that differ from what [`write`] would write.
pub fn check(root: &Path) -> anyhow::Result<Vec<Drift>> {
    output::check(root, &generate(root)?, emit::GENERATED_DIRS)
}

/// A message naming each drifted file and the command that fixes them.
pub fn drift_report(drift: &[Drift]) -> String {
    let mut report = String::from("generated SDK files are out of date:\n");
    for item in drift {
        report.push_str(&format!("  {item}\n"));
    }
    report.push_str(&format!("run `{WRITE_COMMAND}` and commit the result"));
    report
}
