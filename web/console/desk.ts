/**
 * The agent's desk, without any DOM: the queue of open and assigned chats,
 * each with its newest message, unread count, the visitor's typing and
 * read position; the team and who is online; the conversation on screen
 * with its history; and the actions (take, hand over, close, send, type,
 * mark read), on `@byrd/sdk`.
 *
 * The queue loads in a few requests whatever its length: each page of
 * `GET /v1/chat-summaries` (250 chats) carries every chat's newest message
 * and the read positions of this agent and of the visitor. One realtime
 * connection then follows the whole queue (`subscribe_queue`): every
 * chat's messages, typing and reads arrive without a `subscribe` per chat,
 * so a queue of thousands costs no history reads and no subscription
 * slots. A new chat arrives as `chat_updated` and its messages through
 * the queue. Only the conversation on screen is subscribed, from the
 * newest message this page has (a replay of what came since, if
 * anything), so it is complete and in order; it pages older messages over
 * REST as the agent scrolls back. After a reconnect the summaries are
 * read again: nothing of the queue is replayed, so a chat's `last_seq`
 * there says what came meanwhile.
 *
 * Unread counts are the chat's `last_seq` less this agent's read position,
 * which the API keeps (in the summaries) and the agent's `read` frames
 * move, from this tab or another; the visitor's position, from the same
 * places, shows as "Seen".
 */
import {
  ByrdError,
  RealtimeClient,
  assignChat,
  closeChat,
  getChat,
  listAgents,
  listChatSummariesAll,
  listMessages,
  randomUuid,
  type Agent,
  type AgentSession,
  type Chat,
  type ChatSummary,
  type Client,
  type ConnectionState,
  type Message,
} from "@byrd/sdk";

export interface Outgoing {
  clientMsgId: string;
  body: string;
  state: "pending" | "failed";
  failure: string | null;
}

export interface ChatEntry {
  chat: Chat;
  /** Messages known, by `seq`. */
  messages: Map<number, Message>;
  /** Sends not yet stored, in the order written. */
  outgoing: Outgoing[];
  /** Messages after this agent's read position; 0 until that position is known. */
  unread: number;
  /** This agent's read position, or `null` until it is loaded. */
  readSeq: number | null;
  /** The lowest `seq` loaded; older messages are paged on demand. */
  oldest: number | null;
  hasOlder: boolean;
  visitorTyping: boolean;
  /** How far the visitor has read. */
  visitorReadSeq: number;
  /** Set when a message arrived and the entry moved up the queue. */
  activity: number;
}

const TYPING_TIMEOUT_MS = 6000;
const PAGE = 30;
/** The largest page of chat summaries the API gives. */
const SUMMARY_PAGE = 250;

export class Desk {
  readonly chats = new Map<string, ChatEntry>();
  agents: Agent[] = [];
  readonly online = new Set<string>();
  selected: string | null = null;
  connection: ConnectionState["status"] = "idle";
  /** A failure to show the agent, cleared by the next success. */
  problem: string | null = null;
  onChange: () => void = () => {};
  /** A new chat arrived, or a visitor wrote where the agent is not looking. */
  onAttention: () => void = () => {};
  /** The session is over (revoked, expired beyond refresh): back to the login screen. */
  onEnded: (error: ByrdError) => void = () => {};
  /** A line for screen readers: a visitor's new message. */
  onAnnounce: (text: string) => void = () => {};

  readonly session: AgentSession;
  readonly api: Client;
  readonly rt: RealtimeClient;
  #typingTimers = new Map<string, ReturnType<typeof setTimeout>>();
  #typingSentAt = new Map<string, number>();
  #ended = false;
  #connectedBefore = false;
  /** The conversation subscribed for (the one on screen), if any. */
  #subscribed: string | null = null;

