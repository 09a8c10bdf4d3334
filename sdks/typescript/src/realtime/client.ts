/**
 * The realtime client: one WebSocket to `/v1/ws`, kept alive across what
 * real networks do, under the promises of `sdks/README.md`.
 *
 * Design: one loop (`#run`) owns the connection's life. Each turn takes a
 * token, opens a socket, waits for `hello`, serves frames until the socket
 * ends, then reads the end: the close code's action from the spec's table
 * decides between reconnecting (after a full-jitter backoff), refreshing
 * the token first, and stopping for good. Each socket gets a generation
 * number; whatever belongs to an older generation (timers, gap fetches,
 * frames) is ignored, so a late event of a dead socket cannot touch the
 * live one. Delivery (`delivery.ts`) and sends (`outbox.ts`) live across
 * sockets; they are what make every message arrive once and every send
 * settle once.
 */
import { type Credential, type TokenKind, readClaims, staticToken } from "../auth/credential.js";
import { ByrdApiError, ByrdError, apiErrorOf } from "../errors.js";
import {
  FALLBACK_LIMITS,
  FRAME_BACKOFF,
  GAP_PAGE,
  PACING_MARGIN,
  SEND_QUEUE,
  SEND_REFRESHED_TOKEN_ON_SOCKET,
  frameAction,
} from "../generated/client.js";
import { CLOSE_CODES, closeAction } from "../generated/protocol.js";
import { getMe, listMessages } from "../generated/operations.js";
import type { ClientFrame, Message, ServerFrame, ServerHello } from "../generated/types.js";
import type { Client } from "../rest/client.js";
import { randomUuid } from "../uuid.js";
import { type BackoffOptions, type BackoffOverrides, backoffWith, fullJitter } from "./backoff.js";
import { Delivery } from "./delivery.js";
import { Emitter, type EventOf, type RealtimeEvent, type RealtimeEventType } from "./events.js";
import { Outbox } from "./outbox.js";
import { Pacer } from "./pacer.js";
import { resolveWebSocket, socketUrl, textOf, type WebSocketConstructor, type WebSocketLike } from "./socket.js";
import type { ConnectionState } from "./state.js";
import { watchPage } from "./wake.js";

export interface RealtimeOptions {
  /** The REST client: base URL, credential and `fetch` (gap paging uses it). */
  client: Client;
  /** The credential to connect with; the client's first one by default. */
  credential?: Credential | undefined;
  /** A WebSocket implementation; the global `WebSocket` by default. */
  WebSocket?: WebSocketConstructor | undefined;
  /** Reconnect delays in ms; defaults (the spec's client behaviour table) base 500, floor 100, cap 30 000, reset after 2 000 up. */
  backoff?: BackoffOverrides | undefined;
  /** Sends that may wait for an ack at once (default 100, the spec's client behaviour table). */
  maxQueuedSends?: number | undefined;
  /** A socket that has not said `hello` after this many ms is dropped (default 15 000). */
  connectTimeoutMs?: number | undefined;
  /**
   * The server's frame limit in bytes; a larger send is refused at once.
   * By default the limit the server announces in `hello.limits` (65 536
   * before the first `hello`).
   */
  maxFrameBytes?: number | undefined;
  /**
   * Frames a second the client writes at most, and the burst it may write
   * at once: a server refuses frames past its allowance and closes a
   * connection that keeps trying. By default the allowance the server
   * announces in `hello.limits` (20 and 40 when it announces none).
   */
  framesPerSecond?: number | undefined;
  frameBurst?: number | undefined;
  /** In browsers, reconnect at once when the network returns or the page is shown (default true). */
  watchPage?: boolean | undefined;
  /**
   * Where each chat starts, when the application already holds its
   * messages up to some `seq` (say, restored from storage). A guest's own
   * chat starts at 0 otherwise.
   */
  resumeFrom?: Readonly<Record<string, number>> | undefined;
}

/** Options of one `send`. */
export interface SendOptions {
  /** The message's id, made beforehand (`randomUuid()`) by pages that keep unsent messages across a reload. */
  clientMsgId?: string | undefined;
}

