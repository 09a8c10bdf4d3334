/**
 * Sending: each `send` becomes one frame, made once, kept in the outbox
 * (`outbox.ts`) until its `ack` or refusal, written on the live socket at
 * once and on every new one that has not carried it, always with the same
 * `client_msg_id`, so the server stores it once. A refusal that stored
 * nothing (rate limits, overload) sends the same frame again after a
 * growing wait; any other refusal settles the send with the server's error.
 * A refusal that names no frame writes every unacked send of the socket
 * again (the server acks a repeated `client_msg_id` as a duplicate).
 * A send the paced writer has no room for fails at once with `queue_full`.
 */
import { ByrdError, type ByrdApiError } from "../errors.js";
import { FRAME_BACKOFF } from "../generated/client.js";
import type { ClientFrame, Message, ServerAck } from "../generated/types.js";
import { randomUuid } from "../uuid.js";
import { fullJitter } from "./backoff.js";
import type { Link } from "./link.js";
import type { SendOptions } from "./options.js";
import { Outbox } from "./outbox.js";

export class Sender {
  readonly #outbox: Outbox;

  constructor(private readonly link: Link) {
    this.#outbox = new Outbox(link.settings.maxQueuedSends);
  }

  send(chatId: string, body: string, options: SendOptions): Promise<Message> {
    const link = this.link;
    if (link.state.status === "closed") {
      return Promise.reject(link.state.error ?? new ByrdError("closed", "the realtime client is closed"));
    }
    const clientMsgId = options.clientMsgId ?? randomUuid();
    const frame = JSON.stringify({ type: "send", chat_id: chatId, client_msg_id: clientMsgId, body } satisfies ClientFrame);
    const maxFrameBytes = link.limits.maxFrameBytes;
    if (new TextEncoder().encode(frame).length > maxFrameBytes) {
      return Promise.reject(new RangeError(`the message is larger than one frame may be (${maxFrameBytes} bytes)`));
    }
    let entry;
    try {
      entry = this.#outbox.add(chatId, clientMsgId, frame);
    } catch (error) {
      return Promise.reject(error);
    }
    if (link.state.status === "connected" && entry.writtenOn !== link.generation) this.#write(entry.clientMsgId);
    return entry.promise;
  }

  /** Whether a send waits for its answer under `clientMsgId`. */
  isWaiting(clientMsgId: string): boolean {
    return this.#outbox.get(clientMsgId) !== undefined;
  }

  onAck(frame: ServerAck): void {
    this.#outbox.settle(frame.client_msg_id, { message: frame.message });
  }

  /** After `hello` on socket `generation`: every send it has not carried, oldest first. */
  resend(generation: number): void {
    for (const entry of this.#outbox.unwritten(generation)) this.#write(entry.clientMsgId);
  }

  /** Nothing was stored: the same frame goes again, later. */
  sendAgain(clientMsgId: string): void {
    const entry = this.#outbox.get(clientMsgId);
    if (!entry) return;
    const link = this.link;
    const generation = link.generation;
    entry.refusals++;
    link.timeout(() => {
      if (generation === link.generation) this.#write(entry.clientMsgId);
    }, fullJitter(entry.refusals, FRAME_BACKOFF));
  }

  /** A refusal named no frame: every send the live socket carried and has not acked goes again, on it. */
  resendUnanswered(): void {
    const generation = this.link.generation;
    for (const entry of this.#outbox.carried(generation)) this.#write(entry.clientMsgId);
  }

  /** The server refused the send for good. */
  refused(clientMsgId: string, error: ByrdApiError): void {
    this.#outbox.settle(clientMsgId, { error });
  }

  /** Rejects every waiting send: the client closed for good. */
  failAll(error: unknown): void {
    this.#outbox.failAll(error);
  }

  /** Writes a send on the live socket; one that finds the pacer's queue full fails at once, as one finding the outbox full does. */
  #write(clientMsgId: string): void {
    const entry = this.#outbox.get(clientMsgId);
    if (!entry) return;
    if (this.link.writeText(entry.frame)) {
      entry.writtenOn = this.link.generation;
    } else if (this.link.queueFull) {
      const error = new ByrdError("queue_full", "too many frames are already waiting for the server's allowance");
      this.#outbox.settle(clientMsgId, { error });
    }
  }
}
