/**
 * The desk's screen: a top bar (connection, sound, the agent, log out), the
 * queue and the team on the side, the conversation in the middle, and the
 * visitor on the right (`visitor_view.ts`).
 *
 * Parts holding focus or input (queue items, the conversation's buttons,
 * the composer) are built once and updated in place, so a live update
 * never steals the agent's focus or text. Only the message list is
 * redrawn; screen readers hear new visitor messages from a separate live
 * region instead.
 */
import { clock, h } from "../dom.js";
import { type ChatEntry, type Desk, visitorName } from "./desk.js";
import { setSoundEnabled, soundEnabled } from "./notify.js";
import { visitorView } from "./visitor_view.js";

const CONNECTION_TEXT: Record<string, string> = {
  idle: "Starting…",
  connecting: "Connecting…",
  connected: "Live",
  reconnecting: "Reconnecting…",
  closed: "Offline",
};

export function deskView(desk: Desk, logout: () => void): { element: HTMLElement; render: () => void } {
  const { top, connection } = topBar(desk, logout);
  const queue = h("ul", { class: "queue", "aria-labelledby": "queue-title" });
  const queueEmpty = h("p", { class: "empty" }, "No open chats. New ones appear here.");
  const team = h("ul", { class: "team", "aria-labelledby": "team-title" });
  const side = h(
    "nav",
    { class: "side", "aria-label": "Chats and team" },
    h("h2", { id: "queue-title" }, "Queue"),
    queueEmpty,
    queue,
    h("h2", { id: "team-title" }, "Team"),
    team,
  );

  const conversation = conversationView(desk);
  const visitor = visitorView(desk);
  const announcer = h("p", { class: "sr-only", "aria-live": "polite" });
  const problem = h("p", { class: "problem", role: "alert", hidden: true });
  const element = h("div", { class: "desk" }, top, side, h("div", { class: "main" }, problem, conversation.element), visitor.element, announcer);
  desk.onAnnounce = (text) => (announcer.textContent = text);

  const renderQueue = queueRenderer(desk, queue, queueEmpty);
  const render = () => {
    connection.textContent = CONNECTION_TEXT[desk.connection] ?? desk.connection;
    connection.className = `connection ${desk.connection}`;
    problem.hidden = desk.problem === null;
    problem.textContent = desk.problem ?? "";
    renderQueue();
    renderTeam(desk, team);
    conversation.render();
    visitor.render();
  };
  return { element, render };
}

/** The top bar: connection, sound, the agent, log out. */
function topBar(desk: Desk, logout: () => void): { top: HTMLElement; connection: HTMLElement } {
  const connection = h("span", { class: "connection", role: "status" });
  const sound = h("input", { type: "checkbox", id: "sound" });
  sound.checked = soundEnabled();
  sound.addEventListener("change", () => setSoundEnabled(sound.checked));
  const logoutButton = h("button", { type: "button", class: "logout" }, "Log out");
  logoutButton.addEventListener("click", logout);
  const top = h(
    "header",
    { class: "top" },
    h("strong", { class: "brand" }, "Byrd console"),
    connection,
    h("span", { class: "spacer" }),
    h("label", { class: "sound", for: "sound" }, sound, " Sound"),
    h("span", { class: "me" }, `${desk.me.name} (${desk.me.role})`),
    logoutButton,
  );
  return { top, connection };
}

/** Renders the queue, keyed by chat: each item keeps its element (and the focus) and moves only when its place changes. */
function queueRenderer(desk: Desk, queue: HTMLUListElement, queueEmpty: HTMLElement): () => void {
  const items = new Map<string, { li: HTMLLIElement; update: (entry: ChatEntry) => void }>();
  return () => {
    const entries = desk.queue();
    queueEmpty.hidden = entries.length > 0;
    const live = new Set(entries.map((e) => e.chat.id));
    for (const [id, item] of items) {
      if (!live.has(id)) {
        item.li.remove();
        items.delete(id);
      }
    }
    let previous: Element | null = null;
    for (const entry of entries) {
      let item = items.get(entry.chat.id);
      if (!item) {
        item = queueItem(desk, entry.chat.id);
        items.set(entry.chat.id, item);
      }
      item.update(entry);
      const wanted: Element | null = previous ? previous.nextElementSibling : queue.firstElementChild;
      if (wanted !== item.li) {
        if (previous) previous.after(item.li);
        else queue.prepend(item.li);
      }
      previous = item.li;
    }
  };
}

