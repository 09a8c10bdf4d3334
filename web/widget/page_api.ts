/**
 * `window.Byrd`: the one global the widget adds, through which the page
 * tells it who its logged-in user is, once the page knows:
 *
 * ```js
 * Byrd.identify(identityToken); // the user logged in: the next chat is theirs, verified
 * Byrd.logout();                // or Byrd.identify(null): anonymous again
 * ```
 *
 * The script loads `async`, so a page may call before it has: such a page
 * starts with `window.Byrd = window.Byrd || { q: [] }` and pushes calls
 * (`Byrd.q.push(["identify", token])`), which the widget runs in order
 * when it loads; a push after that runs at once.
 */
import type { Visitor } from "./visitor.js";

type Call = unknown[];

/** Marks the API a widget installed, apart from a page's own stub (which may have an `identify` of its own). */
const INSTALLED = Symbol.for("byrd.widget");

/** Whether a widget already runs on this page (the tag included twice). */
export function widgetInstalled(): boolean {
  const global = window as unknown as { Byrd?: Record<symbol, unknown> };
  return global.Byrd?.[INSTALLED] === true;
}

export interface PageApi {
  identify(token: string | null): void;
  logout(): void;
  q: { push(...calls: Call[]): number };
}

export function installPageApi(visitor: Visitor): void {
  const global = window as unknown as { Byrd?: { q?: unknown } };
  const queued = Array.isArray(global.Byrd?.q) ? (global.Byrd.q as unknown[]) : [];
  const api: PageApi = {
    identify: (token) => visitor.identify(typeof token === "string" && token.trim() !== "" ? token.trim() : null),
    logout: () => visitor.identify(null),
    q: {
      push: (...calls) => {
        for (const call of calls) run(api, call);
        return 0;
      },
    },
  };
  Object.defineProperty(api, INSTALLED, { value: true });
  global.Byrd = api;
  for (const call of queued) run(api, call);
}

/** One queued call, `[name, ...arguments]`; anything else is ignored rather than thrown into the page. */
function run(api: PageApi, call: unknown): void {
  if (!Array.isArray(call)) return;
  const [name, token] = call as [unknown, unknown];
  if (name === "identify") api.identify(typeof token === "string" ? token : null);
  else if (name === "logout") api.logout();
}
