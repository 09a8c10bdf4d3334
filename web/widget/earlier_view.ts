/**
 * A verified visitor's earlier chats, in the panel above the conversation:
 * a disclosure ("Your earlier chats (3)") whose list names each chat by its
 * subject and day; an open one has a button that continues it here (a
 * closed one can no longer be opened, so it is only listed). Built with
 * `h`, so subjects are text, never markup.
 */
import type { Chat } from "@byrd/sdk";

import { h } from "../dom.js";

export function earlierChats(reopen: (chatId: string) => void): { element: HTMLElement; render: (chats: Chat[], current: string | null) => void } {
  const summary = h("summary", {});
  const list = h("ul", {});
  const element = h("details", { class: "earlier", hidden: true }, summary, list);
  const render = (chats: Chat[], current: string | null) => {
    const shown = chats.filter((c) => c.id !== current);
    element.hidden = shown.length === 0;
    summary.textContent = `Your earlier chats (${shown.length})`;
    list.replaceChildren(
      ...shown.map((chat) => {
        const label = `${chat.subject ?? "Chat"} · ${day(chat.created_at)}`;
        if (chat.status === "closed") return h("li", { "data-chat-id": chat.id }, h("span", { class: "what" }, label), h("span", { class: "state" }, "Closed"));
        const button = h("button", { type: "button", class: "continue", "aria-label": `Continue: ${label}` }, "Continue");
        button.addEventListener("click", () => {
          element.open = false;
          reopen(chat.id);
        });
        return h("li", { "data-chat-id": chat.id }, h("span", { class: "what" }, label), button);
      }),
    );
  };
  return { element, render };
}

function day(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleDateString([], { day: "numeric", month: "short" });
}
