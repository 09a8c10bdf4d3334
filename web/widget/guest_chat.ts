/**
 * The visitor's side of one chat, without any DOM: what the widget shows
 * (`lines`, the agent, typing, connection, notices) and what it does
 * (start, send, retry, type, mark read), on `@byrd/sdk`.
 *
 * A chat lives as long as its guest token: it is started by the first
 * message, kept in storage so a reload or another tab resumes it, and
 * ends when an agent closes it or its token can no longer be renewed; the
 * next message then starts a new one. The realtime client replays the
 * chat's history on connect and delivers each message once, in `seq`
 * order; lines are keyed by `client_msg_id` while pending and by `seq`
 * once stored, so a message acknowledged and delivered (in either order,
 * in this tab or another) is shown once. Who starts each chat, and what
 * the start carries, is the `Visitor`'s (`visitor.ts`).
 */
import {
  ByrdError,
  Client,
  GuestSession,
  RealtimeClient,
  apiErrorOf,
  getChat,
  listReads,
  randomUuid,
  readClaims,
  type Chat,
  type ConnectionState,
  type Message,
} from "@byrd/sdk";

import { closedSentence, describe } from "./sentences.js";
import { ChatStorage, type PendingSend } from "./storage.js";
import type { Visitor } from "./visitor.js";

/** pending: not acknowledged yet; sent: stored; read: the agent read it; failed: refused, may be retried. */
export type Delivery = "pending" | "sent" | "read" | "failed";

export interface Line {
  /** message: written by someone; joined: an agent took the chat (`body` says who). */
  kind: "message" | "joined";
  clientMsgId: string | null;
  seq: number | null;
  /** A `joined` line's place: after the message with this `seq`. */
  after: number;
  body: string;
  mine: boolean;
  author: string | null;
  at: string | null;
  delivery: Delivery;
  failure: string | null;
}

/** online: connected; connecting: first connection; reconnecting: lost it, trying again. */
export type Connection = "none" | "connecting" | "online" | "reconnecting";

/** How long a typing indicator stays without news from the typist. */
const TYPING_TIMEOUT_MS = 6000;

export class GuestChat {
  /** Every line of the chat; `ordered()` gives the display order. */
  readonly lines: Line[] = [];
  agentName: string | null = null;
  /** An agent took the chat (its name may come later, with its first message or typing). */
  agentJoined = false;
  typingName: string | null = null;
  connection: Connection = "none";
  /** A sentence about the chat's life: resumed, closed, expired. */
  notice: string | null = null;
  /** Messages from the agent the visitor has not seen. */
  unread = 0;
  /** Set by the view: whether the visitor can see the messages now. */
  visible = false;
  onChange: () => void = () => {};

  readonly #client: Client;
  readonly #storage: ChatStorage;
  readonly #visitor: Visitor;
  #session: GuestSession | null = null;
  #rt: RealtimeClient | null = null;
  #starting: Promise<GuestSession> | null = null;
  #visitorId: string | null = null;
  #agentId: string | null = null;
  #pending = new Map<string, PendingSend>();
  #agentReadSeq = 0;
  /** The visitor's own read position: what is shown as seen. */
  #readSeq = 0;
  #everConnected = false;
  #typingTimer: ReturnType<typeof setTimeout> | null = null;
  #typingSentAt = 0;
  #typingStop: ReturnType<typeof setTimeout> | null = null;

