//! Configuration (README "Configuration"): every option of `byrd serve` is
//! declared once, in `byrd_server::options`; the flags, their variables,
//! their ranges and the README's table all come from that declaration.

use std::process::{Command, Output};

use byrd_server::options::{self, Kind, OPTIONS};

fn byrd(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_byrd"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_readme_configuration_table_is_the_declared_one() {
    let readme = options::readme::default_path();
    assert!(
        options::readme::is_current(&readme).unwrap(),
        "the configuration table in {} is out of date; run `{}` and commit the result",
        readme.display(),
        options::readme::WRITE_COMMAND
    );
    let output = byrd(&["config", "docs"]);
    assert!(output.status.success(), "{output:?}");
}

#[test]
fn config_docs_fails_on_a_stale_table_naming_the_command_that_rewrites_it() {
    let dir = tempfile::tempdir().unwrap();
    let readme = dir.path().join("README.md");
    let stale = format!(
        "# Byrd\n{}\n| Flag | stale |\n{}\n",
        options::readme::BEGIN,
        options::readme::END
    );
    std::fs::write(&readme, &stale).unwrap();
    let path = readme.to_str().unwrap();

    let check = byrd(&["config", "docs", "--readme", path]);
    assert!(!check.status.success());
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(stderr.contains(options::readme::WRITE_COMMAND), "{stderr}");

    assert!(
        byrd(&["config", "docs", "--write", "--readme", path])
            .status
            .success()
    );
    let written = std::fs::read_to_string(&readme).unwrap();
    assert!(
        written.contains("| `--listen` | `BYRD_LISTEN` | `127.0.0.1:8080` |"),
        "{written}"
    );
    assert!(byrd(&["config", "docs", "--readme", path]).status.success());
}

#[test]
fn serve_help_lists_every_flag_with_its_variable_and_no_secret_as_a_flag() {
    let output = byrd(&["serve", "--help"]);
    assert!(output.status.success(), "{output:?}");
    let help = String::from_utf8(output.stdout).unwrap();
    for setting in OPTIONS {
        match setting.flag {
            Some(flag) => {
                let listed = [' ', '\n'].map(|after| format!("--{flag}{after}"));
                assert!(
                    listed.iter().any(|line| help.contains(line.as_str())),
                    "--{flag} missing:\n{help}"
                );
                assert!(
                    help.contains(setting.env),
                    "{} missing:\n{help}",
                    setting.env
                );
            }
            // As a flag's variable: a secret's name may be in the text
            // of another option (`--cluster-key-file` names its variable).
            None => assert!(
                !help.contains(&format!("[env: {}=", setting.env)),
                "{} is a flag",
                setting.env
            ),
        }
    }
}

#[test]
fn help_never_shows_a_database_or_redis_password() {
    let output = Command::new(env!("CARGO_BIN_EXE_byrd"))
        .args(["serve", "--help"])
        .env("DATABASE_URL", "postgres://byrd:db-password@db/byrd")
        .env("BYRD_REDIS_URL", "redis://:redis-password@redis/")
        .output()
        .unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(help.contains("DATABASE_URL"), "{help}");
    assert!(
        !help.contains("db-password") && !help.contains("redis-password"),
        "{help}"
    );
}

#[test]
fn each_ranged_flag_refuses_values_out_of_its_range() {
    // The accepted ranges, as the README states them.
    let ranges: [(&str, u64, Option<u64>); 9] = [
        ("--sweep-interval-ms", 100, None),
        ("--presence-ttl-secs", 1, None),
        ("--jwt-leeway-secs", 0, Some(300)),
        ("--agent-token-ttl-secs", 30, Some(900)),
        ("--x-forwarded-for-hops", 1, Some(u64::from(u16::MAX))),
        ("--ws-heartbeat-secs", 1, None),
        ("--ws-max-sends-in-flight", 1, Some(u64::from(u32::MAX))),
        ("--ws-violation-window-secs", 1, None),
        ("--refresh-grace-secs", 0, Some(300)),
    ];
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    for (flag, min, max) in ranges {
        let declared = OPTIONS
            .iter()
            .find(|setting| setting.flag.map(|f| format!("--{f}")).as_deref() == Some(flag))
            .unwrap();
        let Kind::Number {
            min: declared_min,
            max: declared_max,
            ..
        } = declared.kind
        else {
            panic!("{flag} is not a number");
        };
        assert_eq!(
            (declared_min, declared_max),
            (min, max.unwrap_or(u64::MAX)),
            "{flag}"
        );
        let outside = min.checked_sub(1).into_iter().chain(max.map(|max| max + 1));
        for value in outside {
            let value = value.to_string();
            let output = byrd(&[
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--data-dir",
                data_dir,
                flag,
                value.as_str(),
            ]);
            assert!(!output.status.success(), "{flag} {value} was accepted");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(stderr.contains(flag), "{flag} {value}: {stderr}");
        }
    }
}
