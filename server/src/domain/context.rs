//! A visitor's context at a chat start: the page, the referrer, the
//! browser's language and time zone as the widget reports them.
//!
//! Agents read these, so they follow the rules of every other text a
//! client sends them (one line, bounded, no control or hidden format
//! characters, see `text`); the URLs must be `http` or `https`, so that no
//! `javascript:` or `data:` URL reaches a console that might link it. An
//! empty field is absent: browsers give `""` for a page without a referrer
//! or a title, and a chat start must not fail over it.

use byrd_spec::chat::ChatContextInput;

use super::ValidationError;
use super::text::parse_line;

const MAX_URL: usize = 2048;
const MAX_TITLE: usize = 300;
const MAX_LOCALE: usize = 35;
const MAX_TIME_ZONE: usize = 64;

/// The context fields a widget reports, each parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageContext {
    pub page_url: Option<String>,
    pub page_title: Option<String>,
    pub referrer: Option<String>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
}

impl PageContext {
    pub fn parse(input: &ChatContextInput) -> Result<Self, ValidationError> {
        Ok(PageContext {
            page_url: present(&input.page_url)
                .map(|url| web_url("context.page_url", url))
                .transpose()?,
            page_title: present(&input.page_title)
                .map(|title| {
                    parse_line(
                        "context.page_title",
                        title,
                        MAX_TITLE,
                        "must be at most 300 characters on one line, without control characters",
                    )
                })
                .transpose()?,
            referrer: present(&input.referrer)
                .map(|url| web_url("context.referrer", url))
                .transpose()?,
            locale: present(&input.locale)
                .map(|locale| {
                    ascii_name(
                        "context.locale",
                        locale,
                        MAX_LOCALE,
                        |b| b == b'-' || b == b'_',
                        "must be a language tag of at most 35 ASCII letters, digits, '-' or '_'",
                    )
                })
                .transpose()?,
            time_zone: present(&input.time_zone)
                .map(|zone| {
                    ascii_name(
                        "context.time_zone",
                        zone,
                        MAX_TIME_ZONE,
                        |b| matches!(b, b'/' | b'_' | b'+' | b'-'),
                        "must be a time zone name of at most 64 ASCII letters, digits, '/', '_', '+' or '-'",
                    )
                })
                .transpose()?,
        })
    }
}

/// The field's text unless it is absent or blank.
fn present(field: &Option<String>) -> Option<&str> {
    field.as_deref().filter(|text| !text.trim().is_empty())
}

/// An absolute `http` or `https` URL with a host, on one line, without
/// spaces.
fn web_url(field: &'static str, raw: &str) -> Result<String, ValidationError> {
    let url = parse_line(
        field,
        raw,
        MAX_URL,
        "must be at most 2048 characters on one line, without control characters",
    )?;
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    let has_host = rest.is_some_and(|rest| !rest.is_empty() && !rest.starts_with(['/', '?', '#']));
    if !has_host || url.chars().any(char::is_whitespace) {
        return Err(ValidationError::new(
            field,
            "must be an absolute http or https URL without spaces",
        ));
    }
    Ok(url)
}

/// 1 to `max` ASCII letters and digits, and the bytes `also` allows.
fn ascii_name(
    field: &'static str,
    raw: &str,
    max: usize,
    also: impl Fn(u8) -> bool,
    reason: &'static str,
) -> Result<String, ValidationError> {
    let value = raw.trim();
    let ok = value.len() <= max && value.bytes().all(|b| b.is_ascii_alphanumeric() || also(b));
    if !ok {
        return Err(ValidationError::new(field, reason));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ChatContextInput {
        ChatContextInput {
            page_url: Some("https://shop.example/cart?item=7#top".into()),
            page_title: Some("Your cart — Shop".into()),
            referrer: Some("http://search.example/?q=shop".into()),
            locale: Some("zh-Hans-CN".into()),
            time_zone: Some("America/Argentina/Buenos_Aires".into()),
        }
    }

    #[test]
    fn what_a_browser_gives_is_kept_and_empty_fields_are_absent() {
        let context = PageContext::parse(&input()).unwrap();
        assert_eq!(context.page_title.as_deref(), Some("Your cart — Shop"));
        assert_eq!(context.locale.as_deref(), Some("zh-Hans-CN"));
        let empty = ChatContextInput {
            referrer: Some(String::new()),
            page_title: Some("  ".into()),
            ..ChatContextInput::default()
        };
        assert_eq!(PageContext::parse(&empty).unwrap(), PageContext::default());
        for zone in ["UTC", "Etc/GMT+5", "Europe/Paris"] {
            let input = ChatContextInput {
                time_zone: Some(zone.into()),
                ..ChatContextInput::default()
            };
            assert!(PageContext::parse(&input).is_ok(), "{zone}");
        }
    }

    #[test]
    fn each_field_is_refused_by_name() {
        let refused = |change: fn(&mut ChatContextInput)| {
            let mut input = input();
            change(&mut input);
            PageContext::parse(&input).unwrap_err().field
        };
        assert_eq!(
            refused(|i| i.page_url = Some("javascript:alert(1)".into())),
            "context.page_url"
        );
        assert_eq!(
            refused(|i| i.page_url = Some(format!("https://a.example/{}", "x".repeat(2048)))),
            "context.page_url"
        );
        assert_eq!(
            refused(|i| i.referrer = Some("https:///path".into())),
            "context.referrer"
        );
        assert_eq!(
            refused(|i| i.referrer = Some("https://a.example/a b".into())),
            "context.referrer"
        );
        assert_eq!(
            refused(|i| i.page_title = Some("Cart\u{202E}".into())),
            "context.page_title"
        );
        assert_eq!(
            refused(|i| i.page_title = Some("x".repeat(301))),
            "context.page_title"
        );
        assert_eq!(
            refused(|i| i.locale = Some("en\nGB".into())),
            "context.locale"
        );
        assert_eq!(
            refused(|i| i.locale = Some("a".repeat(36))),
            "context.locale"
        );
        assert_eq!(
            refused(|i| i.time_zone = Some("Europe/Paris\u{200B}".into())),
            "context.time_zone"
        );
    }
}
