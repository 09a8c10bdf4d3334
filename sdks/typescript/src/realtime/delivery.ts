/**
 * Exactly once, in `seq` order. Per followed chat the client keeps the
 * highest `seq` it delivered, and hands the application only the message
 * right after it. A message further ahead means a gap (after a resume the
 * server could not replay, or any hole): the gap is paged over REST first.
 * Work per chat runs one task at a time, so a live message waits behind
 * the fetch of the gap before it.
 */
import type { Message, ServerSubscribed } from "../generated/types.js";

/** Pages `(after, upTo]` of a chat's messages, ascending; may return fewer (then more pages follow). */
export type PageFetcher = (chatId: string, after: number, upTo: number) => Promise<{ messages: Message[]; hasMore: boolean }>;

interface ChatCursor {
  delivered: number;
  chain: Promise<void>;
  /** Tasks queued or running; while none are, work that needs no fetch runs at once. */
  busy: number;
}

export interface DeliveryHooks {
  fetchPage: PageFetcher;
  deliver(message: Message): void;
  resumed(chatId: string, recovered: boolean, fetched: number): void;
  /** A gap could not be fetched on connection `generation`. */
  failed(error: unknown, generation: number): void;
  /** The connection now current; tasks of older ones are skipped. */
  generation(): number;
}

export class Delivery {
  readonly #chats = new Map<string, ChatCursor>();

  constructor(private readonly hooks: DeliveryHooks) {}

  /** Follows a chat from `afterSeq` (messages up to it count as delivered). */
  follow(chatId: string, afterSeq: number): void {
    const cursor = this.#chats.get(chatId);
    if (cursor) cursor.delivered = Math.max(cursor.delivered, afterSeq);
    else this.#chats.set(chatId, { delivered: afterSeq, chain: Promise.resolve(), busy: 0 });
  }

  unfollow(chatId: string): void {
    this.#chats.delete(chatId);
  }

  /** The highest `seq` delivered, or undefined for a chat not followed. */
  delivered(chatId: string): number | undefined {
    return this.#chats.get(chatId)?.delivered;
  }

  followed(): [chatId: string, delivered: number][] {
    return [...this.#chats].map(([id, cursor]) => [id, cursor.delivered]);
  }

  /** A `message` frame, live or replayed. */
  onMessage(message: Message): void {
    // The common case, in order and nothing pending, is delivered at once,
    // so events keep the order of the frames that caused them.
    const cursor = this.#chats.get(message.chat_id);
    if (cursor && cursor.busy === 0 && message.seq <= cursor.delivered + 1) {
      if (message.seq === cursor.delivered + 1) this.#deliver(cursor, message);
      return;
    }
    this.#enqueue(message.chat_id, async (cursor) => {
      if (message.seq <= cursor.delivered) return;
      await this.#fill(message.chat_id, cursor, message.seq - 1);
      this.#deliver(cursor, message);
    });
  }

  /** A `subscribed` frame: the replay is done, or (not recovered) the gap is ours to page. */
  onSubscribed(frame: ServerSubscribed): void {
    const cursor = this.#chats.get(frame.chat_id);
    if (cursor && cursor.busy === 0 && (frame.recovered || frame.last_seq <= cursor.delivered)) {
      this.hooks.resumed(frame.chat_id, frame.recovered, 0);
      return;
    }
    this.#enqueue(frame.chat_id, async (cursor) => {
      const fetched = frame.recovered ? 0 : await this.#fill(frame.chat_id, cursor, frame.last_seq);
      this.hooks.resumed(frame.chat_id, frame.recovered, fetched);
    });
  }

  #enqueue(chatId: string, task: (cursor: ChatCursor) => Promise<void>): void {
    const cursor = this.#chats.get(chatId);
    if (!cursor) return;
    const generation = this.hooks.generation();
    cursor.busy++;
    cursor.chain = cursor.chain.then(async () => {
      try {
        // Skip work of a connection that is gone, or a chat no longer followed:
        // the next connection's resume covers it.
        if (generation !== this.hooks.generation() || this.#chats.get(chatId) !== cursor) return;
        await task(cursor);
      } catch (error) {
        this.hooks.failed(error, generation);
      } finally {
        cursor.busy--;
      }
    });
  }

  /** Pages and delivers `(delivered, upTo]`; returns how many were delivered. */
  async #fill(chatId: string, cursor: ChatCursor, upTo: number): Promise<number> {
    let fetched = 0;
    while (cursor.delivered < upTo) {
      const before = cursor.delivered;
      const page = await this.hooks.fetchPage(chatId, before, upTo);
      for (const message of page.messages) {
        if (message.seq <= upTo && this.#deliver(cursor, message)) fetched++;
      }
      if (cursor.delivered === before || (!page.hasMore && cursor.delivered < upTo)) {
        // `seq` has no gaps, so this is a server fault; never skip past it.
        throw new Error(`chat ${chatId}: messages ${cursor.delivered + 1} to ${upTo} could not be fetched`);
      }
    }
    return fetched;
  }

  #deliver(cursor: ChatCursor, message: Message): boolean {
    if (message.seq !== cursor.delivered + 1 || this.#chats.get(message.chat_id) !== cursor) return false;
    cursor.delivered = message.seq;
    this.hooks.deliver(message);
    return true;
  }
}
