//! The browser and operating system a `User-Agent` header names, for the
//! agent's view of a visitor.
//!
//! Two ordered tables, first match wins: a browser or system is known by
//! tokens its header carries (and some by tokens it lacks). The order is
//! the whole trick: every Chromium browser also says `Chrome/` and
//! `Safari/`, so Edge, Opera and Samsung Internet come before Chrome, and
//! Chrome before Safari; Android says `Linux` and iOS says `Mac OS X`, so
//! they come before Linux and macOS. What matches nothing is `Other`.
//! The answer is built from the tables and digits only, never from the
//! header's text, so it is always short and plain.

/// A browser family: the tokens that must all appear, those that must
/// not, and the token its major version follows (if it tells one).
struct Browser {
    family: &'static str,
    requires: &'static [&'static str],
    excludes: &'static [&'static str],
    version_after: Option<&'static str>,
}

const fn browser(
    family: &'static str,
    requires: &'static [&'static str],
    version_after: Option<&'static str>,
) -> Browser {
    Browser {
        family,
        requires,
        excludes: &[],
        version_after,
    }
}

const BROWSERS: &[Browser] = &[
    browser("Edge", &["Edg/"], Some("Edg/")),
    browser("Edge", &["EdgA/"], Some("EdgA/")),
    browser("Edge", &["EdgiOS/"], Some("EdgiOS/")),
    browser("Opera", &["OPR/"], Some("OPR/")),
    browser("Opera", &["OPiOS/"], Some("OPiOS/")),
    browser(
        "Samsung Internet",
        &["SamsungBrowser/"],
        Some("SamsungBrowser/"),
    ),
    // Android's WebView marks itself `wv` in the platform part.
    browser("Android WebView", &["; wv)"], Some("Chrome/")),
    browser("Firefox", &["Firefox/"], Some("Firefox/")),
    browser("Firefox", &["FxiOS/"], Some("FxiOS/")),
    browser("Chrome", &["CriOS/"], Some("CriOS/")),
    browser("Chrome", &["Chrome/"], Some("Chrome/")),
    browser("Safari", &["Safari/", "Version/"], Some("Version/")),
    // An app's web view on iOS is Safari's engine without Safari's token.
    Browser {
        family: "iOS WebView",
        requires: &["AppleWebKit/", "Mobile/"],
        excludes: &["Safari/"],
        version_after: None,
    },
];

/// Operating systems: a family and the tokens any one of which names it.
const SYSTEMS: &[(&str, &[&str])] = &[
    ("Windows", &["Windows NT", "Windows Phone"]),
    ("ChromeOS", &["CrOS"]),
    ("Android", &["Android"]),
    ("iOS", &["iPhone", "iPad", "iPod"]),
    ("macOS", &["Macintosh", "Mac OS X"]),
    ("Linux", &["Linux", "X11"]),
];

const OTHER: &str = "Other";

/// The browser as "family major" ("Firefox 128"), the family alone when
/// the header tells no version, or `Other`.
pub fn browser_of(user_agent: &str) -> String {
    let found = BROWSERS.iter().find(|b| {
        b.requires.iter().all(|token| user_agent.contains(token))
            && !b.excludes.iter().any(|token| user_agent.contains(token))
    });
    let Some(found) = found else {
        return OTHER.to_owned();
    };
    match found
        .version_after
        .and_then(|token| major(user_agent, token))
    {
        Some(major) => format!("{} {major}", found.family),
        None => found.family.to_owned(),
    }
}

/// The operating system's family, or `Other`.
pub fn os_of(user_agent: &str) -> String {
    SYSTEMS
        .iter()
        .find(|(_, tokens)| tokens.iter().any(|token| user_agent.contains(token)))
        .map_or(OTHER, |(family, _)| family)
        .to_owned()
}

/// The digits right after `token` (at most 5 of them), if any.
fn major(user_agent: &str, token: &str) -> Option<u32> {
    let (_, after) = user_agent.split_once(token)?;
    let digits: String = after
        .chars()
        .take_while(char::is_ascii_digit)
        .take(5)
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real headers, as browsers of early 2026 send them, and what they
    /// name.
    const SEEN: &[(&str, &str, &str)] = &[
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            "Chrome 120",
            "Windows",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
            "Edge 120",
            "Windows",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
            "Firefox 121",
            "Linux",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
            "Safari 17",
            "macOS",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
            "Safari 17",
            "iOS",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0",
            "Opera 106",
            "Windows",
        ),
        (
            "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
            "Samsung Internet 23",
            "Android",
        ),
        (
            "Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230805.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.43 Mobile Safari/537.36",
            "Android WebView 120",
            "Android",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
            "Chrome 120",
            "Android",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
            "iOS WebView",
            "iOS",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
            "Chrome 120",
            "iOS",
        ),
        (
            "Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/121.0 Mobile/15E148 Safari/605.1.15",
            "Firefox 121",
            "iOS",
        ),
        (
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 EdgA/120.0.2210.115",
            "Edge 120",
            "Android",
        ),
        (
            "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            "Chrome 120",
            "ChromeOS",
        ),
        ("curl/8.4.0", "Other", "Other"),
        ("", "Other", "Other"),
    ];

    #[test]
    fn real_user_agents_name_their_browser_and_system() {
        for (header, browser, os) in SEEN {
            assert_eq!(browser_of(header), *browser, "{header}");
            assert_eq!(os_of(header), *os, "{header}");
        }
    }

    #[test]
    fn the_answer_is_built_from_the_table_not_the_header() {
        let hostile = format!("Firefox/<script>{}", "9".repeat(50));
        assert_eq!(browser_of(&hostile), "Firefox");
        assert_eq!(browser_of("Firefox/99999999"), "Firefox 99999");
    }
}