  constructor(session: AgentSession) {
    this.session = session;
    this.api = session.client();
    this.rt = new RealtimeClient({ client: this.api });
    this.rt.subscribeQueue();
    this.rt.on("message", ({ message }) => this.#onMessage(message));
    this.rt.on("chat_updated", ({ chat }) => this.#onChat(chat, true));
    this.rt.on("presence", ({ agent_id, status }) => {
      if (status === "online") this.online.add(agent_id);
      else this.online.delete(agent_id);
      this.onChange();
    });
    this.rt.on("typing", ({ chat_id, author, active }) => {
      const entry = this.chats.get(chat_id);
      if (!entry || author.type !== "guest") return;
      this.#setTyping(entry, active);
    });
    this.rt.on("read", ({ chat_id, author, seq }) => {
      const entry = this.chats.get(chat_id);
      if (!entry) return;
      if (author.type === "guest") entry.visitorReadSeq = Math.max(entry.visitorReadSeq, seq);
      else if (author.id === this.me.id) this.#setRead(entry, seq);
      this.onChange();
    });
    this.rt.on("state", ({ state }) => {
      if (state.status === "connected" && this.#connectedBefore) void this.#resync();
      if (state.status === "connected") this.#connectedBefore = true;
      this.connection = state.status;
      if (state.status === "connected") this.online.add(this.me.id);
      if (state.status === "closed" && state.error) this.end(state.error);
      this.onChange();
    });
  }

  get me(): Agent {
    return this.session.agent;
  }

  /** Loads the team and the queue, then goes live. */
  async start(): Promise<void> {
    this.rt.connect();
    try {
      const [team] = await Promise.all([listAgents(this.api), this.#loadQueue("open"), this.#loadQueue("assigned")]);
      this.agents = team.agents;
    } catch (error) {
      this.#failed(error, "The queue could not be loaded.");
    }
    this.onChange();
  }

  /** Ordered for the queue: chats waiting for someone first, then by newest activity. */
  queue(): ChatEntry[] {
    return [...this.chats.values()]
      .filter((e) => e.chat.status !== "closed" || e.chat.id === this.selected)
      .sort((a, b) => b.activity - a.activity);
  }

  totalUnread(): number {
    let total = 0;
    for (const entry of this.chats.values()) total += entry.unread;
    return total;
  }

  /** Who has the chat, by name; the chat carries it, so an agent added after this page loaded is named too. */
  assigneeName(chat: Chat): string | null {
    return chat.assigned_agent_id === null ? null : chat.assigned_agent_name;
  }

  async select(chatId: string): Promise<void> {
    const entry = this.chats.get(chatId);
    if (!entry) return;
    this.selected = chatId;
    this.#follow(entry);
    this.onChange();
    if (entry.oldest === null || (entry.hasOlder && entry.messages.size < PAGE)) await this.loadOlder(chatId);
    this.markSeen();
  }

  /** Shows a chat the queue may not hold (a visitor's earlier one, closed perhaps), as `select` does. */
  async open(chat: Chat): Promise<void> {
    if (!this.chats.has(chat.id)) this.chats.set(chat.id, newEntry(chat));
    await this.select(chat.id);
  }

  /** Pages the history back from the oldest message loaded. */
  async loadOlder(chatId: string): Promise<void> {
    const entry = this.chats.get(chatId);
    if (!entry) return;
    const before = entry.oldest ?? entry.chat.last_seq + 1;
    if (before <= 1) {
      entry.hasOlder = false;
      return this.onChange();
    }
    try {
      const page = await listMessages(this.api, chatId, { before_seq: before, limit: PAGE });
      for (const message of page.messages) entry.messages.set(message.seq, message);
      const first = page.messages[0]?.seq ?? before;
      entry.oldest = Math.min(first, entry.oldest ?? first);
      entry.hasOlder = page.has_more && first > 1;
      this.problem = null;
    } catch (error) {
      this.#failed(error, "Older messages could not be loaded.");
    }
    this.onChange();
  }

  /** Marks the conversation on screen read, when the agent can see it. */
  markSeen(): void {
    const entry = this.selected ? this.chats.get(this.selected) : undefined;
    if (!entry || document.visibilityState !== "visible") return;
    const last = Math.max(entry.chat.last_seq, ...entry.messages.keys());
    if (last > (entry.readSeq ?? 0) && this.rt.markRead(entry.chat.id, last)) this.#setRead(entry, last);
    this.onChange();
  }

  async take(chatId: string): Promise<void> {
    await this.#act(() => assignChat(this.api, chatId), "The chat could not be taken.");
  }

  async handOver(chatId: string, agentId: string): Promise<void> {
    await this.#act(() => assignChat(this.api, chatId, { agent_id: agentId }), "The chat could not be handed over.");
  }

  async close(chatId: string): Promise<void> {
    await this.#act(() => closeChat(this.api, chatId), "The chat could not be closed.");
  }

  send(chatId: string, body: string, retry?: Outgoing): void {
    const entry = this.chats.get(chatId);
    const text = body.trim();
    if (!entry || text === "") return;
    this.typing(chatId, false);
    const out: Outgoing = retry ?? { clientMsgId: randomUuid(), body: text, state: "pending", failure: null };
    out.state = "pending";
    out.failure = null;
    if (!retry) entry.outgoing.push(out);
    this.onChange();
    this.rt.send(chatId, out.body, { clientMsgId: out.clientMsgId }).then(
      (message) => this.#onMessage(message),
      (error: unknown) => {
        out.state = "failed";
        out.failure = error instanceof ByrdError ? error.message : "not sent";
        this.onChange();
      },
    );
  }

  /** The agent is (or stopped) typing in a chat; at most one frame every few seconds. */
  typing(chatId: string, active: boolean): void {
    const last = this.#typingSentAt.get(chatId) ?? 0;
    if (!active) {
      if (last !== 0) this.rt.typing(chatId, false);
      this.#typingSentAt.delete(chatId);
    } else if (Date.now() - last > 3000) {
      this.rt.typing(chatId, true);
      this.#typingSentAt.set(chatId, Date.now());
    }
  }

  async logout(): Promise<void> {
    this.#ended = true;
    this.rt.close();
    try {
      await this.session.logout();
    } catch {
      // The tokens are dropped here either way.
    }
  }

  /** Ends the desk because the session ended. */
  end(error: ByrdError): void {
    if (this.#ended) return;
    this.#ended = true;
    this.rt.close();
    this.onEnded(error);
  }

  // Events.

  async #loadQueue(status: "open" | "assigned"): Promise<Set<string>> {
    const seen = new Set<string>();
    for await (const summary of listChatSummariesAll(this.api, { status, limit: SUMMARY_PAGE })) {
      seen.add(summary.chat.id);
      if (!this.chats.has(summary.chat.id)) this.#onChat(summary.chat, false);
      // The newest message before the chat's new `last_seq`: one that came while away is news.
      this.#onSummary(summary);
      this.#onChat(summary.chat, false);
    }
    return seen;
  }

  /** What a summary says of a chat in the queue: its newest message and both read positions. */
  #onSummary({ chat, last_message, read_seq, visitor_read_seq }: ChatSummary): void {
    const entry = this.chats.get(chat.id);
    if (!entry) return;
    if (last_message) this.#onMessage(last_message);
    entry.visitorReadSeq = Math.max(entry.visitorReadSeq, visitor_read_seq ?? 0);
    this.#setRead(entry, read_seq ?? 0);
  }

  /** Subscribes to the conversation on screen from the newest message this page has, instead of the one before. */
  #follow(entry: ChatEntry): void {
    if (this.#subscribed === entry.chat.id) return;
    if (this.#subscribed !== null) this.rt.unsubscribe(this.#subscribed);
    this.#subscribed = entry.chat.id;
    this.rt.subscribe(entry.chat.id, Math.max(0, ...entry.messages.keys()));
  }

  /**
   * After a reconnect: `chat_updated`, the queue's messages and `read`
   * frames are not replayed, so the summaries are read again (chats
   * started, taken or closed meanwhile; each chat's newest message and
   * read positions). A chat no longer open or assigned was closed.
   */
  async #resync(): Promise<void> {
    try {
      const [open, assigned] = await Promise.all([this.#loadQueue("open"), this.#loadQueue("assigned")]);
      for (const entry of [...this.chats.values()]) {
        if (entry.chat.status === "closed" || open.has(entry.chat.id) || assigned.has(entry.chat.id)) continue;
        this.#onChat(await getChat(this.api, entry.chat.id), false);
      }
    } catch (error) {
      this.#failed(error, "The queue could not be brought up to date.");
    }
    this.onChange();
  }

  #onChat(chat: Chat, live: boolean): void {
    let entry = this.chats.get(chat.id);
    if (!entry) {
      if (chat.status === "closed") return;
      entry = newEntry(chat);
      this.chats.set(chat.id, entry);
      // A chat that arrives live is new: nothing in it is read yet. A loaded one's positions come with its summary.
      if (live) this.#setRead(entry, 0);
      if (live && chat.status === "open") this.onAttention();
    } else if (Date.parse(chat.updated_at) >= Date.parse(entry.chat.updated_at)) {
      entry.chat = { ...chat, last_seq: Math.max(chat.last_seq, entry.chat.last_seq) };
    }
    if (chat.status === "closed") {
      if (this.#subscribed === chat.id) {
        this.rt.unsubscribe(chat.id);
        this.#subscribed = null;
      }
      entry.readSeq = Math.max(entry.readSeq ?? 0, entry.chat.last_seq);
      entry.unread = 0;
      if (this.selected !== chat.id) this.chats.delete(chat.id);
    }
    this.onChange();
  }

  #onMessage(message: Message): void {
    const entry = this.chats.get(message.chat_id);
    if (!entry) return;
    // News is a message newer than this page knew of; the newest one, replayed as the queue loads, is not.
    const news = message.seq > entry.chat.last_seq;
    entry.messages.set(message.seq, message);
    entry.oldest = Math.min(entry.oldest ?? message.seq, message.seq);
    entry.hasOlder = entry.oldest > 1;
    entry.chat = { ...entry.chat, last_seq: Math.max(entry.chat.last_seq, message.seq) };
    entry.outgoing = entry.outgoing.filter((o) => o.clientMsgId !== message.client_msg_id || message.author.id !== this.me.id);
    this.#recount(entry);
    if (news) {
      entry.activity = Date.now();
      const looking = this.selected === message.chat_id && document.visibilityState === "visible";
      if (message.author.type === "guest") {
        this.#setTyping(entry, false);
        if (!looking) this.onAttention();
        this.onAnnounce(`${visitorName(entry.chat)}: ${message.body}`);
      }
      if (looking) this.markSeen();
    }
    this.onChange();
  }

  #setTyping(entry: ChatEntry, active: boolean): void {
    const timer = this.#typingTimers.get(entry.chat.id);
    if (timer) clearTimeout(timer);
    entry.visitorTyping = active;
    if (active) this.#typingTimers.set(entry.chat.id, setTimeout(() => this.#setTyping(entry, false), TYPING_TIMEOUT_MS));
    this.onChange();
  }

  #setRead(entry: ChatEntry, seq: number): void {
    entry.readSeq = Math.max(seq, entry.readSeq ?? 0);
    this.#recount(entry);
  }

  #recount(entry: ChatEntry): void {
    entry.unread = entry.readSeq === null ? 0 : Math.max(0, entry.chat.last_seq - entry.readSeq);
  }

  async #act(action: () => Promise<Chat>, failure: string): Promise<void> {
    try {
      this.#onChat(await action(), false);
      this.problem = null;
    } catch (error) {
      this.#failed(error, failure);
    }
    this.onChange();
  }

  #failed(error: unknown, message: string): void {
    if (error instanceof ByrdError && error.kind === "auth") return this.end(error);
    this.problem = message;
  }
}

/** A chat's entry before anything but the chat is known. */
function newEntry(chat: Chat): ChatEntry {
  return {
    chat,
    messages: new Map(),
    outgoing: [],
    unread: 0,
    readSeq: null,
    oldest: null,
    hasOlder: chat.last_seq > 0,
    visitorTyping: false,
    visitorReadSeq: 0,
    activity: Date.parse(chat.updated_at) || Date.now(),
  };
}

/** How a chat's visitor is named in the console: the name they gave, else a short id. */
export function visitorName(chat: Chat): string {
  return chat.visitor.name ?? `Visitor ${chat.visitor.id.slice(-4)}`;
}
