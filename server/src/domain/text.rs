//! Short free-text fields (display names, chat subjects): one line each,
//! trimmed, bounded, without control characters, and without the invisible
//! format characters that make a reader see something else than was sent.
//!
//! Format characters (Unicode general category Cf) are invisible but steer
//! how text is shown: U+202E RIGHT-TO-LEFT OVERRIDE makes "Bob\u{202E}nimda"
//! read as "Bobadmin", a zero-width space hides a word inside another. An
//! agent reading a visitor's name or subject must see what was sent, so
//! every format character is refused except the two that scripts and emoji
//! need to be written at all: U+200C ZERO WIDTH NON-JOINER (Persian, Indic
//! scripts) and U+200D ZERO WIDTH JOINER (emoji sequences such as 👩‍💻).
//! Marks that merely nudge direction (U+200E, U+200F, U+061C) are refused
//! too: a name reads right without them, and they can reorder what follows.

use super::ValidationError;

/// Unicode 15.1's format characters (general category Cf), as inclusive
/// ranges; [`ALLOWED_FORMAT`] are the exceptions display text may hold.
const FORMAT_CHARACTERS: &[(char, char)] = &[
    ('\u{00AD}', '\u{00AD}'),   // soft hyphen
    ('\u{0600}', '\u{0605}'),   // Arabic number signs
    ('\u{061C}', '\u{061C}'),   // Arabic letter mark
    ('\u{06DD}', '\u{06DD}'),   // Arabic end of ayah
    ('\u{070F}', '\u{070F}'),   // Syriac abbreviation mark
    ('\u{0890}', '\u{0891}'),   // Arabic pound and piastre marks above
    ('\u{08E2}', '\u{08E2}'),   // Arabic disputed end of ayah
    ('\u{180E}', '\u{180E}'),   // Mongolian vowel separator
    ('\u{200B}', '\u{200F}'),   // zero-width space, ZWNJ, ZWJ, LRM, RLM
    ('\u{202A}', '\u{202E}'),   // bidi embeddings and overrides
    ('\u{2060}', '\u{2064}'),   // word joiner, invisible operators
    ('\u{2066}', '\u{206F}'),   // bidi isolates, deprecated format controls
    ('\u{FEFF}', '\u{FEFF}'),   // zero-width no-break space (BOM)
    ('\u{FFF9}', '\u{FFFB}'),   // interlinear annotation
    ('\u{110BD}', '\u{110BD}'), // Kaithi number sign
    ('\u{110CD}', '\u{110CD}'), // Kaithi number sign above
    ('\u{13430}', '\u{1343F}'), // Egyptian hieroglyph format controls
    ('\u{1BCA0}', '\u{1BCA3}'), // shorthand format controls
    ('\u{1D173}', '\u{1D17A}'), // musical symbol beams, ties, slurs
    ('\u{E0001}', '\u{E0001}'), // language tag
    ('\u{E0020}', '\u{E007F}'), // tag characters
];

/// The format characters display text may hold: ZWNJ and ZWJ.
const ALLOWED_FORMAT: [char; 2] = ['\u{200C}', '\u{200D}'];

/// True for a format character display text must not hold: every Cf
/// character but ZWNJ and ZWJ.
fn is_hidden_format(c: char) -> bool {
    !ALLOWED_FORMAT.contains(&c)
        && FORMAT_CHARACTERS
            .iter()
            .any(|&(first, last)| (first..=last).contains(&c))
}

/// Trims `raw` and checks it is 1 to `max` characters with no control
/// characters and no hidden format characters; shared by the short
/// free-text fields below and by a visitor's context and attributes.
pub(super) fn parse_line(
    field: &'static str,
    raw: &str,
    max: usize,
    reason: &'static str,
) -> Result<String, ValidationError> {
    let value = raw.trim();
    let chars = value.chars().count();
    if chars == 0 || chars > max || value.chars().any(breaks_or_controls) {
        return Err(ValidationError::new(field, reason));
    }
    if value.chars().any(is_hidden_format) {
        return Err(ValidationError::new(field, HIDDEN_FORMAT_REASON));
    }
    Ok(value.to_owned())
}

