/**
 * Client frames, paced. The server takes so many frames a second per
 * connection (20, bursts of 40, by default) and refuses the rest unread,
 * then closes a connection that keeps overrunning (1008, final). So the
 * client never overruns: frames beyond the allowance wait in order, and
 * go out as it refills. A burst after a reconnect (resubscribes, resends)
 * is spread out instead of refused.
 *
 * The frames waiting are bounded (`PACED_FRAMES`): an application that
 * writes faster than the pace for long, or a server that announces a pace
 * of one frame a second, meets a full queue and a refusal it can see
 * (`send` answers `full`), never a queue that grows without end.
 */

import { PACED_FRAMES } from "../generated/client.js";

/** The frames that may wait for the allowance at once, from the client table. */
export { PACED_FRAMES };

/** What became of a frame: on its way (written or waiting its turn), refused as the queue is full, or dropped with its socket. */
export type Paced = "queued" | "full" | "gone";

export class Pacer {
  #tokens: number;
  #refilledAt = Date.now();
  readonly #waiting: string[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;

  /** `write` hands a frame to the socket; false when the socket is gone. */
  constructor(
    private readonly write: (text: string) => boolean,
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly capacity = PACED_FRAMES,
  ) {
    this.#tokens = burst;
  }

  /** Queues a frame, unless `capacity` frames already wait. */
  send(text: string): Paced {
    if (this.#waiting.length >= this.capacity) return "full";
    this.#waiting.push(text);
    return this.#flush() ? "queued" : "gone";
  }

  /** Frames still waiting for the allowance. */
  get backlog(): number {
    return this.#waiting.length;
  }

  /** Whether the next frame would be refused. */
  get full(): boolean {
    return this.#waiting.length >= this.capacity;
  }

  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#waiting.length = 0;
  }

  #flush(): boolean {
    const now = Date.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#refilledAt) / 1000) * this.perSecond);
    this.#refilledAt = now;
    while (this.#waiting.length > 0 && this.#tokens >= 1) {
      if (!this.write(this.#waiting[0] as string)) {
        this.stop();
        return false;
      }
      this.#waiting.shift();
      this.#tokens -= 1;
    }
    if (this.#waiting.length > 0 && this.#timer === null) {
      const wait = Math.ceil(((1 - this.#tokens) / this.perSecond) * 1000);
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#flush();
      }, wait);
    }
    return true;
  }
}