function renderTeam(desk: Desk, team: HTMLUListElement): void {
  team.replaceChildren(
    ...desk.agents.map((agent) => {
      const online = desk.online.has(agent.id);
      return h(
        "li",
        { class: online ? "online" : "offline" },
        h("span", { class: "dot", "aria-hidden": "true" }),
        `${agent.name}${agent.id === desk.me.id ? " (you)" : ""}`,
        h("span", { class: "sr-only" }, online ? ", online" : ", offline"),
      );
    }),
  );
}

function queueItem(desk: Desk, chatId: string): { li: HTMLLIElement; update: (entry: ChatEntry) => void } {
  const name = h("span", { class: "name" });
  const status = h("span", { class: "status" });
  const preview = h("span", { class: "preview" });
  const unread = h("span", { class: "unread" });
  const button = h("button", { type: "button", class: "chat-item" }, h("span", { class: "line1" }, name, unread), status, preview);
  button.addEventListener("click", () => void desk.select(chatId));
  const li = h("li", {}, button);
  const update = (entry: ChatEntry) => {
    const chat = entry.chat;
    name.textContent = visitorName(chat) + (chat.subject ? ` · ${chat.subject}` : "");
    const assignee = desk.assigneeName(chat);
    status.textContent =
      chat.status === "closed" ? "Closed" : chat.assigned_agent_id === desk.me.id ? "Yours" : assignee ? `With ${assignee}` : "Waiting";
    const last = entry.messages.get(Math.max(0, ...entry.messages.keys()));
    const who = !last || last.author.type === "guest" ? "" : last.author.id === desk.me.id ? "You: " : `${last.author.name ?? "Agent"}: `;
    preview.textContent = entry.visitorTyping ? "typing…" : last ? who + last.body : "No messages yet";
    unread.hidden = entry.unread === 0;
    unread.textContent = String(entry.unread);
    unread.setAttribute("aria-label", `${entry.unread} unread`);
    button.classList.toggle("has-unread", entry.unread > 0);
    if (desk.selected === chat.id) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
  };
  return { li, update };
}

/** The conversation's elements that change or listen after building. */
interface Conversation {
  element: HTMLElement;
  placeholder: HTMLElement;
  body: HTMLElement;
  title: HTMLElement;
  details: HTMLElement;
  take: HTMLButtonElement;
  handTo: HTMLSelectElement;
  handOver: HTMLButtonElement;
  close: HTMLButtonElement;
  older: HTMLButtonElement;
  list: HTMLOListElement;
  typing: HTMLElement;
  input: HTMLTextAreaElement;
  send: HTMLButtonElement;
  composer: HTMLFormElement;
}

function conversationView(desk: Desk): { element: HTMLElement; render: () => void } {
  const parts = buildConversation();
  listenConversation(desk, parts);
  let shown: string | null = null;
  const render = () => {
    const entry = desk.selected ? desk.chats.get(desk.selected) : undefined;
    parts.placeholder.hidden = entry !== undefined;
    parts.body.hidden = entry === undefined;
    if (!entry) return;
    const switched = shown !== entry.chat.id;
    shown = entry.chat.id;
    renderChatHeader(desk, parts, entry, switched);
    const { list, input } = parts;
    const atBottom = switched || list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    renderMessages(desk, list, entry);
    parts.typing.textContent = entry.visitorTyping ? `${visitorName(entry.chat)} is typing…` : "";
    if (atBottom) list.scrollTop = list.scrollHeight;
    if (switched && entry.chat.status !== "closed") input.focus();
  };
  return { element: parts.element, render };
}

function buildConversation(): Conversation {
  const title = h("h2", { id: "conversation-title" });
  const details = h("p", { class: "details" });
  const take = h("button", { type: "button" }, "Take");
  const handTo = h("select", { "aria-label": "Hand over to" });
  const handOver = h("button", { type: "button" }, "Hand over");
  const close = h("button", { type: "button", class: "danger" }, "Close chat");
  const actions = h("div", { class: "actions" }, take, handTo, handOver, close);
  const older = h("button", { type: "button", class: "older" }, "Load earlier messages");
  const list = h("ol", { class: "messages", "aria-labelledby": "conversation-title" });
  const typing = h("p", { class: "typing" });
  const input = h("textarea", { rows: "2", "aria-label": "Reply", placeholder: "Write a reply… (Enter sends, Shift+Enter for a new line)" });
  const send = h("button", { type: "submit" }, "Send");
  const composer = h("form", { class: "composer" }, input, send);
  const placeholder = h("p", { class: "empty" }, "Pick a chat from the queue.");
  const body = h("div", { class: "conversation-body", hidden: true }, h("header", {}, h("div", {}, title, details), actions), older, list, typing, composer);
  const element = h("section", { class: "conversation", "aria-labelledby": "conversation-title" }, placeholder, body);
  return { element, placeholder, body, title, details, take, handTo, handOver, close, older, list, typing, input, send, composer };
}