/// An identifier taken exactly as given: `parse_line`'s rules, and
/// surrounding whitespace refused rather than trimmed, since two ids that
/// differ only by it name two different things.
pub(super) fn parse_identifier(
    field: &'static str,
    raw: &str,
    max: usize,
    reason: &'static str,
) -> Result<String, ValidationError> {
    if raw.trim() != raw {
        return Err(ValidationError::new(
            field,
            "must not begin or end with whitespace",
        ));
    }
    parse_line(field, raw, max, reason)
}

/// Control characters, and the line and paragraph separators (U+2028,
/// U+2029, categories Zl and Zp), which are not controls but start a new
/// line wherever text is shown: a one-line field holds neither.
fn breaks_or_controls(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

const HIDDEN_FORMAT_REASON: &str = "must not contain invisible format characters \
    (bidirectional overrides, isolates and marks, zero-width spaces, tags); \
    only the zero-width joiner and non-joiner are allowed";

/// A person's display name: 1 to 100 characters, no control characters,
/// no hidden format characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        parse_line(
            field,
            raw,
            100,
            "must be 1 to 100 characters on one line, without control characters",
        )
        .map(DisplayName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A chat subject: 1 to 200 characters, no control characters, no hidden
/// format characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject(String);

impl Subject {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        parse_line(
            field,
            raw,
            200,
            "must be 1 to 200 characters on one line, without control characters",
        )
        .map(Subject)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            DisplayName::parse("name", "  Ada ").unwrap().as_str(),
            "Ada"
        );
        assert!(DisplayName::parse("name", "   ").is_err());
        assert!(DisplayName::parse("name", "a\u{0}b").is_err());
        for separator in ['\n', '\u{85}', '\u{2028}', '\u{2029}'] {
            assert!(DisplayName::parse("name", &format!("a{separator}b")).is_err());
            assert!(Subject::parse("subject", &format!("a{separator}b")).is_err());
        }
        assert!(DisplayName::parse("name", &"x".repeat(101)).is_err());
        assert!(Subject::parse("subject", &"x".repeat(200)).is_ok());
        assert!(Subject::parse("subject", &"x".repeat(201)).is_err());
    }

    #[test]
    fn bidi_controls_zero_width_spaces_and_tags_are_refused() {
        let refused = [
            '\u{202A}',
            '\u{202B}',
            '\u{202C}',
            '\u{202D}',
            '\u{202E}', // embeddings, overrides
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}', // isolates
            '\u{200E}',
            '\u{200F}',
            '\u{061C}', // direction marks
            '\u{200B}',
            '\u{2060}',
            '\u{FEFF}',
            '\u{00AD}', // invisible spaces and hyphen
            '\u{E0001}',
            '\u{E0041}',
            '\u{E007F}', // tags
        ];
        for c in refused {
            let name = format!("Bob{c}nimda");
            let error = DisplayName::parse("visitor.name", &name).unwrap_err();
            assert_eq!(error.field, "visitor.name", "U+{:04X}", c as u32);
            assert_eq!(error.reason, HIDDEN_FORMAT_REASON, "U+{:04X}", c as u32);
            assert!(
                Subject::parse("subject", &name).is_err(),
                "U+{:04X}",
                c as u32
            );
        }
        // Trimming does not strip them: a trailing override is refused too.
        assert!(DisplayName::parse("name", "Ada\u{202E}").is_err());
    }

    #[test]
    fn joiners_that_scripts_and_emoji_need_are_kept() {
        // 👩‍💻 is woman, ZWJ, laptop; "می‌خواهم" needs a ZWNJ in Persian.
        for text in [
            "👩\u{200D}💻",
            "می\u{200C}خواهم",
            "Ada Lovelace",
            "Zoë Ünal",
            "שלום",
            "مرحبا",
        ] {
            assert_eq!(DisplayName::parse("name", text).unwrap().as_str(), text);
            assert_eq!(Subject::parse("subject", text).unwrap().as_str(), text);
        }
    }

    #[test]
    fn the_table_holds_every_format_character_but_the_joiners() {
        // Ranges ascend without overlap, and the two allowed joiners are
        // format characters the table holds.
        for pair in FORMAT_CHARACTERS.windows(2) {
            assert!(pair[0].1 < pair[1].0, "{pair:?}");
        }
        for c in ALLOWED_FORMAT {
            assert!(!is_hidden_format(c));
            assert!(FORMAT_CHARACTERS.iter().any(|&(a, b)| (a..=b).contains(&c)));
        }
        assert!(!is_hidden_format(' ') && !is_hidden_format('a') && !is_hidden_format('\u{E0080}'));
    }
}
