/**
 * The widget's settings, read once from its own `<script>` tag:
 *
 * ```html
 * <script src="https://chat.example.com/widget.js" async
 *         data-title="Support" data-greeting="Hi! How can we help?"
 *         data-color="#2f5bea" data-text-color="#ffffff" data-position="right"></script>
 * ```
 *
 * Every attribute is optional. `data-identity-token` vouches for a
 * logged-in user of the site (a visitor identity token its backend
 * signed); `Byrd.identify` (`page_api.ts`) gives one later. The Byrd server defaults to the origin the
 * script was loaded from, so the tag names the server once, in `src`;
 * `data-server` points elsewhere (a script served from a CDN, say).
 * Values that do not parse fall back to the defaults rather than break
 * the host page.
 */
export interface WidgetConfig {
  /** Base URL of the Byrd server. */
  server: string;
  title: string;
  greeting: string;
  /** Accent colour: the launcher, the header, the visitor's bubbles. */
  color: string;
  /** Text on the accent colour. */
  textColor: string;
  position: "left" | "right";
  /** The subject of chats this page starts, shown to agents. */
  subject: string | null;
  /** The visitor identity token the page rendered into the tag, or null. */
  identityToken: string | null;
}

const DEFAULTS = {
  title: "Chat with us",
  greeting: "Hi! Ask us anything, we usually answer within minutes.",
  color: "#2f5bea",
  textColor: "#ffffff",
};

export function readConfig(script: HTMLScriptElement | null): WidgetConfig {
  const attr = (name: string): string | null => {
    const value = script?.getAttribute(`data-${name}`)?.trim();
    return value ? value : null;
  };
  return {
    server: serverOf(attr("server"), script?.src ?? null),
    title: attr("title") ?? DEFAULTS.title,
    greeting: attr("greeting") ?? DEFAULTS.greeting,
    color: colour(attr("color")) ?? DEFAULTS.color,
    textColor: colour(attr("text-color")) ?? DEFAULTS.textColor,
    position: attr("position") === "left" ? "left" : "right",
    subject: attr("subject")?.slice(0, 200) ?? null,
    identityToken: attr("identity-token"),
  };
}

/** `data-server`, else the script's own origin, else the page's. */
function serverOf(explicit: string | null, src: string | null): string {
  for (const candidate of [explicit, src]) {
    if (!candidate) continue;
    try {
      const url = new URL(candidate, location.href);
      if (url.protocol === "https:" || url.protocol === "http:") {
        return explicit === candidate ? url.href.replace(/\/+$/, "") : url.origin;
      }
    } catch {
      // Not a URL: try the next.
    }
  }
  return location.origin;
}

/** A colour the browser understands, or null: a value that is no colour could otherwise inject CSS. */
function colour(value: string | null): string | null {
  return value !== null && CSS.supports("color", value) ? value : null;
}
