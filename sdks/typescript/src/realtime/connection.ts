/**
 * The connection's life: one loop (`run`) owns it. Each turn takes a
 * token, and by default a fresh single-use ticket made with it (the
 * `socket_auth` rule of the spec's client behaviour table), opens a
 * socket, waits for `hello`, serves frames until the socket ends, then
 * reads the end: the close code's action from the spec's table decides
 * between reconnecting (after a full-jitter backoff), refreshing the
 * token first, and stopping for good. A handshake the server refused is
 * read through `GET /v1/me`, since browsers do not show its answer.
 */
import { type TokenKind, staticToken } from "../auth/credential.js";
import { ByrdError, apiErrorOf } from "../errors.js";
import { FRESH_TICKETS_AT_ONCE, ticketAction } from "../generated/client.js";
import { createWsTicket, getMe } from "../generated/operations.js";
import { CLOSE_CODES, closeAction } from "../generated/protocol.js";
import type { ServerHello } from "../generated/types.js";
import { fullJitter } from "./backoff.js";
import { parseFrame, pingFrame } from "./frames.js";
import type { Closed, End, Link } from "./link.js";
import { detach, socketUrl, type WebSocketLike } from "./socket.js";

/** What the loop hands back to the client. */
export interface ConnectionHooks {
  /** `hello` on a new socket: resume and resend. */
  onHello(hello: ServerHello): void;
  /** A frame after `hello`, of socket `generation`. */
  onFrame(data: unknown, generation: number): void;
  /** The loop stops for good in `state`. */
  finish(state: Closed): void;
  /** The `after_seq` a guest's socket resumes its own chat from. */
  guestAfterSeq(token: string): number;
}

/** What the loop does after an attempt. */
type Next = { kind: "retry"; uptime: number; refresh: string | null } | { kind: "final"; state: Closed };

/** How opening a socket went. */
type Opened = { kind: "hello"; end: Promise<End> } | { kind: "refused" } | { kind: "lost" } | { kind: "closed"; end: End };

/** The URL of the next socket, or why there is none. */
type Opening = { kind: "url"; url: string; ticket: boolean } | { kind: "refused"; verdict: Verdict } | { kind: "failed" };

/** What the server thinks of a token. */
type Verdict = "valid" | "expired" | "refused" | "unknown";

const RETRY_AT_ONCE: Next = { kind: "retry", uptime: 0, refresh: null };

export class ConnectionLoop {
  /** Whether sockets open with tickets: the option, until a server without them (404) says otherwise. */
  #tickets: boolean;

  constructor(
    private readonly link: Link,
    private readonly hooks: ConnectionHooks,
  ) {
    this.#tickets = link.settings.socketAuth === "ticket";
  }