  constructor(server: string, visitor: Visitor) {
    this.#client = new Client({ baseUrl: server });
    this.#storage = new ChatStorage(server);
    this.#visitor = visitor;
    visitor.onLogout = (chatId) => {
      if (chatId === this.chatId) this.#end("You are logged out, so your chat is no longer shown here. Write below to start a new one.");
    };
    // The browser knows first when the network goes; the socket notices at its next heartbeat.
    window.addEventListener("offline", () => {
      if (this.connection === "online") this.connection = "reconnecting";
      this.onChange();
    });
    window.addEventListener("online", () => {
      // A socket that survived the blip never changed state: say so here.
      if (this.#rt?.state.status === "connected") this.connection = "online";
      this.onChange();
    });
    window.addEventListener("storage", (event) => {
      if (event.key === this.#storage.key) this.#adoptStored();
    });
  }

  get chatId(): string | null {
    return this.#session?.chatId ?? null;
  }

  /** Resumes the stored chat, if there is one and it can still be resumed. */
  resume(): void {
    const saved = this.#storage.load();
    if (!saved) return;
    const claims = readClaims(saved.token);
    const exp = typeof claims?.exp === "number" ? claims.exp * 1000 : 0;
    if (exp <= Date.now()) {
      this.#storage.clear();
      this.notice = "Your previous chat has expired. Write below to start a new one.";
      return this.onChange();
    }
    this.#readSeq = saved.readSeq;
    this.#open(GuestSession.resume(this.#client, saved.token));
    void this.#checkStillOpen();
    for (const pending of saved.pending) this.#submit(this.#addLine(pending.clientMsgId, pending.body));
  }

  /** Continues another open chat of the verified visitor's here, as a reload resumes one. */
  async reopen(chatId: string): Promise<void> {
    try {
      const token = await this.#visitor.tokenFor(chatId);
      if (!token || chatId === this.chatId) return;
      this.#storage.save({ token, pending: [], readSeq: 0 });
      this.#adoptStored();
    } catch {
      this.notice = "That chat could not be continued.";
      this.onChange();
    }
  }

  /** Sends a message, starting a chat first when there is none. */
  send(body: string): void {
    const text = body.trim();
    if (text === "") return;
    this.typing(false);
    this.#submit(this.#addLine(randomUuid(), text));
  }

  /** Tries a failed message again, under its first `client_msg_id`. */
  retry(line: Line): void {
    if (line.delivery !== "failed") return;
    this.#submit(line);
  }

  /** The visitor is (or stopped) typing; throttled to one frame every few seconds. */
  typing(active: boolean): void {
    const rt = this.#rt;
    const chatId = this.chatId;
    if (!rt || !chatId) return;
    if (this.#typingStop) clearTimeout(this.#typingStop);
    this.#typingStop = null;
    if (!active) {
      if (this.#typingSentAt !== 0) rt.typing(chatId, false);
      this.#typingSentAt = 0;
      return;
    }
    if (Date.now() - this.#typingSentAt > 3000) {
      rt.typing(chatId, true);
      this.#typingSentAt = Date.now();
    }
    this.#typingStop = setTimeout(() => this.typing(false), 4000);
  }

  /** Marks everything shown as read, when the visitor can see it. */
  markSeen(): void {
    this.unread = 0;
    const last = this.#lastSeq();
    const chatId = this.chatId;
    if (!this.visible || !chatId || last <= this.#readSeq) return this.onChange();
    if (this.#rt?.markRead(chatId, last)) {
      this.#readSeq = last;
      this.#save();
    }
    this.onChange();
  }

  /** Lines in display order: stored ones by `seq` (each joined line after its message), then pending ones as written. */
  ordered(): Line[] {
    const place = (l: Line) => (l.kind === "joined" ? l.after + 0.5 : (l.seq as number));
    const placed = this.lines.filter((l) => l.seq !== null || l.kind === "joined").sort((a, b) => place(a) - place(b));
    return [...placed, ...this.lines.filter((l) => l.seq === null && l.kind === "message")];
  }

  // The chat's life.

  #open(session: GuestSession): void {
    this.#session = session;
    const sub = readClaims(session.guestToken ?? "")?.sub;
    this.#visitorId = typeof sub === "string" ? sub : null;
    session.onToken = () => this.#save();
    const rt = new RealtimeClient({ client: session.client() });
    this.#rt = rt;
    rt.on("message", ({ message }) => this.#onMessage(message));
    rt.on("chat_updated", ({ chat }) => this.#onChat(chat, true));
    rt.on("typing", ({ chat_id, author, active }) => {
      if (chat_id !== session.chatId || author.type !== "agent") return;
      this.#showTyping(active ? (author.name ?? "An agent") : null, author.id);
    });
    rt.on("read", ({ chat_id, author, seq }) => {
      if (chat_id === session.chatId) this.#onRead(author.type, seq);
    });
    rt.on("state", ({ state }) => this.#onState(rt, state));
    rt.connect();
    this.connection = "connecting";
    this.#save();
  }

  /**
   * A resumed chat may have been closed or taken while the page was away,
   * and read: the stored read positions say what the agent has seen.
   */
  async #checkStillOpen(): Promise<void> {
    const session = this.#session;
    if (!session) return;
    try {
      const chat = await getChat(session.client(), session.chatId);
      this.#onChat(chat, false);
      void this.#visitor.learn(session, chat);
      const { reads } = await listReads(session.client(), session.chatId);
      if (session !== this.#session) return;
      for (const read of reads) this.#onRead(read.author.type, read.seq);
    } catch (error) {
      // The realtime client reports a token that no longer works.
      if (apiErrorOf(error)?.code === "chat_not_found") this.#end("Your previous chat is gone. Write below to start a new one.");
    }
  }

  /**
   * The chat's new state; `live` when it is news (a `chat_updated`), not a
   * state read back on resume, which adds nothing to the log.
   */
  #onChat(chat: Chat, live: boolean): void {
    if (chat.id !== this.chatId) return;
    if (chat.status === "closed") return this.#end(closedSentence(chat));
    if (chat.assigned_agent_id !== null && chat.assigned_agent_id !== this.#agentId) {
      const first = this.#agentId === null;
      this.#agentId = chat.assigned_agent_id;
      this.agentJoined = true;
      this.agentName = chat.assigned_agent_name;
      if (live || !first) {
        const who = chat.assigned_agent_name ?? "An agent";
        this.lines.push({
          kind: "joined",
          clientMsgId: null,
          seq: null,
          after: Math.max(chat.last_seq, this.#lastSeq()),
          body: first ? `${who} joined the chat` : `${who} took over the chat`,
          mine: false,
          author: null,
          at: chat.updated_at,
          delivery: "sent",
          failure: null,
        });
      }
    }
    this.onChange();
  }

  /** A read position: an agent's marks the visitor's messages read; the visitor's own comes from another tab or a reload. */
  #onRead(reader: "agent" | "guest", seq: number): void {
    if (reader === "agent") {
      this.#agentReadSeq = Math.max(this.#agentReadSeq, seq);
      for (const line of this.lines) if (line.mine && line.seq !== null && line.seq <= seq && line.delivery === "sent") line.delivery = "read";
    } else if (seq > this.#readSeq) {
      this.#readSeq = seq;
      this.unread = this.lines.filter((l) => l.kind === "message" && !l.mine && l.seq !== null && l.seq > seq).length;
      this.#save();
    }
    this.onChange();
  }

  #onState(rt: RealtimeClient, state: ConnectionState): void {
    if (rt !== this.#rt) return;
    if (state.status === "connected") {
      this.connection = "online";
      // chat_updated is not replayed: a reconnect asks whether the chat was closed or taken meanwhile.
      if (this.#everConnected) void this.#checkStillOpen();
      this.#everConnected = true;
      if (this.visible) this.markSeen();
    } else if (state.status === "closed") {
      this.connection = "none";
      if (state.error instanceof ByrdError && state.error.kind === "auth") {
        this.#end("This chat can no longer be resumed. Write below to start a new one.");
      }
    } else if (state.status === "reconnecting" || this.#everConnected) {
      this.connection = "reconnecting";
    }
    this.onChange();
  }

  /** The chat is over: the next message starts a new one. Its lines stay on screen until then. */
  #end(notice: string): void {
    const rt = this.#rt;
    this.#rt = null;
    this.#session = null;
    this.#starting = null;
    this.#agentId = null;
    this.agentJoined = false;
    this.agentName = null;
    this.typingName = null;
    this.connection = "none";
    this.#pending.clear();
    this.#storage.clear();
    this.notice = notice;
    rt?.close();
    this.onChange();
  }

  /** Another tab started, resumed or ended a chat: follow it. */
  #adoptStored(): void {
    const saved = this.#storage.load();
    const chatId = saved ? chatIdOf(saved.token) : null;
    if (chatId === this.chatId) return;
    const rt = this.#rt;
    this.#rt = null;
    this.#session = null;
    rt?.close();
    this.lines.length = 0;
    this.#pending.clear();
    this.#agentReadSeq = 0;
    this.#readSeq = 0;
    this.notice = null;
    this.agentJoined = false;
    this.agentName = null;
    this.#agentId = null;
    this.connection = "none";
    if (saved) this.resume();
    this.onChange();
  }

  // Messages.

  #addLine(clientMsgId: string, body: string): Line {
    const line: Line = { kind: "message", clientMsgId, seq: null, after: 0, body, mine: true, author: null, at: null, delivery: "pending", failure: null };
    this.lines.push(line);
    return line;
  }

  #submit(line: Line): void {
    line.delivery = "pending";
    line.failure = null;
    const session = this.#ensureSession();
    // After ensureSession, which clears the lines of a chat that ended.
    this.onChange();
    void session.then(
      (session) => {
        const rt = this.#rt;
        const clientMsgId = line.clientMsgId as string;
        if (!rt) return this.#fail(line, "The chat ended before this message was sent.");
        this.#pending.set(clientMsgId, { clientMsgId, body: line.body });
        this.#save();
        rt.send(session.chatId, line.body, { clientMsgId }).then(
          (message) => {
            this.#pending.delete(clientMsgId);
            this.#save();
            this.#onMessage(message);
          },
          (error: unknown) => {
            this.#pending.delete(clientMsgId);
            this.#save();
            this.#fail(line, describe(error));
          },
        );
      },
      (error: unknown) => this.#fail(line, describe(error)),
    );
  }

  #fail(line: Line, reason: string): void {
    if (line.seq !== null) return;
    line.delivery = "failed";
    line.failure = reason;
    this.onChange();
  }

  #ensureSession(): Promise<GuestSession> {
    if (this.#session) return Promise.resolve(this.#session);
    if (this.#starting) return this.#starting;
    // A new chat: the lines of a chat that ended go, except what waits to be sent in the new one.
    for (let i = this.lines.length - 1; i >= 0; i--) {
      const line = this.lines[i] as Line;
      if (line.seq !== null || line.kind === "joined") this.lines.splice(i, 1);
    }
    this.#agentReadSeq = 0;
    this.#readSeq = 0;
    this.notice = null;
    const starting = this.#visitor.start(this.#client).then(
      (session) => {
        this.#starting = null;
        this.#open(session);
        return session;
      },
      (error: unknown) => {
        this.#starting = null;
        throw error;
      },
    );
    this.#starting = starting;
    return starting;
  }

  #onMessage(message: Message): void {
    if (message.chat_id !== this.chatId) return;
    const mine = message.author.type === "guest" && message.author.id === this.#visitorId;
    let line =
      this.lines.find((l) => l.seq === message.seq) ??
      (mine ? this.lines.find((l) => l.clientMsgId === message.client_msg_id) : undefined);
    if (!line) {
      line = {
        kind: "message",
        clientMsgId: message.client_msg_id,
        seq: null,
        after: 0,
        body: message.body,
        mine,
        author: null,
        at: null,
        delivery: "sent",
        failure: null,
      };
      this.lines.push(line);
      if (!mine && message.seq > this.#readSeq) this.unread++;
    }
    line.seq = message.seq;
    line.at = message.created_at;
    line.failure = null;
    if (mine) {
      line.delivery = message.seq <= this.#agentReadSeq ? "read" : "sent";
    } else {
      line.delivery = "sent";
      line.author = message.author.name;
      if (message.author.type === "agent") {
        // History may hold earlier agents' messages: the header names the one who has the chat.
        if (this.#agentId === null || this.#agentId === message.author.id) this.agentName = message.author.name;
        this.agentJoined = true;
        this.#agentId ??= message.author.id;
        this.#showTyping(null);
      }
    }
    if (this.visible) this.markSeen();
    else this.onChange();
  }

  #showTyping(name: string | null, agentId?: string): void {
    if (this.#typingTimer) clearTimeout(this.#typingTimer);
    this.#typingTimer = name === null ? null : setTimeout(() => this.#showTyping(null), TYPING_TIMEOUT_MS);
    if (name !== null && (this.#agentId === null || this.#agentId === agentId)) {
      this.agentName = name;
      this.agentJoined = true;
    }
    this.typingName = name;
    this.onChange();
  }

  #lastSeq(): number {
    return this.lines.reduce((max, l) => Math.max(max, l.seq ?? 0), 0);
  }

  #save(): void {
    const token = this.#session?.guestToken;
    if (!token) return;
    this.#storage.save({ token, pending: [...this.#pending.values()], readSeq: this.#readSeq });
  }
}

function chatIdOf(token: string): string | null {
  const chat = readClaims(token)?.chat as { id?: unknown } | undefined;
  return typeof chat?.id === "string" ? chat.id : null;
}