/** The buttons and the composer act on the chat selected when they are used. */
function listenConversation(desk: Desk, parts: Conversation): void {
  const { take, handTo, handOver, close, older, list, input, composer } = parts;
  take.addEventListener("click", () => desk.selected && void desk.take(desk.selected));
  handOver.addEventListener("click", () => desk.selected && handTo.value && void desk.handOver(desk.selected, handTo.value));
  close.addEventListener("click", () => desk.selected && void desk.close(desk.selected));
  older.addEventListener("click", async () => {
    if (!desk.selected) return;
    const fromBottom = list.scrollHeight - list.scrollTop;
    await desk.loadOlder(desk.selected);
    // Keep the messages the agent was reading where they were.
    list.scrollTop = list.scrollHeight - fromBottom;
  });
  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!desk.selected) return;
    desk.send(desk.selected, input.value);
    input.value = "";
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
  input.addEventListener("input", () => desk.selected && desk.typing(desk.selected, input.value.trim() !== ""));
}

/** Who the visitor is, who has the chat, and the actions that fit its state. */
function renderChatHeader(desk: Desk, parts: Conversation, entry: ChatEntry, switched: boolean): void {
  const { title, details, take, handTo, handOver, close, input, send, older } = parts;
  const chat = entry.chat;
  title.textContent = visitorName(chat);
  const assignee = chat.assigned_agent_id === desk.me.id ? "you" : desk.assigneeName(chat);
  details.textContent = [
    chat.subject,
    chat.visitor.email,
    chat.status === "closed" ? "Closed" : assignee ? `Assigned to ${assignee}` : "Waiting for an agent",
    `Started ${clock(chat.created_at)}`,
  ]
    .filter(Boolean)
    .join(" · ");
  const open = chat.status !== "closed";
  take.hidden = !open || chat.assigned_agent_id === desk.me.id;
  const others = desk.agents.filter((a) => a.id !== chat.assigned_agent_id);
  if (switched || handTo.options.length !== others.length) {
    handTo.replaceChildren(...others.map((a) => h("option", { value: a.id }, `${a.name}${desk.online.has(a.id) ? " (online)" : ""}`)));
  }
  handTo.hidden = handOver.hidden = !open || others.length === 0;
  close.hidden = !open;
  input.disabled = send.disabled = !open;
  older.hidden = !entry.hasOlder;
}

/** The message list, redrawn: stored messages by `seq`, then the agent's sends still pending or failed. */
function renderMessages(desk: Desk, list: HTMLOListElement, entry: ChatEntry): void {
  const chat = entry.chat;
  const messages = [...entry.messages.values()].sort((a, b) => a.seq - b.seq);
  list.replaceChildren(
    ...messages.map((m) => {
      const mine = m.author.id === desk.me.id;
      const seen = m.author.type === "agent" && m.seq <= entry.visitorReadSeq;
      return h(
        "li",
        { class: `message ${m.author.type}${mine ? " mine" : ""}`, "data-seq": String(m.seq) },
        h("span", { class: "meta" }, `${m.author.type === "guest" ? visitorName(chat) : (m.author.name ?? "Agent")} · ${clock(m.created_at)}`),
        h("p", { class: "body" }, m.body),
        seen ? h("span", { class: "seen" }, "Seen") : null,
      );
    }),
    ...entry.outgoing.map((o) => {
      const li = h(
        "li",
        { class: `message agent mine ${o.state}` },
        h("p", { class: "body" }, o.body),
        h("span", { class: "seen" }, o.state === "pending" ? "Sending…" : `Not sent: ${o.failure ?? ""}`),
      );
      if (o.state === "failed") {
        const retry = h("button", { type: "button", class: "retry" }, "Retry");
        retry.addEventListener("click", () => desk.send(chat.id, o.body, o));
        li.append(retry);
      }
      return li;
    }),
  );
}
