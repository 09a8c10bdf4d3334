/**
 * The widget's DOM, inside a shadow root: the host page's styles do not
 * reach it and its own do not leak out; its ids and classes cannot clash
 * with the page's, and the bundle adds no globals. The root is open: the
 * page's scripts share the origin (and its storage) anyway, so closing it
 * would protect nothing, while assistive and testing tools read open roots. A launcher button opens a small panel (a non-modal dialog):
 * header, connection banner, a verified visitor's earlier chats
 * (`earlier_view.ts`), the message log (an ARIA live region that
 * announces new messages), the typing line and the composer.
 *
 * Rendering is keyed: each line keeps its element, which moves only when
 * its place changes (a pending message that gets its `seq`), so screen
 * readers announce a message once and focus never jumps.
 */
import { type Child, clock, h } from "../dom.js";
import type { WidgetConfig } from "./config.js";
import { earlierChats } from "./earlier_view.js";
import type { GuestChat, Line } from "./guest_chat.js";
import css from "./style.css";
import type { Visitor } from "./visitor.js";

const STATUS_TEXT: Record<Line["delivery"], string> = {
  pending: "Sending…",
  sent: "Sent",
  read: "Read",
  failed: "Not sent",
};

/** The widget's elements that change or listen after mounting. */
interface Parts {
  panel: HTMLElement;
  launcher: HTMLButtonElement;
  closeButton: HTMLButtonElement;
  subtitle: HTMLElement;
  banner: HTMLElement;
  notice: HTMLElement;
  greeting: HTMLLIElement;
  log: HTMLOListElement;
  typing: HTMLElement;
  alert: HTMLElement;
  badge: HTMLElement;
  input: HTMLTextAreaElement;
  composer: HTMLFormElement;
}

export function mountWidget(config: WidgetConfig, chat: GuestChat, visitor: Visitor): HTMLElement {
  const host = h("div", { "data-byrd-widget": "" });
  host.style.setProperty("--byrd-accent", config.color);
  host.style.setProperty("--byrd-on-accent", config.textColor);
  const root = host.attachShadow({ mode: "open" });
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(css);
  root.adoptedStyleSheets = [sheet];
  const { frame, parts } = build(config);
  root.append(frame);
  listen(parts, chat);
  const earlier = earlierChats((chatId) => void chat.reopen(chatId));
  parts.notice.after(earlier.element);
  const renderLog = logRenderer(parts, chat);
  const render = () => {
    renderHeader(parts, chat, config);
    earlier.render(visitor.earlier, chat.chatId);
    renderLog();
  };
  chat.onChange = render;
  visitor.onChange = render;
  render();
  return host;
}

