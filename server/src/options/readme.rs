//! The README's configuration table, generated from the declared options.
//!
//! The table sits between two marker comments in README.md; `byrd config
//! docs --write` rewrites what is between them, and `byrd config docs`
//! (and a test) fails when the committed table differs, naming the command
//! to run, like the spec documents' drift check.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{Kind, OPTIONS, Setting};

macro_rules! write_command {
    () => {
        "cargo run --release -p byrd-server -- config docs --write"
    };
}

/// The command that rewrites the table.
pub const WRITE_COMMAND: &str = write_command!();

/// The line before the table.
pub const BEGIN: &str = concat!(
    "<!-- generated from server/src/options/declared.rs by `",
    write_command!(),
    "`; do not edit -->"
);

/// The line after the table.
pub const END: &str = "<!-- end of the generated configuration table -->";

/// README.md of the source tree this binary was built from.
pub fn default_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")
}

/// The table, one row per option, without the markers.
pub fn table() -> String {
    let mut table =
        String::from("| Flag | Environment | Default | What |\n| --- | --- | --- | --- |\n");
    for setting in OPTIONS {
        table.push_str(&row(setting));
        table.push('\n');
    }
    table
}

fn row(setting: &Setting) -> String {
    let flag = setting
        .flag
        .map(|flag| format!(" `--{flag}` "))
        .unwrap_or_else(|| " ".to_owned());
    format!(
        "|{flag}| `{}` | {} | {} |",
        setting.env,
        default_cell(&setting.kind),
        setting.about
    )
}

fn default_cell(kind: &Kind) -> String {
    match kind {
        Kind::Text { default } => format!("`{default}`"),
        Kind::Number { default, .. } => format!("`{default}`"),
        Kind::Switch => "off".to_owned(),
        Kind::Optional { unset, .. } | Kind::List { unset } => (*unset).to_owned(),
        Kind::EnvOnly { default } => (*default).to_owned(),
    }
}

/// `readme` with the text between the markers replaced by the table.
pub fn rewrite(readme: &str) -> anyhow::Result<String> {
    let begin = readme
        .find(BEGIN)
        .context("README.md has no configuration table marker")?
        + BEGIN.len();
    let end = readme[begin..]
        .find(END)
        .context("README.md's configuration table has no end marker")?
        + begin;
    Ok(format!(
        "{}\n{}{}",
        &readme[..begin],
        table(),
        &readme[end..]
    ))
}

/// Writes the table into the README at `path`.
pub fn write(path: &Path) -> anyhow::Result<()> {
    let readme = read(path)?;
    std::fs::write(path, rewrite(&readme)?)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Whether the README at `path` holds the table the code produces.
pub fn is_current(path: &Path) -> anyhow::Result<bool> {
    let readme = read(path)?;
    Ok(rewrite(&readme)? == readme)
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_goes_between_the_markers_and_nothing_else_changes() {
        let readme = format!("intro\n{BEGIN}\nold table\n{END}\nrest\n");
        let rewritten = rewrite(&readme).unwrap();
        assert!(rewritten.starts_with(&format!("intro\n{BEGIN}\n| Flag |")));
        assert!(rewritten.ends_with(&format!("|\n{END}\nrest\n")));
        assert_eq!(rewrite(&rewritten).unwrap(), rewritten);
    }

    #[test]
    fn a_readme_without_markers_is_refused() {
        assert!(rewrite("no table here\n").is_err());
    }

    #[test]
    fn an_option_without_a_flag_has_an_empty_flag_cell() {
        let row = row(&crate::options::JWT_SECRET);
        assert!(
            row.starts_with("| | `BYRD_JWT_SECRET` | generated | "),
            "{row}"
        );
    }
}