  get #kind(): TokenKind {
    return this.link.settings.credential.kind;
  }

  async run(): Promise<void> {
    const link = this.link;
    let attempt = 0;
    while (link.state.status !== "closed") {
      attempt++;
      link.setState({ status: "connecting", attempt });
      const next = await this.#attempt();
      if (link.closed) return;
      if (next.kind === "final") return this.hooks.finish(next.state);
      // A connection that got its `hello` and held for a moment starts the
      // count over (the table's rule), so a flaky link settles instead of
      // climbing to the cap.
      if (next.uptime >= link.settings.backoff.resetAfter) attempt = 0;
      if (next.refresh !== null) {
        try {
          await link.settings.credential.refresh(next.refresh);
        } catch (error) {
          if (isAuthFailure(error)) return this.hooks.finish(authClosed(error, 4001));
        }
      }
      const delay = fullJitter(attempt, link.settings.backoff);
      link.setState({ status: "reconnecting", attempt: attempt + 1, delay });
      await link.sleep(delay);
    }
  }

  /** One attempt: a token, a ticket, a socket, `hello`, then frames until the socket ends. */
  async #attempt(): Promise<Next> {
    const credential = this.link.settings.credential;
    let token: string;
    try {
      token = await credential.token();
    } catch (error) {
      if (isAuthFailure(error)) return { kind: "final", state: authClosed(error, null) };
      this.link.emitError(error, "no token to connect with");
      return RETRY_AT_ONCE;
    }
    let refreshed = false;
    let freshTickets = 0;
    for (;;) {
      const opening = await this.#opening(token);
      if (this.link.closed || opening.kind === "failed") return RETRY_AT_ONCE;
      let verdict: Verdict;
      if (opening.kind === "refused") {
        verdict = opening.verdict;
      } else {
        const opened = await this.#open(opening.url, token);
        if (this.link.closed) return RETRY_AT_ONCE;
        if (opened.kind === "hello") return this.#serve(opened.end);
        if (opened.kind === "lost") return RETRY_AT_ONCE;
        if (opened.kind === "closed") return this.#afterClose(opened.end, 0);
        // The handshake was refused or the network failed before the
        // upgrade. Browsers do not show the HTTP answer of a refused
        // handshake, so ask the REST API what it thinks of the token.
        verdict = await this.#probe(token);
        // A good token: what was refused is the ticket, spent or dead on
        // the way, which a fresh one mends at once (the table says how
        // many times in a row).
        if (verdict === "valid" && opening.ticket && freshTickets < FRESH_TICKETS_AT_ONCE) {
          freshTickets++;
          continue;
        }
      }
      if (verdict === "refused") {
        return { kind: "final", state: authClosed(new ByrdError("auth", "the server refused the token"), null) };
      }
      if (verdict !== "expired" || refreshed) return RETRY_AT_ONCE;
      try {
        token = await credential.refresh(token);
        refreshed = true;
      } catch (error) {
        if (isAuthFailure(error)) return { kind: "final", state: authClosed(error, null) };
        return RETRY_AT_ONCE;
      }
    }
  }

  /**
   * The URL of the next socket: with a fresh ticket made with `token`
   * right now (never one kept from before: a ticket opens one socket,
   * within seconds), or with the token when tickets are off. A failed
   * ticket request does what the table's `ticketAction` says: the token
   * from now on (a server without tickets), the token's own refusal path,
   * or a failed attempt; never the token in the URL instead.
   */
  async #opening(token: string): Promise<Opening> {
    // `close()` may have come while the token was on its way.
    if (this.link.closed) return { kind: "failed" };
    const baseUrl = this.link.settings.client.baseUrl;
    const afterSeq = this.#kind === "guest" ? this.hooks.guestAfterSeq(token) : null;
    if (!this.#tickets) return { kind: "url", url: socketUrl(baseUrl, { token }, afterSeq), ticket: false };
    try {
      // Made with exactly this token, so a refusal of it is this token's.
      const client = this.link.settings.client.withCredential(staticToken(this.#kind, token));
      const { ticket } = await createWsTicket(client, { refreshOnExpiry: false, signal: this.link.closing });
      return { kind: "url", url: socketUrl(baseUrl, { ticket }, afterSeq), ticket: true };
    } catch (error) {
      const status = error instanceof ByrdError ? error.status : null;
      const action = ticketAction(apiErrorOf(error)?.code ?? null, status);
      if (action === "use_token") {
        this.#tickets = false;
        return { kind: "url", url: socketUrl(baseUrl, { token }, afterSeq), ticket: false };
      }
      if (action === "token_refused") return { kind: "refused", verdict: verdictOf(error) };
      return { kind: "failed" };
    }
  }

  /** Opens the socket of `url`, the `token`'s, and waits for `hello`, a close, or the timeout. */
  #open(url: string, token: string): Promise<Opened> {
    const link = this.link;
    // `close()` may have come while the token or the ticket was on its way.
    if (link.closed) return Promise.resolve({ kind: "lost" });
    const generation = ++link.generation;
    let socket: WebSocketLike;
    try {
      socket = new link.settings.WebSocket(url);
    } catch (error) {
      link.emitError(error, "the WebSocket could not be created");
      return Promise.resolve({ kind: "lost" });
    }
    link.socket = socket;
    link.token = token;
    let opened = false;
    const end = this.#endOf(socket);
    return new Promise((resolve) => {
      const timeout = link.timeout(() => link.endSocket?.({ kind: "lost", reason: "no hello in time" }), link.settings.connectTimeout);
      socket.onopen = () => {
        opened = true;
      };
      socket.onerror = () => {};
      socket.onclose = (event) => link.endSocket?.({ kind: "closed", code: event.code, reason: event.reason });
      socket.onmessage = (event) => {
        link.lastHeard = Date.now();
        const frame = parseFrame(event.data);
        if (frame?.type !== "hello") return;
        link.clearTimer(timeout);
        socket.onmessage = (next) => this.hooks.onFrame(next.data, generation);
        // Connected now, before any later frame of the same read is handled.
        this.hooks.onHello(frame);
        resolve({ kind: "hello", end });
      };
      void end.then((outcome) => {
        link.clearTimer(timeout);
        if (outcome.kind === "closed" && !opened) resolve({ kind: "refused" });
        else if (outcome.kind === "closed") resolve({ kind: "closed", end: outcome });
        else resolve({ kind: "lost" });
      });
    });
  }

  /** Makes `socket` the one `link.endSocket` ends; resolves with how it ended. */
  #endOf(socket: WebSocketLike): Promise<End> {
    const link = this.link;
    let endSocket!: (end: End) => void;
    const end = new Promise<End>((resolve) => (endSocket = resolve));
    link.endSocket = (outcome) => {
      if (link.socket !== socket) return;
      link.socket = null;
      link.stopPacing();
      link.endSocket = null;
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
    return end;
  }

  /** Keeps a connected socket alive until it ends. */
  async #serve(end: Promise<End>): Promise<Next> {
    const link = this.link;
    const since = Date.now();
    const generation = link.generation;
    let lastTick = since;
    const heartbeat = setInterval(() => {
      if (generation !== link.generation) return;
      const now = Date.now();
      // A tick that comes late says the page could not run (a long task, a
      // busy or throttled tab): frames that arrived meanwhile may still wait
      // unread behind this timer, so the silence is judged at the next tick,
      // once they are read, and not counted against the server now.
      const late = now - lastTick > 1.5 * link.heartbeatMs;
      lastTick = now;
      if (!late && now - link.lastHeard > 2 * link.heartbeatMs) link.drop("nothing heard for two heartbeats");
      else link.write(pingFrame());
    }, link.heartbeatMs);
    const outcome = await end;
    clearInterval(heartbeat);
    return this.#afterClose(outcome, Date.now() - since);
  }

  /** Reads a socket's end through the close-code table. */
  #afterClose(end: End, uptime: number): Next {
    if (end.kind !== "closed") return { kind: "retry", uptime, refresh: null };
    const action = closeAction(end.code);
    if (action === "reconnect") return { kind: "retry", uptime, refresh: null };
    if (action === "refresh_token_then_reconnect") return { kind: "retry", uptime, refresh: this.link.token ?? "" };
    const name = CLOSE_CODES[end.code]?.name ?? String(end.code);
    const error =
      end.code === 4002
        ? new ByrdError("auth", "the token or its session was revoked", { closeCode: end.code })
        : new ByrdError("closed", `the server closed the connection: ${name}`, { closeCode: end.code });
    return { kind: "final", state: { status: "closed", code: end.code, reason: end.reason || name, error } };
  }

  /** What `GET /v1/me` says of a token the handshake may have refused. */
  async #probe(token: string): Promise<Verdict> {
    try {
      await getMe(this.link.settings.client.withCredential(staticToken(this.#kind, token)), {
        maxRetries: 0,
        refreshOnExpiry: false,
      });
      return "valid";
    } catch (error) {
      return verdictOf(error);
    }
  }
}

/** What a refused REST call says of the token it carried. */
function verdictOf(error: unknown): Verdict {
  const api = apiErrorOf(error);
  if (api?.code === "token_expired") return "expired";
  if (api && (api.status === 401 || api.status === 403)) return "refused";
  return "unknown";
}

function isAuthFailure(error: unknown): error is ByrdError {
  return error instanceof ByrdError && error.kind === "auth";
}

function authClosed(error: ByrdError, code: number | null): Closed {
  return { status: "closed", code, reason: "authentication failed", error };
}
