/**
 * Following the queue (`subscribe_queue`, agents only): the server then
 * sends the messages, typing and read events of every chat that is not
 * closed, without a `subscribe` per chat. The client sends it again after
 * every `hello`, as it resumes followed chats, until the application
 * unsubscribes from the queue (`unsubscribe_queue`).
 *
 * Nothing is replayed: a chat's messages that came while disconnected are
 * found by comparing the chat list's `last_seq` (`listChatSummaries`) with
 * what the application has. A chat the client also follows with
 * `subscribe` keeps that chat's exactly-once, in-order delivery; the
 * queue's messages of other chats are passed on as they come (the server
 * sends each once and in order on a connection).
 */
import type { ClientFrame } from "../generated/types.js";
import type { Link } from "./link.js";

/** `ref` of the client's `subscribe_queue` frames. */
export const QUEUE_REF = "subscribe_queue";

export function subscribeQueueFrame(): ClientFrame {
  return { type: "subscribe_queue", ref: QUEUE_REF };
}

/** `ref` of the client's `unsubscribe_queue` frames. */
export const UNQUEUE_REF = "unsubscribe_queue";

export function unsubscribeQueueFrame(): ClientFrame {
  return { type: "unsubscribe_queue", ref: UNQUEUE_REF };
}

export class QueueFollow {
  #following = false;

  constructor(private readonly link: Link) {}

  /** Whether the application asked to follow the queue. */
  get following(): boolean {
    return this.#following;
  }

  /** Follows the queue from now on, across reconnects. */
  follow(): void {
    if (this.#following) return;
    this.#following = true;
    if (this.link.state.status === "connected") this.#write(subscribeQueueFrame, true);
  }

  /** Stops following the queue, now and on every later socket. */
  unfollow(): void {
    if (!this.#following) return;
    this.#following = false;
    if (this.link.state.status === "connected") this.#write(unsubscribeQueueFrame, false);
  }

  /** After `hello`: follow the queue again on the new socket. */
  resume(): void {
    if (this.#following) this.#write(subscribeQueueFrame, true);
  }

  /**
   * A frame the paced writer has no room for goes again later, on the same
   * socket, unless the application changed its mind meanwhile.
   */
  #write(frame: () => ClientFrame, following: boolean): void {
    const link = this.link;
    if (link.write(frame()) || !link.queueFull) return;
    const generation = link.generation;
    link.timeout(() => {
      if (generation === link.generation && this.#following === following) this.#write(frame, following);
    }, link.frameRetryDelay());
  }
}
