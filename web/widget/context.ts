/**
 * Where the visitor is, for the chat start's `context`: the page's URL and
 * title, the referrer, the browser's language and time zone, each read when
 * the chat starts (the visitor may have moved on since the page loaded).
 *
 * The server refuses a whole chat start over one field that breaks its
 * rules (`422 validation_failed`), and a page's title is whatever its site
 * wrote, so every field is brought within the rules here first: a title
 * loses its control and invisible format characters and is cut to its
 * bound (by code point, never inside a surrogate pair); a URL, language or
 * time zone that does not fit is left out rather than cut into another.
 */
import type { ChatContextInput } from "@byrd/sdk";

/** The bounds of spec/v1 `ChatContextInput`, in characters. */
const URL_MAX = 2048;
const TITLE_MAX = 300;

/** Controls, line and paragraph separators, and format characters but the zero-width (non-)joiner. */
const UNSAFE = /[\p{Cc}\u2028\u2029]|(?![\u200c\u200d])\p{Cf}/gu;

export function pageContext(): ChatContextInput {
  const context: ChatContextInput = {};
  const pageUrl = url(location.href, true);
  if (pageUrl) context.page_url = pageUrl;
  const title = oneLine(document.title, TITLE_MAX);
  if (title) context.page_title = title;
  const referrer = url(document.referrer, false);
  if (referrer) context.referrer = referrer;
  const locale = navigator.language;
  if (/^[A-Za-z0-9_-]{1,35}$/.test(locale)) context.locale = locale;
  const timeZone = timeZoneName();
  if (timeZone && /^[A-Za-z0-9/_+-]{1,64}$/.test(timeZone)) context.time_zone = timeZone;
  return context;
}

/**
 * An `http(s)` URL within the bound, or null. A page URL too long for it
 * (a huge query string) is still worth its origin and path.
 */
function url(value: string, shortenable: boolean): string | null {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return null;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return null;
  if (parsed.href.length <= URL_MAX) return parsed.href;
  const short = parsed.origin + parsed.pathname;
  return shortenable && short.length <= URL_MAX ? short : null;
}

/** Text on one line, without invisible characters, at most `max` code points. */
function oneLine(value: string, max: number): string {
  const clean = value.replace(UNSAFE, " ").replace(/\s+/g, " ").trim();
  const points = Array.from(clean);
  return points.length <= max ? clean : points.slice(0, max).join("").trim();
}

function timeZoneName(): string | null {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone ?? null;
  } catch {
    return null;
  }
}
