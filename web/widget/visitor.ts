/**
 * The visitor behind the widget's chats, across them: what every chat start
 * carries and what it teaches.
 *
 * - The visitor token (`byrd_vt_...`, in storage per server) is sent at
 *   every start and the answer's kept, so the next chat, after a close or a
 *   week, is the same visitor's and the agent sees the earlier ones.
 * - The page's context (`context.ts`), read at each start.
 * - The identity token the page vouches with (`data-identity-token`,
 *   `Byrd.identify`). One the server refuses (`identity_invalid`,
 *   `identity_expired`) is dropped with one console warning, never
 *   naming the token, and the chat starts anonymous: a site's broken
 *   login must not take its chat down with it.
 * - A verified visitor's earlier chats, listed with a guest token of
 *   theirs (`GET /v1/visitor/chats`); an open one can be continued here.
 */
import { Client, GuestSession, apiErrorOf, type Chat, type CreateChatRequest } from "@byrd/sdk";

import { pageContext } from "./context.js";
import { VisitorTokenStorage } from "./storage.js";

/** How many earlier chats the widget lists. */
const EARLIER_LIMIT = 10;

export class Visitor {
  /** The verified visitor's other chats, newest first; empty for an anonymous visitor. */
  earlier: Chat[] = [];
  onChange: () => void = () => {};
  /** The page logged its user out: their chat (this id) must not stay on a shared browser. */
  onLogout: (chatId: string) => void = () => {};

  readonly #storage: VisitorTokenStorage;
  readonly #subject: string | null;
  /** The stored token, also held here for when storage refuses writes. */
  #token: string | null;
  #identity: string | null;
  /** The newest verified chat's session: what lists and opens the visitor's chats. */
  #verified: GuestSession | null = null;

  constructor(server: string, subject: string | null, identity: string | null) {
    this.#storage = new VisitorTokenStorage(server);
    this.#subject = subject;
    this.#token = this.#storage.load();
    this.#identity = identity;
  }

  /** The page's user logged in (a token) or out (`null`); the next chat start carries it. */
  identify(token: string | null): void {
    this.#identity = token;
    const verified = this.#verified;
    if (token === null && verified) {
      this.#verified = null;
      this.earlier = [];
      this.onLogout(verified.chatId);
      this.onChange();
    }
  }

  /** A guest token for another open chat of this verified visitor's. */
  async tokenFor(chatId: string): Promise<string | null> {
    const session = await this.#verified?.openOwnChat(chatId);
    return session?.guestToken ?? null;
  }

  /** Starts a chat as this visitor; anonymous when the identity is refused. */
  async start(client: Client): Promise<GuestSession> {
    const request: CreateChatRequest = { context: pageContext() };
    if (this.#subject) request.subject = this.#subject;
    this.#token = this.#storage.load() ?? this.#token;
    if (this.#token) request.visitor_token = this.#token;
    const identity = this.#identity;
    if (identity) request.identity = identity;
    let started: Awaited<ReturnType<typeof GuestSession.start>>;
    try {
      started = await GuestSession.start(client, request);
    } catch (error) {
      const code = apiErrorOf(error)?.code;
      if (!identity || (code !== "identity_invalid" && code !== "identity_expired")) throw error;
      // Warned once: this page's later starts go anonymous too, until it gives another token.
      if (this.#identity === identity) this.#identity = null;
      console.warn(`Byrd: the visitor's identity token was refused (${code}); chatting as an anonymous visitor.`);
      delete request.identity;
      started = await GuestSession.start(client, request);
    }
    if (started.visitorToken) {
      this.#token = started.visitorToken;
      this.#storage.save(started.visitorToken);
    }
    void this.learn(started.session, started.chat);
    return started.session;
  }

  /** A chat of this visitor's is on screen: a verified one lists the visitor's others. */
  async learn(session: GuestSession, chat: Chat): Promise<void> {
    if (!chat.visitor.verified) return;
    this.#verified = session;
    try {
      const page = await session.ownChats({ limit: EARLIER_LIMIT + 1 });
      this.earlier = page.chats.filter((c) => c.id !== session.chatId).slice(0, EARLIER_LIMIT);
    } catch {
      // The list is a convenience: the chat goes on without it.
      this.earlier = [];
    }
    this.onChange();
  }
}
