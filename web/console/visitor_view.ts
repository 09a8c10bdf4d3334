/**
 * The visitor beside the conversation: who they are (a verified badge, with
 * the issuer's email and user id, when a trusted issuer vouched for them),
 * where they were when they started the chat (page, referrer, browser and
 * system, language, time zone), and their earlier chats
 * (`GET /v1/visitors/{visitor_id}/chats`), each of which opens here.
 *
 * Everything a visitor's browser or a site reported is shown as text (`h`
 * makes text nodes), never as markup or a link: a page title or URL is
 * whatever the visitor's page said, and the console must not run it.
 */
import { listVisitorChats, type Chat } from "@byrd/sdk";

import { clock, h } from "../dom.js";
import { type Desk, visitorName } from "./desk.js";

/** How many earlier chats the panel lists. */
const EARLIER_LIMIT = 10;

export function visitorView(desk: Desk): { element: HTMLElement; render: () => void } {
  const name = h("h2", { id: "visitor-title" });
  const badge = h("span", { class: "verified", hidden: true }, "Verified");
  const facts = h("dl", { class: "facts" });
  const earlierTitle = h("h3", { id: "earlier-title" }, "Earlier chats");
  const earlierEmpty = h("p", { class: "empty" }, "None.");
  const earlier = h("ul", { class: "earlier", "aria-labelledby": "earlier-title" });
  const element = h(
    "aside",
    { class: "visitor", "aria-labelledby": "visitor-title", hidden: true },
    h("div", { class: "who" }, name, badge),
    facts,
    earlierTitle,
    earlierEmpty,
    earlier,
  );
  let shown: string | null = null;
  const render = () => {
    const chat = desk.selected ? desk.chats.get(desk.selected)?.chat : undefined;
    element.hidden = chat === undefined;
    if (!chat) return;
    name.textContent = visitorName(chat);
    badge.hidden = !chat.visitor.verified;
    facts.replaceChildren(...rows(chat));
    if (shown === chat.id) return;
    shown = chat.id;
    earlierEmpty.hidden = true;
    earlier.replaceChildren();
    void loadEarlier(desk, chat).then((chats) => {
      if (shown !== chat.id || chats === null) return;
      earlierEmpty.hidden = chats.length > 0;
      earlier.replaceChildren(...chats.map((c) => earlierItem(desk, c)));
    });
  };
  return { element, render };
}

/** The visitor's facts as term and description pairs; what is unknown is left out. */
function rows(chat: Chat): HTMLElement[] {
  const { visitor, context } = chat;
  const system = [context.browser, context.os].filter(Boolean).join(" on ");
  const pairs: [string, string | null][] = [
    ["Email", visitor.email],
    ["User id", visitor.verified ? visitor.external_id : null],
    ["Vouched for by", visitor.issuer],
    ...visitor.attributes.map((a): [string, string] => [a.name, a.value]),
    ["Page", context.page_title],
    ["Page URL", context.page_url],
    ["Referrer", context.referrer],
    ["Browser", system || null],
    ["Language", context.locale],
    ["Time zone", context.time_zone],
  ];
  return pairs
    .filter((pair): pair is [string, string] => pair[1] !== null && pair[1] !== "")
    .flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]);
}

/** The visitor's other chats, newest first, or null when they could not be loaded. */
async function loadEarlier(desk: Desk, chat: Chat): Promise<Chat[] | null> {
  try {
    const page = await listVisitorChats(desk.api, chat.visitor.id, { limit: EARLIER_LIMIT + 1 });
    return page.chats.filter((c) => c.id !== chat.id).slice(0, EARLIER_LIMIT);
  } catch {
    return null;
  }
}

function earlierItem(desk: Desk, chat: Chat): HTMLLIElement {
  const when = `${new Date(chat.created_at).toLocaleDateString([], { day: "numeric", month: "short" })} ${clock(chat.created_at)}`;
  const state = chat.status === "closed" ? "Closed" : chat.status === "assigned" ? (chat.assigned_agent_name ?? "Assigned") : "Waiting";
  const button = h("button", { type: "button", class: "earlier-chat", "data-chat-id": chat.id }, `${chat.subject ?? "Chat"} · ${when} · ${state}`);
  button.addEventListener("click", () => void desk.open(chat));
  return h("li", {}, button);
}
