/**
 * Sends waiting for their `ack`. Every send stays here, in the order it was
 * made, until the server acks it or refuses it; after each (re)connect the
 * client writes again every send the new connection has not carried, with
 * the same `client_msg_id`, so the server stores each at most once. The
 * number waiting is bounded: a send that finds the outbox full fails at once.
 */
import { ByrdError } from "../errors.js";
import type { Message } from "../generated/types.js";

export interface PendingSend {
  readonly clientMsgId: string;
  readonly chatId: string;
  readonly frame: string;
  /** The connection that last carried it; 0 when none has yet. */
  writtenOn: number;
  /** How often the server refused it without storing it (rate limits, overload). */
  refusals: number;
  readonly promise: Promise<Message>;
  resolve(message: Message): void;
  reject(error: unknown): void;
}

export class Outbox {
  readonly #pending = new Map<string, PendingSend>();

  constructor(readonly limit: number) {}

  get size(): number {
    return this.#pending.size;
  }

  /** Queues a send; a repeated `client_msg_id` still waiting shares the first one's promise. */
  add(chatId: string, clientMsgId: string, frame: string): PendingSend {
    const existing = this.#pending.get(clientMsgId);
    if (existing) return existing;
    if (this.#pending.size >= this.limit) {
      throw new ByrdError("queue_full", `${this.limit} sends are already waiting for the server`);
    }
    let resolve!: (message: Message) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<Message>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const entry: PendingSend = { clientMsgId, chatId, frame, writtenOn: 0, refusals: 0, promise, resolve, reject };
    this.#pending.set(clientMsgId, entry);
    return entry;
  }

  /** Sends the connection `generation` has not carried yet, oldest first. */
  unwritten(generation: number): PendingSend[] {
    return [...this.#pending.values()].filter((entry) => entry.writtenOn !== generation);
  }

  /** Sends the connection `generation` carried and has not answered, oldest first. */
  carried(generation: number): PendingSend[] {
    return [...this.#pending.values()].filter((entry) => entry.writtenOn === generation);
  }

  get(clientMsgId: string): PendingSend | undefined {
    return this.#pending.get(clientMsgId);
  }

  /** Settles one send; false when no send waits under that id (a late or repeated answer). */
  settle(clientMsgId: string, outcome: { message: Message } | { error: unknown }): boolean {
    const entry = this.#pending.get(clientMsgId);
    if (!entry) return false;
    this.#pending.delete(clientMsgId);
    if ("message" in outcome) entry.resolve(outcome.message);
    else entry.reject(outcome.error);
    return true;
  }

  /** Rejects every waiting send: the client closed for good. */
  failAll(error: unknown): void {
    for (const id of [...this.#pending.keys()]) this.settle(id, { error });
  }
}