/** How a socket ended. */
type End =
  | { kind: "closed"; code: number; reason: string }
  | { kind: "lost"; reason: string }
  | { kind: "application" };

/** What the loop does after an attempt. */
type Next =
  | { kind: "retry"; uptime: number; refresh: string | null }
  | { kind: "final"; state: Extract<ConnectionState, { status: "closed" }> };

export class RealtimeClient {
  readonly #client: Client;
  readonly #credential: Credential;
  readonly #WebSocket: WebSocketConstructor;
  readonly #backoff: BackoffOptions;
  readonly #connectTimeout: number;
  #maxFrameBytes: number;
  readonly #fixedMaxFrameBytes: boolean;
  readonly #watchPage: boolean;
  readonly #framesPerSecond: number | undefined;
  readonly #frameBurst: number | undefined;
  /** Paces the current socket's frames; null while there is none. */
  #pacer: Pacer | null = null;
  readonly #events = new Emitter();
  readonly #outbox: Outbox;
  readonly #delivery: Delivery;

  #state: ConnectionState = { status: "idle" };
  /** Bumped for every socket; work of an older generation is dropped. */
  #generation = 0;
  #socket: WebSocketLike | null = null;
  /** The token the current socket was opened or last refreshed with. */
  #token: string | null = null;
  #lastHeard = 0;
  #heartbeatMs = 0;
  #endSocket: ((end: End) => void) | null = null;
  /** Cuts a pending backoff short. */
  #wakeUp: (() => void) | null = null;
  #unwatch: (() => void) | null = null;
  #timers = new Set<ReturnType<typeof setTimeout>>();
  /** Stops listening to the credential's refreshes. */
  #unlisten: (() => void) | null = null;
  /** Refusals of the current socket's `subscribe` and `refresh_token` frames; each wait is longer. */
  #frameRefusals = 0;

