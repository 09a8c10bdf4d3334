/**
 * The realtime client: one WebSocket to `/v1/ws`, kept alive across what
 * real networks do, under the promises of `sdks/README.md`.
 *
 * This is the application's side of it and the dispatch of the server's
 * frames; the parts live beside it: the connection's life in
 * `connection.ts`, the state they share about the live socket in
 * `link.ts`, followed chats in `subscriptions.ts` (delivery in
 * `delivery.ts`), the followed queue in `queue.ts`, sends in `sending.ts` (waiting in `outbox.ts`), the
 * token on the live socket in `live_refresh.ts`, and the options in
 * `options.ts`. Delivery and sends live across sockets; they are what
 * make every message arrive once and every send settle once.
 */
import type { TokenKind } from "../auth/credential.js";
import { ByrdApiError, ByrdError } from "../errors.js";
import { frameAction } from "../generated/client.js";
import type { Message, ServerHello } from "../generated/types.js";
import { ConnectionLoop } from "./connection.js";
import type { EventOf, RealtimeEvent, RealtimeEventType } from "./events.js";
import { parseFrame, pingFrame, readFrame, refusedFrame, typingFrame } from "./frames.js";
import { type Closed, Link } from "./link.js";
import { LiveRefresh } from "./live_refresh.js";
import { type RealtimeOptions, type SendOptions, settingsOf } from "./options.js";
import { QueueFollow } from "./queue.js";
import { Sender } from "./sending.js";
import type { ConnectionState } from "./state.js";
import { Subscriptions } from "./subscriptions.js";
import { watchPage } from "./wake.js";

export type { RealtimeOptions, SendOptions } from "./options.js";

export class RealtimeClient {
  readonly #link: Link;
  readonly #loop: ConnectionLoop;
  readonly #subscriptions: Subscriptions;
  readonly #sender: Sender;
  readonly #refresh: LiveRefresh;
  readonly #queue: QueueFollow;
  #unwatch: (() => void) | null = null;