/** The panel (a non-modal dialog) and its launcher, closed. */
function build(config: WidgetConfig): { frame: HTMLElement; parts: Parts } {
  const title = h("h2", { id: "title" }, config.title);
  const subtitle = h("p", { class: "subtitle" });
  const closeButton = h("button", { type: "button", class: "close", "aria-label": "Minimise chat" }, "×");
  const banner = h("p", { class: "banner", role: "status", hidden: true }, "Reconnecting… your messages will be sent when the connection returns.");
  const notice = h("p", { class: "notice", role: "status", hidden: true });
  const greeting = h("li", { class: "line theirs greeting" }, h("p", { class: "body" }, config.greeting));
  const log = h("ol", { class: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions", "aria-label": "Messages" }, greeting);
  const typing = h("p", { class: "typing", "aria-live": "polite" });
  const alert = h("p", { class: "sr-only", role: "alert" });
  const input = h("textarea", { rows: "1", maxlength: "4000", placeholder: "Write a message…", "aria-label": "Message", enterkeyhint: "send" });
  const sendButton = h("button", { type: "submit", class: "send", "aria-label": "Send" }, "Send");
  const composer = h("form", { class: "composer" }, input, sendButton);
  const panel = h(
    "section",
    { class: "panel", id: "panel", role: "dialog", "aria-labelledby": "title", hidden: true },
    h("header", {}, h("div", {}, title, subtitle), closeButton),
    banner,
    notice,
    log,
    typing,
    alert,
    composer,
  );
  const badge = h("span", { class: "badge", "aria-hidden": "true", hidden: true });
  const launcher = h(
    "button",
    { type: "button", class: "launcher", "aria-expanded": "false", "aria-controls": "panel", "aria-label": `Open chat: ${config.title}` },
    bubbleIcon(),
    badge,
  );
  const frame = h("div", { class: `frame ${config.position}` }, panel, launcher);
  const parts = { panel, launcher, closeButton, subtitle, banner, notice, greeting, log, typing, alert, badge, input, composer };
  return { frame, parts };
}

/** Opening and closing, the composer's keys, and whether the visitor can see the messages. */
function listen(parts: Parts, chat: GuestChat): void {
  const { panel, launcher, closeButton, log, input, composer } = parts;
  const setOpen = (open: boolean, focus: boolean) => {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    chat.visible = open && document.visibilityState === "visible";
    // markSeen re-renders, which updates the launcher's label.
    chat.markSeen();
    if (open) {
      log.scrollTop = log.scrollHeight;
      if (focus) input.focus();
    } else if (focus) {
      launcher.focus();
    }
  };
  launcher.addEventListener("click", () => setOpen(panel.hidden, true));
  closeButton.addEventListener("click", () => setOpen(false, true));
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.stopPropagation();
      setOpen(false, true);
    }
  });
  document.addEventListener("visibilitychange", () => {
    chat.visible = !panel.hidden && document.visibilityState === "visible";
    if (chat.visible) chat.markSeen();
  });
  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    chat.send(input.value);
    input.value = "";
    input.focus();
  });
  input.addEventListener("keydown", (event) => {
    // Enter sends; Shift+Enter writes a new line; nothing while an input method composes.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
  input.addEventListener("input", () => chat.typing(input.value.trim() !== ""));
}

/** Everything around the log: who is there, the banners, typing, the unread badge. */
function renderHeader(parts: Parts, chat: GuestChat, config: WidgetConfig): void {
  const { subtitle, banner, notice, typing, badge, launcher, panel } = parts;
  subtitle.textContent = chat.agentName
    ? `${chat.agentName} is here to help`
    : chat.agentJoined
      ? "An agent has joined the chat"
      : "We will be with you shortly";
  banner.hidden = chat.connection !== "reconnecting";
  notice.hidden = chat.notice === null;
  notice.textContent = chat.notice ?? "";
  typing.textContent = chat.typingName ? `${chat.typingName} is typing…` : "";
  badge.hidden = chat.unread === 0;
  badge.textContent = String(chat.unread);
  launcher.setAttribute(
    "aria-label",
    `${panel.hidden ? "Open" : "Minimise"} chat: ${config.title}${chat.unread ? `, ${chat.unread} new` : ""}`,
  );
}

/** Renders the log, keyed: each line keeps its element and moves only when its place changes. */
function logRenderer(parts: Parts, chat: GuestChat): () => void {
  const { log, greeting, alert } = parts;
  const elements = new Map<Line, HTMLLIElement>();
  let failedShown = new Set<Line>();
  return () => {
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    const lines = chat.ordered();
    const live = new Set(lines);
    for (const [line, element] of elements) {
      if (!live.has(line)) {
        element.remove();
        elements.delete(line);
      }
    }
    let previous: Element = greeting;
    const nowFailed = new Set<Line>();
    for (const line of lines) {
      let element = elements.get(line);
      if (!element) {
        element = renderLine(line, () => chat.retry(line));
        elements.set(line, element);
      } else {
        updateLine(element, line);
      }
      if (previous.nextElementSibling !== element) previous.after(element);
      previous = element;
      if (line.delivery === "failed") nowFailed.add(line);
    }
    // Failures are announced once; stored and pending states are not, to keep the reader quiet.
    for (const line of nowFailed) if (!failedShown.has(line)) alert.textContent = `Message not sent: ${line.failure ?? ""}`;
    failedShown = nowFailed;
    if (atBottom) log.scrollTop = log.scrollHeight;
  };
}

function renderLine(line: Line, retry: () => void): HTMLLIElement {
  const retryButton = h("button", { type: "button", class: "retry" }, "Retry");
  retryButton.addEventListener("click", retry);
  const element = h(
    "li",
    { class: "line" },
    h("span", { class: "who" }),
    h("p", { class: "body" }, line.body),
    h("span", { class: "meta" }, h("span", { class: "at" }), h("span", { class: "status" }), retryButton),
  );
  updateLine(element, line);
  return element;
}

function updateLine(element: HTMLLIElement, line: Line): void {
  if (line.kind === "joined") {
    // A note of the chat's life, not a message: no author, time or delivery state.
    element.className = "line event";
    return;
  }
  element.className = `line ${line.mine ? "mine" : "theirs"} ${line.delivery}`;
  if (line.seq !== null) element.dataset.seq = String(line.seq);
  const who = element.querySelector(".who") as HTMLElement;
  // Screen readers hear who wrote each line; sighted readers see it from the side.
  who.textContent = line.mine ? "You: " : `${line.author ?? "Agent"}: `;
  who.className = line.mine ? "who sr-only" : "who";
  (element.querySelector(".at") as HTMLElement).textContent = line.at ? clock(line.at) : "";
  (element.querySelector(".status") as HTMLElement).textContent = line.mine
    ? line.delivery === "failed"
      ? `${STATUS_TEXT.failed}: ${line.failure ?? ""}`
      : STATUS_TEXT[line.delivery]
    : "";
  (element.querySelector(".retry") as HTMLElement).hidden = line.delivery !== "failed";
}

function bubbleIcon(): Child {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
  svg.append(path);
  return svg;
}
