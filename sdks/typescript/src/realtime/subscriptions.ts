/**
 * The chats the client follows and where each stands: the position of
 * each (the highest `seq` delivered, kept by `delivery.ts` across
 * sockets), the `subscribe` frames that resume them after every `hello`
 * (an agent's; a guest's socket resumes its own chat from `after_seq` in
 * its URL), the gaps paged over REST, and what a refused `subscribe`
 * means (or one the paced writer had no room for: it goes again later).
 * It also knows which `subscribe`s of the live socket are still
 * unanswered, so that a refusal naming no frame is answered by writing
 * those again on the same socket rather than by reconnecting, which
 * would only be refused again.
 */
import { readClaims } from "../auth/credential.js";
import type { ByrdApiError } from "../errors.js";
import { GAP_PAGE } from "../generated/client.js";
import { listMessages } from "../generated/operations.js";
import type { Message, ServerSubscribed } from "../generated/types.js";
import { Delivery } from "./delivery.js";
import { subscribeFrame, unsubscribeFrame } from "./frames.js";
import type { Link } from "./link.js";

export class Subscriptions {
  readonly #delivery: Delivery;
  /** Chats whose `subscribe` (or, for a guest, the replay its URL asked for) the live socket has not answered yet. */
  readonly #unanswered = new Set<string>();
  /** A guest's own chat, from its token. */
  #guestChat: string | null = null;

  constructor(private readonly link: Link) {
    this.#delivery = new Delivery({
      fetchPage: (chatId, after, upTo) => this.#fetchPage(chatId, after, upTo),
      deliver: (message) => link.events.emit({ type: "message", message }),
      resumed: (chat_id, recovered, fetched) => link.events.emit({ type: "resumed", chat_id, recovered, fetched }),
      failed: (error, generation) => {
        if (generation !== link.generation) return;
        link.emitError(error, "a gap in a chat could not be fetched; reconnecting to resume");
        link.drop("gap fetch failed");
      },
      generation: () => link.generation,
    });
    for (const [chatId, seq] of Object.entries(link.settings.resumeFrom)) this.#delivery.follow(chatId, seq);
  }

  /** Follows a chat from `afterSeq`; a chat already followed keeps its position. */
  subscribe(chatId: string, afterSeq: number): void {
    if (this.#delivery.delivered(chatId) !== undefined) return;
    this.#delivery.follow(chatId, afterSeq);
    if (this.link.state.status === "connected") this.#write(chatId, afterSeq);
  }

  unsubscribe(chatId: string): void {
    this.#delivery.unfollow(chatId);
    this.#unanswered.delete(chatId);
    this.link.write(unsubscribeFrame(chatId));
  }

  /** The highest `seq` delivered for a followed chat. */
  lastSeq(chatId: string): number | undefined {
    return this.#delivery.delivered(chatId);
  }

  onMessage(message: Message): void {
    this.#delivery.onMessage(message);
  }

  onSubscribed(frame: ServerSubscribed): void {
    this.#unanswered.delete(frame.chat_id);
    this.#delivery.onSubscribed(frame);
  }

  /** After `hello`: an agent's socket resumes every followed chat from where it stands; a guest's replays its own chat by itself. */
  resume(agent: boolean): void {
    this.#unanswered.clear();
    if (!agent) {
      if (this.#guestChat !== null) this.#unanswered.add(this.#guestChat);
      return;
    }
    for (const [chatId, delivered] of this.#delivery.followed()) this.#write(chatId, delivered);
  }

  /**
   * A refusal named no frame (refused unread, or a guest's replay): every
   * `subscribe` still unanswered goes again, on the same socket, from where
   * its chat stands. Subscribing again keeps a chat's position, so one that
   * was only slow to answer loses and repeats nothing.
   */
  resendUnanswered(): void {
    for (const chatId of [...this.#unanswered]) {
      const delivered = this.#delivery.delivered(chatId);
      if (delivered === undefined) this.#unanswered.delete(chatId);
      else this.#write(chatId, delivered);
    }
  }

  /** The `after_seq` of a guest's socket: where its own chat (named in the token) stands, following it first. */
  guestAfterSeq(token: string): number {
    const chat = readClaims(token)?.chat as { id?: unknown } | undefined;
    if (typeof chat?.id !== "string") return 0;
    this.#guestChat = chat.id;
    if (this.#delivery.delivered(chat.id) === undefined) this.#delivery.follow(chat.id, 0);
    return this.#delivery.delivered(chat.id) ?? 0;
  }

  /** The `subscribe` of `chatId` was refused with nothing changed: it goes again later, from where the chat stands then. */
  subscribeAgain(chatId: string): void {
    this.#unanswered.delete(chatId);
    const link = this.link;
    const generation = link.generation;
    link.timeout(() => {
      if (generation !== link.generation) return;
      const delivered = this.#delivery.delivered(chatId);
      if (delivered !== undefined) this.#write(chatId, delivered);
    }, link.frameRetryDelay());
  }

  /** Writes a `subscribe`; one the paced writer has no room for goes again later, as a refused one does. */
  #write(chatId: string, afterSeq: number): void {
    if (this.link.write(subscribeFrame(chatId, afterSeq))) this.#unanswered.add(chatId);
    else if (this.link.queueFull) this.subscribeAgain(chatId);
  }

  /** The `subscribe` of `chatId` was refused for good: a chat that cannot be followed (gone, or not this guest's). */
  refused(chatId: string, error: ByrdApiError): void {
    this.#unanswered.delete(chatId);
    this.#delivery.unfollow(chatId);
    this.link.events.emit({ type: "error", error });
  }

  async #fetchPage(chatId: string, after: number, upTo: number) {
    const settings = this.link.settings;
    const page = await listMessages(settings.client.withCredential(settings.credential), chatId, {
      after_seq: after,
      before_seq: upTo + 1,
      limit: GAP_PAGE,
    });
    return { messages: page.messages, hasMore: page.has_more };
  }
}