  constructor(options: RealtimeOptions) {
    this.#client = options.client;
    const credential = options.credential ?? options.client.credentials[0];
    if (!credential) throw new TypeError("the realtime client needs a credential");
    this.#credential = credential;
    this.#WebSocket = resolveWebSocket(options.WebSocket);
    this.#backoff = backoffWith(options.backoff);
    this.#connectTimeout = options.connectTimeoutMs ?? 15_000;
    this.#maxFrameBytes = options.maxFrameBytes ?? FALLBACK_LIMITS.max_frame_bytes;
    this.#fixedMaxFrameBytes = options.maxFrameBytes !== undefined;
    this.#watchPage = options.watchPage ?? true;
    this.#framesPerSecond = options.framesPerSecond;
    this.#frameBurst = options.frameBurst;
    this.#outbox = new Outbox(options.maxQueuedSends ?? SEND_QUEUE);
    this.#delivery = new Delivery({
      fetchPage: (chatId, after, upTo) => this.#fetchPage(chatId, after, upTo),
      deliver: (message) => this.#events.emit({ type: "message", message }),
      resumed: (chat_id, recovered, fetched) => this.#events.emit({ type: "resumed", chat_id, recovered, fetched }),
      failed: (error, generation) => {
        if (generation !== this.#generation) return;
        this.#emitError(error, "a gap in a chat could not be fetched; reconnecting to resume");
        this.#drop("gap fetch failed");
      },
      generation: () => this.#generation,
    });
    for (const [chatId, seq] of Object.entries(options.resumeFrom ?? {})) this.#delivery.follow(chatId, seq);
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Read through a getter: the state changes across every `await`. */
  get #closed(): boolean {
    return this.#state.status === "closed";
  }

  /** Which kind of principal this client connects as. */
  get kind(): TokenKind {
    return this.#credential.kind;
  }

  /** Starts connecting; the client then stays connected until `close()` or a final error. */
  connect(): void {
    if (this.#state.status !== "idle") return;
    if (this.#watchPage) this.#unwatch = watchPage(() => this.reconnectNow());
    // A token refreshed by anyone (a REST call, say) goes to the live
    // socket at once, so it does not run out there and close with 4001.
    if (SEND_REFRESHED_TOKEN_ON_SOCKET) this.#unlisten = this.#credential.onRefresh?.((token) => this.#offerToken(token)) ?? null;
    void this.#run();
  }

  /** Closes for good: the socket ends and every waiting send is rejected with a `closed` error. */
  close(): void {
    if (this.#state.status === "closed") return;
    this.#finish({ status: "closed", code: 1000, reason: "closed by the application", error: null });
  }

  /**
   * Reconnects now if the client is waiting to; checks a connected socket.
   * Browsers call this on `online` and when the page is shown again.
   */
  reconnectNow(): void {
    if (this.#state.status === "reconnecting") {
      this.#wakeUp?.();
    } else if (this.#state.status === "connected") {
      if (Date.now() - this.#lastHeard > 2 * this.#heartbeatMs) this.#drop("silent after the page woke");
      else this.#write({ type: "ping", nonce: null });
    }
  }

  /**
   * Calls `listener` with every event of `type`; returns the function that
   * removes it. What the listener returns is dropped: an `async` listener
   * must catch its own errors (a refused `send`, say), or they become
   * unhandled rejections, which end a Node process.
   */
  on<K extends RealtimeEventType>(type: K, listener: (event: EventOf<K>) => void): () => void {
    return this.#events.on(type, listener);
  }

  /** Every event from now on, for `for await`; ends after the final `closed` state. */
  events(): AsyncIterableIterator<RealtimeEvent> {
    return this.#events.iterate((event) => event.type === "state" && event.state.status === "closed");
  }

  /**
   * Follows a chat (agents; a guest follows its own chat by itself): its
   * messages after `afterSeq` (0 by default) are delivered once each, in
   * order, across reconnects. Following a chat already followed changes
   * nothing (the spec's client behaviour table): its position stays, so
   * nothing is delivered twice or skipped; to move it, unsubscribe first.
   */
  subscribe(chatId: string, afterSeq?: number): void {
    if (this.#delivery.delivered(chatId) !== undefined) return;
    this.#delivery.follow(chatId, afterSeq ?? 0);
    if (this.#state.status === "connected") this.#write(subscribeFrame(chatId, afterSeq ?? 0));
  }

  unsubscribe(chatId: string): void {
    this.#delivery.unfollow(chatId);
    this.#write({ type: "unsubscribe", chat_id: chatId });
  }

  /** The highest `seq` delivered for a followed chat. */
  lastSeq(chatId: string): number | undefined {
    return this.#delivery.delivered(chatId);
  }

  /**
   * Sends a message; resolves with the stored message once the server acks
   * it. While disconnected the send waits (up to `maxQueuedSends`); after
   * a reconnect it goes again with the same `clientMsgId`, so it is stored
   * once. Rejects with the server's refusal, or with the final error when
   * the client closes for good.
   */
  send(chatId: string, body: string, options: SendOptions = {}): Promise<Message> {
    if (this.#state.status === "closed") {
      return Promise.reject(this.#state.error ?? new ByrdError("closed", "the realtime client is closed"));
    }
    const clientMsgId = options.clientMsgId ?? randomUuid();
    const frame = JSON.stringify({ type: "send", chat_id: chatId, client_msg_id: clientMsgId, body } satisfies ClientFrame);
    if (new TextEncoder().encode(frame).length > this.#maxFrameBytes) {
      return Promise.reject(new RangeError(`the message is larger than one frame may be (${this.#maxFrameBytes} bytes)`));
    }
    let entry;
    try {
      entry = this.#outbox.add(chatId, clientMsgId, frame);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#state.status === "connected" && entry.writtenOn !== this.#generation) this.#writeSend(entry.clientMsgId);
    return entry.promise;
  }

  /** Tells the chat the user is (or stopped) typing; dropped while disconnected. */
  typing(chatId: string, active: boolean): boolean {
    return this.#write({ type: "typing", chat_id: chatId, active });
  }

  /** Marks messages up to `seq` read; dropped while disconnected. */
  markRead(chatId: string, seq: number): boolean {
    return this.#write({ type: "read", chat_id: chatId, seq });
  }

  // The connection loop.

  async #run(): Promise<void> {
    let attempt = 0;
    while (this.#state.status !== "closed") {
      attempt++;
      this.#setState({ status: "connecting", attempt });
      const next = await this.#attempt();
      if (this.#closed) return;
      if (next.kind === "final") return this.#finish(next.state);
      // A connection that got its `hello` and held for a moment starts the
      // count over (the table's rule), so a flaky link settles instead of
      // climbing to the cap.
      if (next.uptime >= this.#backoff.resetAfter) attempt = 0;
      if (next.refresh !== null) {
        try {
          await this.#credential.refresh(next.refresh);
        } catch (error) {
          if (isAuthFailure(error)) return this.#finish(authClosed(error, 4001));
        }
      }
      const delay = fullJitter(attempt, this.#backoff);
      this.#setState({ status: "reconnecting", attempt: attempt + 1, delay });
      await this.#sleep(delay);
    }
  }

  /** One attempt: a token, a socket, `hello`, then frames until the socket ends. */
  async #attempt(): Promise<Next> {
    let token: string;
    try {
      token = await this.#credential.token();
    } catch (error) {
      if (isAuthFailure(error)) return { kind: "final", state: authClosed(error, null) };
      this.#emitError(error, "no token to connect with");
      return { kind: "retry", uptime: 0, refresh: null };
    }
    for (let refreshed = false; ; refreshed = true) {
      const opened = await this.#open(token);
      if (this.#closed) return { kind: "retry", uptime: 0, refresh: null };
      if (opened.kind === "hello") return this.#serve(opened.end);
      if (opened.kind === "lost") return { kind: "retry", uptime: 0, refresh: null };
      if (opened.kind === "closed") return this.#afterClose(opened.end, 0);
      // The handshake was refused or the network failed before the upgrade.
      // Browsers do not show the HTTP answer of a refused handshake, so ask
      // the REST API what it thinks of the token.
      const verdict = await this.#probe(token);
      if (verdict === "refused") {
        return { kind: "final", state: authClosed(new ByrdError("auth", "the server refused the token"), null) };
      }
      if (verdict !== "expired" || refreshed) return { kind: "retry", uptime: 0, refresh: null };
      try {
        token = await this.#credential.refresh(token);
      } catch (error) {
        if (isAuthFailure(error)) return { kind: "final", state: authClosed(error, null) };
        return { kind: "retry", uptime: 0, refresh: null };
      }
    }
  }

  /** Opens a socket and waits for `hello`, a close, or the timeout. */
  #open(token: string): Promise<
    | { kind: "hello"; end: Promise<End> }
    | { kind: "refused" }
    | { kind: "lost" }
    | { kind: "closed"; end: End }
  > {
    // `close()` may have come while the token was on its way.
    if (this.#closed) return Promise.resolve({ kind: "lost" });
    const generation = ++this.#generation;
    const afterSeq = this.#credential.kind === "guest" ? this.#guestAfterSeq(token) : null;
    let socket: WebSocketLike;
    try {
      socket = new this.#WebSocket(socketUrl(this.#client.baseUrl, token, afterSeq));
    } catch (error) {
      this.#emitError(error, "the WebSocket could not be created");
      return Promise.resolve({ kind: "lost" });
    }
    this.#socket = socket;
    this.#token = token;
    let opened = false;
    let endSocket!: (end: End) => void;
    const end = new Promise<End>((resolve) => (endSocket = resolve));
    this.#endSocket = (outcome) => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      this.#pacer?.stop();
      this.#pacer = null;
      this.#endSocket = null;
      detach(socket);
      if (outcome.kind !== "closed") {
        try {
          socket.close(1000, "normal");
        } catch {
          // Already closing.
        }
      }
      endSocket(outcome);
    };
    return new Promise((resolve) => {
      const timeout = this.#timeout(() => this.#endSocket?.({ kind: "lost", reason: "no hello in time" }), this.#connectTimeout);
      socket.onopen = () => {
        opened = true;
      };
      socket.onerror = () => {};
      socket.onclose = (event) => this.#endSocket?.({ kind: "closed", code: event.code, reason: event.reason });
      socket.onmessage = (event) => {
        this.#lastHeard = Date.now();
        const frame = parseFrame(event.data);
        if (frame?.type !== "hello") return;
        this.#clearTimer(timeout);
        socket.onmessage = (next) => this.#onFrame(next.data, generation);
        // Connected now, before any later frame of the same read is handled.
        this.#onHello(frame);
        resolve({ kind: "hello", end });
      };
      void end.then((outcome) => {
        this.#clearTimer(timeout);
        if (outcome.kind === "closed" && !opened) resolve({ kind: "refused" });
        else if (outcome.kind === "closed") resolve({ kind: "closed", end: outcome });
        else resolve({ kind: "lost" });
      });
    });
  }

  /** `hello`: the socket is connected; resume every chat and write every waiting send. */
  #onHello(hello: ServerHello): void {
    const generation = this.#generation;
    // A floor keeps a zero interval from spinning.
    this.#heartbeatMs = Math.max(hello.heartbeat_interval_ms, 50);
    const socket = this.#socket;
    this.#pacer?.stop();
    // The server says what it allows; an explicit option wins, and a server
    // that announces nothing gets the protocol's defaults.
    const limits = hello.limits as ServerHello["limits"] | undefined;
    if (!this.#fixedMaxFrameBytes && limits) this.#maxFrameBytes = limits.max_frame_bytes;
    // A tenth below the announced allowance: the server counts frames as
    // they arrive, and one delayed on the way arrives closer to the next
    // than it was written; at exactly the allowance that is a refusal.
    const perSecond = this.#framesPerSecond ?? (limits?.frames_per_second ?? FALLBACK_LIMITS.frames_per_second) * PACING_MARGIN;
    const burst = this.#frameBurst ?? Math.max(1, Math.floor((limits?.frame_burst ?? FALLBACK_LIMITS.frame_burst) * PACING_MARGIN));
    this.#pacer = new Pacer((text) => this.#socketWrite(socket, text), perSecond, burst);
    this.#frameRefusals = 0;
    this.#setState({ status: "connected" });
    if (this.#credential.kind === "agent") {
      for (const [chatId, delivered] of this.#delivery.followed()) this.#write(subscribeFrame(chatId, delivered));
    }
    for (const entry of this.#outbox.unwritten(generation)) this.#writeSend(entry.clientMsgId);
  }

  /** Keeps a connected socket alive until it ends. */
  async #serve(end: Promise<End>): Promise<Next> {
    const since = Date.now();
    const generation = this.#generation;
    const heartbeat = setInterval(() => {
      if (generation !== this.#generation) return;
      if (Date.now() - this.#lastHeard > 2 * this.#heartbeatMs) this.#drop("nothing heard for two heartbeats");
      else this.#write({ type: "ping", nonce: null });
    }, this.#heartbeatMs);
    const outcome = await end;
    clearInterval(heartbeat);
    return this.#afterClose(outcome, Date.now() - since);
  }

  /** Reads a socket's end through the close-code table. */
  #afterClose(end: End, uptime: number): Next {
    if (end.kind !== "closed") return { kind: "retry", uptime, refresh: null };
    const action = closeAction(end.code);
    if (action === "reconnect") return { kind: "retry", uptime, refresh: null };
    if (action === "refresh_token_then_reconnect") return { kind: "retry", uptime, refresh: this.#token ?? "" };
    const name = CLOSE_CODES[end.code]?.name ?? String(end.code);
    const error =
      end.code === 4002
        ? new ByrdError("auth", "the token or its session was revoked", { closeCode: end.code })
        : new ByrdError("closed", `the server closed the connection: ${name}`, { closeCode: end.code });
    return { kind: "final", state: { status: "closed", code: end.code, reason: end.reason || name, error } };
  }

  /** What `GET /v1/me` says of a token the handshake may have refused. */
  async #probe(token: string): Promise<"valid" | "expired" | "refused" | "unknown"> {
    try {
      await getMe(this.#client.withCredential(staticToken(this.#credential.kind, token)), {
        maxRetries: 0,
        refreshOnExpiry: false,
      });
      return "valid";
    } catch (error) {
      const api = apiErrorOf(error);
      if (api?.code === "token_expired") return "expired";
      if (api && (api.status === 401 || api.status === 403)) return "refused";
      return "unknown";
    }
  }

  // Frames.

  #onFrame(data: unknown, generation: number): void {
    if (generation !== this.#generation) return;
    this.#lastHeard = Date.now();
    const frame = parseFrame(data);
    if (!frame) return;
    switch (frame.type) {
      case "message":
        return this.#delivery.onMessage(frame.message);
      case "subscribed":
        return this.#delivery.onSubscribed(frame);
      case "ack":
        this.#outbox.settle(frame.client_msg_id, { message: frame.message });
        return;
      case "typing":
      case "read":
      case "presence":
      case "chat_updated":
        return this.#events.emit(frame);
      case "error":
        return this.#onError(frame.code, frame.message, frame.ref);
      case "token_expiring":
        return void this.#refreshLive(generation);
      default:
        // hello, pong, unsubscribed, token_refreshed, and frame types newer
        // than this client: nothing to do (any frame counts as a sign of life).
        return;
    }
  }

  /** An `error` frame, read through the spec's client behaviour table. */
  #onError(code: string, message: string, ref: string | null): void {
    const error = new ByrdApiError(code, message);
    const entry = ref === null ? undefined : this.#outbox.get(ref);
    const chatId = ref?.startsWith(SUBSCRIBE_REF) ? ref.slice(SUBSCRIBE_REF.length) : null;
    const frame = ref === null ? null : entry ? "send" : chatId !== null ? "subscribe" : ref === REFRESH_REF ? "refresh_token" : "other";
    const action = frameAction(frame, code);
    const generation = this.#generation;
    if (action === "reconnect") {
      // A frame was refused unread, so which one is unknown: a new
      // connection resumes every chat and resends every unacked send.
      this.#emitError(error, message);
      this.#drop("a frame was refused unread");
      return;
    }
    if (action === "send_again" && entry) {
      // Nothing was stored: the same frame goes again, later.
      entry.refusals++;
      this.#timeout(() => {
        if (generation === this.#generation) this.#writeSend(entry.clientMsgId);
      }, fullJitter(entry.refusals, FRAME_BACKOFF));
      return;
    }
    if (action === "send_again") {
      this.#timeout(() => {
        if (generation !== this.#generation) return;
        const delivered = chatId === null ? undefined : this.#delivery.delivered(chatId);
        if (chatId !== null && delivered !== undefined) this.#write(subscribeFrame(chatId, delivered));
        else if (chatId === null && this.#token !== null) this.#write(refreshFrame(this.#token));
      }, fullJitter(++this.#frameRefusals, FRAME_BACKOFF));
      return;
    }
    if (entry) {
      this.#outbox.settle(entry.clientMsgId, { error });
      return;
    }
    // A chat that cannot be followed (gone, or not this guest's).
    if (chatId !== null) this.#delivery.unfollow(chatId);
    this.#events.emit({ type: "error", error });
  }

  /**
   * `token_expiring`: a fresh token on the live socket, no reconnect. A
   * lost answer to the refresh is retried within the server's refresh
   * grace (`refreshSession` is replayable in the table).
   */
  async #refreshLive(generation: number): Promise<void> {
    const stale = this.#token;
    if (stale === null) return;
    try {
      const fresh = await this.#credential.refresh(stale);
      if (generation === this.#generation) this.#offerToken(fresh);
    } catch (error) {
      // The server closes with 4001 at expiry; the loop then decides.
      this.#emitError(error, "the token could not be refreshed");
    }
  }

  /** Sends a token newer than the live socket's on it. */
  #offerToken(token: string): void {
    if (this.#state.status !== "connected" || token === this.#token) return;
    if (this.#write(refreshFrame(token))) this.#token = token;
  }

  // Writing.

  #write(frame: ClientFrame): boolean {
    return this.#writeText(JSON.stringify(frame));
  }

  #writeText(text: string): boolean {
    if (this.#state.status !== "connected" || !this.#pacer) return false;
    return this.#pacer.send(text);
  }

  #socketWrite(socket: WebSocketLike | null, text: string): boolean {
    if (!socket || socket !== this.#socket || socket.readyState !== 1) return false;
    try {
      socket.send(text);
      return true;
    } catch {
      return false;
    }
  }

  #writeSend(clientMsgId: string): void {
    const entry = this.#outbox.get(clientMsgId);
    if (entry && this.#writeText(entry.frame)) entry.writtenOn = this.#generation;
  }

  // Helpers.

  /** Ends the current socket from this side, to reconnect. */
  #drop(reason: string): void {
    this.#endSocket?.({ kind: "lost", reason });
  }

  #finish(state: Extract<ConnectionState, { status: "closed" }>): void {
    if (this.#closed) return;
    // The state first, so that whatever the socket's end wakes sees it.
    this.#state = state;
    this.#endSocket?.({ kind: "application" });
    this.#generation++;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#wakeUp?.();
    this.#unwatch?.();
    this.#unwatch = null;
    this.#unlisten?.();
    this.#unlisten = null;
    this.#outbox.failAll(state.error ?? new ByrdError("closed", "the realtime client was closed"));
    this.#events.emit({ type: "state", state });
  }

  #setState(state: ConnectionState): void {
    this.#state = state;
    this.#events.emit({ type: "state", state });
  }

  #emitError(error: unknown, message: string): void {
    const wrapped = error instanceof ByrdError ? error : new ByrdError("transport", message, { cause: error });
    this.#events.emit({ type: "error", error: wrapped });
  }

  #guestAfterSeq(token: string): number {
    const chat = readClaims(token)?.chat as { id?: unknown } | undefined;
    if (typeof chat?.id !== "string") return 0;
    if (this.#delivery.delivered(chat.id) === undefined) this.#delivery.follow(chat.id, 0);
    return this.#delivery.delivered(chat.id) ?? 0;
  }

  async #fetchPage(chatId: string, after: number, upTo: number) {
    const page = await listMessages(
      this.#client.withCredential(this.#credential),
      chatId,
      { after_seq: after, before_seq: upTo + 1, limit: GAP_PAGE },
    );
    return { messages: page.messages, hasMore: page.has_more };
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.#timeout(() => done(), ms);
      const done = () => {
        this.#clearTimer(timer);
        this.#wakeUp = null;
        resolve();
      };
      this.#wakeUp = done;
    });
  }

  #timeout(fn: () => void, ms: number): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
    return timer;
  }

  #clearTimer(timer: ReturnType<typeof setTimeout>): void {
    clearTimeout(timer);
    this.#timers.delete(timer);
  }
}

/** `ref` of the client's `subscribe` frames: `subscribe:<chat id>`. */
const SUBSCRIBE_REF = "subscribe:";
/** `ref` of the client's `refresh_token` frames. */
const REFRESH_REF = "refresh_token";

function subscribeFrame(chatId: string, afterSeq: number): ClientFrame {
  return { type: "subscribe", chat_id: chatId, after_seq: afterSeq, ref: `${SUBSCRIBE_REF}${chatId}` };
}

function refreshFrame(token: string): ClientFrame {
  return { type: "refresh_token", token, ref: REFRESH_REF };
}

function detach(socket: WebSocketLike): void {
  socket.onopen = null;
  socket.onmessage = null;
  socket.onclose = null;
  socket.onerror = null;
}

function parseFrame(data: unknown): ServerFrame | null {
  const text = textOf(data);
  if (text === null) return null;
  try {
    const frame: unknown = JSON.parse(text);
    return frame !== null && typeof frame === "object" && typeof (frame as { type?: unknown }).type === "string"
      ? (frame as ServerFrame)
      : null;
  } catch {
    return null;
  }
}

function isAuthFailure(error: unknown): error is ByrdError {
  return error instanceof ByrdError && error.kind === "auth";
}

function authClosed(error: ByrdError, code: number | null): Extract<ConnectionState, { status: "closed" }> {
  return { status: "closed", code, reason: "authentication failed", error };
}
