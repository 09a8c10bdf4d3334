/**
 * Client frames, paced. The server takes so many frames a second per
 * connection (20, bursts of 40, by default) and refuses the rest unread,
 * then closes a connection that keeps overrunning (1008, final). So the
 * client never overruns: frames beyond the allowance wait in order, and
 * go out as it refills. A burst after a reconnect (resubscribes, resends)
 * is spread out instead of refused.
 */
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
  ) {
    this.#tokens = burst;
  }

  /** Queues a frame; false when the socket is gone. */
  send(text: string): boolean {
    this.#waiting.push(text);
    return this.#flush();
  }

  /** Frames still waiting for the allowance. */
  get backlog(): number {
    return this.#waiting.length;
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
