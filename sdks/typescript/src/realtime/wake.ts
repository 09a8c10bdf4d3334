/**
 * Browsers: a network that comes back (`online`) or a page shown again
 * (`visibilitychange`) is the best moment to reconnect, not the end of a
 * backoff that timers in a background tab stretched out. Elsewhere
 * (Node), there is nothing to watch.
 */
export function watchPage(wake: () => void): () => void {
  const target = globalThis as { addEventListener?: EventTarget["addEventListener"]; removeEventListener?: EventTarget["removeEventListener"] };
  const doc = (globalThis as { document?: Document }).document;
  if (typeof target.addEventListener !== "function" || !doc) return () => {};
  const onOnline = () => wake();
  const onVisibility = () => {
    if (doc.visibilityState === "visible") wake();
  };
  target.addEventListener("online", onOnline);
  doc.addEventListener("visibilitychange", onVisibility);
  return () => {
    target.removeEventListener?.("online", onOnline);
    doc.removeEventListener("visibilitychange", onVisibility);
  };
}
