/**
 * The live socket as every part of the realtime client sees it: the
 * client's state, the socket of the current generation and the token it
 * holds, the paced writer, and the timers. Each socket gets a generation
 * number; whatever belongs to an older generation (timers, gap fetches,
 * frames) is ignored, so a late event of a dead socket cannot touch the
 * live one. Closing for good clears every timer, so nothing of the client
 * keeps a process alive after `close()`.
 */
import { ByrdError } from "../errors.js";
import { FRAME_BACKOFF } from "../generated/client.js";
import type { ClientFrame, ServerHello } from "../generated/types.js";
import { fullJitter } from "./backoff.js";
import { Emitter } from "./events.js";
import { type FrameLimits, type Settings, initialLimits, limitsOf } from "./options.js";
import { Pacer } from "./pacer.js";
import type { WebSocketLike } from "./socket.js";
import type { ConnectionState } from "./state.js";

/** How a socket ended. */
export type End =
  | { kind: "closed"; code: number; reason: string }
  | { kind: "lost"; reason: string }
  | { kind: "application" };

/** The final state. */
export type Closed = Extract<ConnectionState, { status: "closed" }>;

export class Link {
  readonly events = new Emitter();
  state: ConnectionState = { status: "idle" };
  /** Bumped for every socket; work of an older generation is dropped. */
  generation = 0;
  socket: WebSocketLike | null = null;
  /** The token the current socket was opened or last refreshed with. */
  token: string | null = null;
  lastHeard = 0;
  heartbeatMs = 0;
  /** Ends the current socket; null while there is none. */
  endSocket: ((end: End) => void) | null = null;
  /** The frame limit and pace of the current socket (before the first `hello`, the options' or the protocol's). */
  limits: FrameLimits;
  /** Paces the current socket's frames; null while there is none. */
  #pacer: Pacer | null = null;
  /** Refusals of the current socket's `subscribe` and `refresh_token` frames; each wait is longer. */
  #frameRefusals = 0;
  /** Aborted when the client closes for good: cuts short a request on the way to a connect (a ticket). */
  readonly #closing = new AbortController();
  /** Cuts a pending backoff short. */
  #wakeUp: (() => void) | null = null;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(readonly settings: Settings) {
    this.limits = initialLimits(settings);
  }

  /** Aborted once the client is closed for good. */
  get closing(): AbortSignal {
    return this.#closing.signal;
  }

  /** Read through a getter: the state changes across every `await`. */
  get closed(): boolean {
    return this.state.status === "closed";
  }

  setState(state: ConnectionState): void {
    this.state = state;
    this.events.emit({ type: "state", state });
  }

  emitError(error: unknown, message: string): void {
    const wrapped = error instanceof ByrdError ? error : new ByrdError("transport", message, { cause: error });
    this.events.emit({ type: "error", error: wrapped });
  }

  /** `hello` on the current socket: its heartbeat and limits are known, and frames may flow. */
  connected(hello: ServerHello): void {
    const socket = this.socket;
    this.#pacer?.stop();
    this.limits = limitsOf(this.settings, hello, this.limits.maxFrameBytes);
    this.heartbeatMs = this.limits.heartbeatMs;
    this.#pacer = new Pacer((text) => this.#socketWrite(socket, text), this.limits.perSecond, this.limits.burst);
    this.#frameRefusals = 0;
    this.setState({ status: "connected" });
  }

  /** The socket ended: nothing more is written to it. */
  stopPacing(): void {
    this.#pacer?.stop();
    this.#pacer = null;
  }

  /** Writes a frame, paced; false when not connected or when the pacer's queue is full (`queueFull` tells which). */
  write(frame: ClientFrame): boolean {
    return this.writeText(JSON.stringify(frame));
  }

  writeText(text: string): boolean {
    if (this.state.status !== "connected" || !this.#pacer) return false;
    return this.#pacer.send(text) === "queued";
  }

  /** Whether the live socket's pacer refuses frames now, its queue full. */
  get queueFull(): boolean {
    return this.#pacer?.full ?? false;
  }

  #socketWrite(socket: WebSocketLike | null, text: string): boolean {
    if (!socket || socket !== this.socket || socket.readyState !== 1) return false;
    try {
      socket.send(text);
      return true;
    } catch {
      return false;
    }
  }

  /** Ends the current socket from this side, to reconnect. */
  drop(reason: string): void {
    this.endSocket?.({ kind: "lost", reason });
  }

  /** The wait before a refused `subscribe` or `refresh_token` frame goes again. */
  frameRetryDelay(): number {
    return fullJitter(++this.#frameRefusals, FRAME_BACKOFF);
  }

  /** Runs `fn` after the frame backoff, unless the socket is gone by then (the next one resumes everything anyway). */
  afterFrameBackoff(fn: () => void): void {
    const generation = this.generation;
    this.timeout(() => {
      if (generation === this.generation) fn();
    }, this.frameRetryDelay());
  }

  /** Closes for good: the state first, so that whatever the socket's end wakes sees it. */
  close(state: Closed): void {
    this.state = state;
    this.endSocket?.({ kind: "application" });
    this.generation++;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#closing.abort();
    this.#wakeUp?.();
  }

  // Timers.

  /** Waits `ms`, or less when `wakeUp` comes first. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.timeout(() => done(), ms);
      const done = () => {
        this.clearTimer(timer);
        this.#wakeUp = null;
        resolve();
      };
      this.#wakeUp = done;
    });
  }

  /** Cuts a pending `sleep` short. */
  wakeUp(): void {
    this.#wakeUp?.();
  }

  timeout(fn: () => void, ms: number): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
    return timer;
  }

  clearTimer(timer: ReturnType<typeof setTimeout>): void {
    clearTimeout(timer);
    this.#timers.delete(timer);
  }
}