  constructor(options: RealtimeOptions) {
    this.#link = new Link(settingsOf(options));
    this.#sender = new Sender(this.#link);
    this.#subscriptions = new Subscriptions(this.#link);
    this.#refresh = new LiveRefresh(this.#link);
    this.#queue = new QueueFollow(this.#link);
    this.#loop = new ConnectionLoop(this.#link, {
      onHello: (hello) => this.#onHello(hello),
      onFrame: (data, generation) => this.#onFrame(data, generation),
      finish: (state) => this.#finish(state),
      guestAfterSeq: (token) => this.#subscriptions.guestAfterSeq(token),
    });
  }

  get state(): ConnectionState {
    return this.#link.state;
  }

  /** Which kind of principal this client connects as. */
  get kind(): TokenKind {
    return this.#link.settings.credential.kind;
  }

  /** Starts connecting; the client then stays connected until `close()` or a final error. */
  connect(): void {
    if (this.#link.state.status !== "idle") return;
    if (this.#link.settings.watchPage) this.#unwatch = watchPage(() => this.reconnectNow());
    this.#refresh.listen();
    void this.#loop.run();
  }

  /** Closes for good: the socket ends and every waiting send is rejected with a `closed` error. */
  close(): void {
    if (this.#link.state.status === "closed") return;
    this.#finish({ status: "closed", code: 1000, reason: "closed by the application", error: null });
  }

  /**
   * Reconnects now if the client is waiting to; checks a connected socket.
   * Browsers call this on `online` and when the page is shown again.
   */
  reconnectNow(): void {
    const link = this.#link;
    if (link.state.status === "reconnecting") {
      link.wakeUp();
    } else if (link.state.status === "connected") {
      if (Date.now() - link.lastHeard > 2 * link.heartbeatMs) link.drop("silent after the page woke");
      else link.write(pingFrame());
    }
  }

  /**
   * Calls `listener` with every event of `type`; returns the function that
   * removes it. A listener that throws, or an `async` one whose promise
   * rejects (a refused `send`, say), fails alone: the failure becomes an
   * `error` event of kind `listener` whose `cause` is what it threw (see
   * `events.ts`), never an unhandled rejection that would end Node.
   */
  on<K extends RealtimeEventType>(type: K, listener: (event: EventOf<K>) => void): () => void {
    return this.#link.events.on(type, listener);
  }

  /** Every event from now on, for `for await`; ends after the final `closed` state. */
  events(): AsyncIterableIterator<RealtimeEvent> {
    return this.#link.events.iterate((event) => event.type === "state" && event.state.status === "closed");
  }

  /**
   * Follows a chat (agents; a guest follows its own chat by itself): its
   * messages after `afterSeq` (0 by default) are delivered once each, in
   * order, across reconnects. Following a chat already followed changes
   * nothing (the spec's client behaviour table): its position stays, so
   * nothing is delivered twice or skipped; to move it, unsubscribe first.
   */
  subscribe(chatId: string, afterSeq?: number): void {
    this.#subscriptions.subscribe(chatId, afterSeq ?? 0);
  }

  /**
   * Follows the queue (agents): the messages, typing and read events of
   * every chat that is not closed arrive without a `subscribe` per chat,
   * live and without replay, across reconnects. Find what came while
   * disconnected by comparing `last_seq` from `listChatSummaries` with
   * what you have; a chat also followed with `subscribe` keeps its
   * exactly-once delivery.
   */
  subscribeQueue(): void {
    this.#queue.follow();
  }

  /**
   * Stops following the queue: from then on only the chats followed with
   * `subscribe` deliver their events, and the queue is not followed again
   * on reconnect.
   */
  unsubscribeQueue(): void {
    this.#queue.unfollow();
  }

  unsubscribe(chatId: string): void {
    this.#subscriptions.unsubscribe(chatId);
  }

  /** The highest `seq` delivered for a followed chat. */
  lastSeq(chatId: string): number | undefined {
    return this.#subscriptions.lastSeq(chatId);
  }

  /**
   * Sends a message; resolves with the stored message once the server acks
   * it. While disconnected the send waits (up to `maxQueuedSends`); after
   * a reconnect it goes again with the same `clientMsgId`, so it is stored
   * once. Rejects with the server's refusal, or with the final error when
   * the client closes for good.
   */
  send(chatId: string, body: string, options: SendOptions = {}): Promise<Message> {
    return this.#sender.send(chatId, body, options);
  }

  /** Tells the chat the user is (or stopped) typing; false when dropped: disconnected, or too many frames waiting for the pace. */
  typing(chatId: string, active: boolean): boolean {
    return this.#link.write(typingFrame(chatId, active));
  }

  /** Marks messages up to `seq` read; false when dropped: disconnected, or too many frames waiting for the pace. */
  markRead(chatId: string, seq: number): boolean {
    return this.#link.write(readFrame(chatId, seq));
  }

  /** `hello`: the socket is connected; resume every chat and write every waiting send. */
  #onHello(hello: ServerHello): void {
    const generation = this.#link.generation;
    this.#link.connected(hello);
    this.#subscriptions.resume(this.kind === "agent");
    if (this.kind === "agent") this.#queue.resume();
    this.#sender.resend(generation);
  }

  #onFrame(data: unknown, generation: number): void {
    if (generation !== this.#link.generation) return;
    this.#link.lastHeard = Date.now();
    const frame = parseFrame(data);
    if (!frame) return;
    switch (frame.type) {
      case "message":
        // A chat not followed by `subscribe` is the queue's: passed on as it comes.
        if (this.#queue.following && this.#subscriptions.lastSeq(frame.message.chat_id) === undefined) return this.#link.events.emit(frame);
        return this.#subscriptions.onMessage(frame.message);
      case "subscribed":
        return this.#subscriptions.onSubscribed(frame);
      case "ack":
        return this.#sender.onAck(frame);
      case "typing":
      case "read":
      case "presence":
      case "chat_updated":
        return this.#link.events.emit(frame);
      case "error":
        return this.#onError(frame.code, frame.message, frame.ref);
      case "token_expiring":
        return void this.#refresh.onExpiring(generation);
      default:
        // hello, pong, unsubscribed, token_refreshed, and frame types newer
        // than this client: nothing to do (any frame counts as a sign of life).
        return;
    }
  }

  /** An `error` frame, read through the spec's client behaviour table. */
  #onError(code: string, message: string, ref: string | null): void {
    const error = new ByrdApiError(code, message);
    const refused = refusedFrame(ref, (clientMsgId) => this.#sender.isWaiting(clientMsgId));
    const action = frameAction(refused.frame, code);
    if (action === "resend_unanswered") {
      // Which frame was refused is unknown; a new connection would be
      // refused the same way, so this one writes again, later, whatever
      // it has not answered yet.
      this.#link.afterFrameBackoff(() => {
        this.#subscriptions.resendUnanswered();
        this.#sender.resendUnanswered();
      });
      return;
    }
    const again = action === "send_again";
    switch (refused.frame) {
      case "send":
        return again ? this.#sender.sendAgain(refused.clientMsgId) : this.#sender.refused(refused.clientMsgId, error);
      case "subscribe":
        return again ? this.#subscriptions.subscribeAgain(refused.chatId) : this.#subscriptions.refused(refused.chatId, error);
      case "refresh_token":
        if (again) return this.#refresh.sendAgain();
        break;
      default:
        break;
    }
    this.#link.events.emit({ type: "error", error });
  }

  #finish(state: Closed): void {
    if (this.#link.closed) return;
    this.#link.close(state);
    this.#unwatch?.();
    this.#unwatch = null;
    this.#refresh.stop();
    this.#sender.failAll(state.error ?? new ByrdError("closed", "the realtime client was closed"));
    this.#link.events.emit({ type: "state", state });
  }
}
