//! Every option of `byrd serve`, declared once: its flag, environment
//! variable, default, accepted range and description.
//!
//! The command line (`cli`), the defaults of `Settings` and the
//! configuration table in README.md all come from [`declared`]: clap gets
//! one argument per option with a flag, `Settings::from_options` turns the
//! values into typed settings (ranged durations come from the same bounds,
//! see [`bounded`]), and `byrd config docs` writes the README's table, which
//! a test keeps in step. Options without a flag (secrets, logging) are read
//! from the environment only, never from flags, which other users of the
//! machine can see in the process list.

pub mod bounded;
pub mod declared;
pub mod readme;

use std::collections::BTreeMap;

pub use declared::*;

/// One option.
#[derive(Debug)]
pub struct Setting {
    /// The long flag, without `--`; `None` for an option read from the
    /// environment only.
    pub flag: Option<&'static str>,
    /// The environment variable; the flag wins when both are set.
    pub env: &'static str,
    pub kind: Kind,
    /// What it does, in Markdown: the README's words, and `--help`'s.
    pub about: &'static str,
}

/// What an option takes.
#[derive(Debug)]
pub enum Kind {
    /// Text with a default.
    Text { default: &'static str },
    /// Text that may be left unset; `unset` says, in Markdown, what that
    /// means. A `sensitive` value (a URL with a password) is never shown.
    Optional {
        unset: &'static str,
        sensitive: bool,
    },
    /// A whole number of `unit`s within `min..=max`.
    Number {
        default: u64,
        min: u64,
        max: u64,
        unit: Unit,
    },
    /// A flag that is off unless given (or its variable is `true`).
    Switch,
    /// A comma-separated list; `unset` says what leaving it out means.
    List { unset: &'static str },
    /// Read from the environment only; `default` says, in Markdown, what
    /// happens without it.
    EnvOnly { default: &'static str },
}

/// What a number counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Seconds,
    Milliseconds,
}

impl Unit {
    /// `amount` of this unit as a duration; a count is no duration.
    const fn duration(self, amount: u64) -> std::time::Duration {
        match self {
            Unit::Seconds => std::time::Duration::from_secs(amount),
            Unit::Milliseconds => std::time::Duration::from_millis(amount),
            Unit::Count => panic!("not a duration option"),
        }
    }
}

impl Setting {
    /// The default of a number option; using it on another kind does not
    /// compile where it is evaluated as a constant.
    pub const fn default_number(&self) -> u64 {
        match self.kind {
            Kind::Number { default, .. } => default,
            _ => panic!("not a number option"),
        }
    }

    /// The default of a duration option.
    pub const fn default_duration(&self) -> std::time::Duration {
        match self.kind {
            Kind::Number { default, unit, .. } => unit.duration(default),
            _ => panic!("not a duration option"),
        }
    }

    /// The least a duration option accepts, in code as on the command
    /// line.
    pub const fn min_duration(&self) -> std::time::Duration {
        match self.kind {
            Kind::Number { min, unit, .. } => unit.duration(min),
            _ => panic!("not a duration option"),
        }
    }

    /// The most a duration option accepts, in code as on the command line.
    pub const fn max_duration(&self) -> std::time::Duration {
        match self.kind {
            Kind::Number { max, unit, .. } => unit.duration(max),
            _ => panic!("not a duration option"),
        }
    }

    /// `about` without Markdown links, for `--help`.
    pub fn plain_about(&self) -> String {
        let mut plain = String::with_capacity(self.about.len());
        let mut rest = self.about;
        while let Some(open) = rest.find('[') {
            let Some((text, after)) = rest[open + 1..].split_once("](") else {
                break;
            };
            let Some(close) = after.find(')') else {
                break;
            };
            plain.push_str(&rest[..open]);
            plain.push_str(text);
            rest = &after[close + 1..];
        }
        plain.push_str(rest);
        plain
    }
}

/// The values given for options, by environment variable; an option not
/// given takes its declared default. Sensitive values are never printed.
#[derive(Default, Clone)]
pub struct Values(BTreeMap<&'static str, String>);

impl std::fmt::Debug for Values {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = self.0.iter().map(|(env, value)| {
            let sensitive = OPTIONS.iter().any(|setting| {
                setting.env == *env
                    && matches!(
                        setting.kind,
                        Kind::Optional {
                            sensitive: true,
                            ..
                        }
                    )
            });
            (
                *env,
                if sensitive {
                    "[redacted]"
                } else {
                    value.as_str()
                },
            )
        });
        f.debug_map().entries(shown).finish()
    }
}

impl Values {
    /// Gives `setting` a value, as it would come from its flag or variable.
    pub fn set(&mut self, setting: &Setting, value: impl Into<String>) {
        self.0.insert(setting.env, value.into());
    }

    /// The text of a text option, or its default.
    pub fn text(&self, setting: &Setting) -> anyhow::Result<String> {
        match (&setting.kind, self.0.get(setting.env)) {
            (_, Some(value)) => Ok(value.clone()),
            (Kind::Text { default }, None) => Ok((*default).to_owned()),
            _ => anyhow::bail!("{} has no value and no default", setting.env),
        }
    }

    /// The text of an option that may be unset.
    pub fn optional(&self, setting: &Setting) -> Option<String> {
        self.0.get(setting.env).cloned()
    }

    /// A number option's value, or its default, refused outside its range.
    pub fn number(&self, setting: &Setting) -> anyhow::Result<u64> {
        let Kind::Number {
            default, min, max, ..
        } = setting.kind
        else {
            anyhow::bail!("{} is not a number option", setting.env);
        };
        let Some(text) = self.0.get(setting.env) else {
            return Ok(default);
        };
        let value: u64 = text
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("{}: {text:?} is not a whole number", setting.env))?;
        anyhow::ensure!(
            (min..=max).contains(&value),
            "{}: {value} is not in {min}..={max}",
            setting.env
        );
        Ok(value)
    }

    /// A duration option's value, in its unit, or its default.
    pub fn duration(&self, setting: &Setting) -> anyhow::Result<std::time::Duration> {
        let number = self.number(setting)?;
        match setting.kind {
            Kind::Number {
                unit: unit @ (Unit::Seconds | Unit::Milliseconds),
                ..
            } => Ok(unit.duration(number)),
            _ => anyhow::bail!("{} is not a duration option", setting.env),
        }
    }

    /// Whether a switch is on.
    pub fn switch(&self, setting: &Setting) -> bool {
        self.0.get(setting.env).is_some_and(|v| v == "true")
    }

    /// The entries of a list option, trimmed, without empty ones; `None`
    /// when it is not given.
    pub fn list(&self, setting: &Setting) -> Option<Vec<String>> {
        self.0.get(setting.env).map(|list| {
            list.split(',')
                .map(str::trim)
                .filter(|entry| !entry.is_empty())
                .map(str::to_owned)
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn flags_and_variables_are_unique_and_defaults_within_range() {
        let mut flags = BTreeSet::new();
        let mut envs = BTreeSet::new();
        for setting in OPTIONS {
            assert!(envs.insert(setting.env), "{} twice", setting.env);
            if let Some(flag) = setting.flag {
                assert!(flags.insert(flag), "--{flag} twice");
            }
            if let Kind::Number {
                default, min, max, ..
            } = setting.kind
            {
                assert!((min..=max).contains(&default), "{}", setting.env);
            }
        }
    }

    #[test]
    fn secrets_have_no_flag() {
        for secret in [&JWT_SECRET, &ADMIN_PASSWORD, &CLUSTER_KEY] {
            assert!(secret.flag.is_none(), "{}", secret.env);
        }
    }

    #[test]
    fn help_text_keeps_the_words_of_links() {
        let plain = JWT_SECRET.plain_about();
        assert!(plain.ends_with("(see the spec)."), "{plain}");
        assert_eq!(LISTEN.plain_about(), LISTEN.about);
    }

    #[test]
    fn a_number_out_of_range_or_malformed_is_refused() {
        let mut values = Values::default();
        assert_eq!(values.number(&JWT_LEEWAY_SECS).unwrap(), 30);
        values.set(&JWT_LEEWAY_SECS, "301");
        assert!(values.number(&JWT_LEEWAY_SECS).is_err());
        values.set(&JWT_LEEWAY_SECS, "-1");
        assert!(values.number(&JWT_LEEWAY_SECS).is_err());
        values.set(&JWT_LEEWAY_SECS, "300");
        assert_eq!(values.number(&JWT_LEEWAY_SECS).unwrap(), 300);
    }
}
