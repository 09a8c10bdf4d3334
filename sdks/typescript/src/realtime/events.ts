/**
 * Typed events, two ways: `on(type, listener)` returning the unsubscribe
 * function, and `for await` over every event. An iterator buffers what
 * arrives between two `next()` calls, so a slow loop misses nothing; it
 * ends after the client's final `closed` state.
 *
 * A listener that throws, or returns a promise that rejects (an `async`
 * listener whose `await rt.send(...)` was refused), fails alone: the other
 * listeners still get the event, and the failure becomes an `error` event
 * of kind `listener`, after the event's delivery. A failure that no
 * `error` listener can take (there is none, or an `error` listener failed)
 * goes to the host's report (`reportError` in browsers) or the console.
 * It is never thrown: an uncaught exception or an unhandled rejection
 * would end a Node process over one listener.
 */
import { ByrdError } from "../errors.js";
import type { ServerChatUpdated, ServerMessage, ServerPresence, ServerRead, ServerTyping } from "../generated/types.js";
import type { ConnectionState } from "./state.js";

/** A chat was resumed after a (re)connect. */
export interface ResumedEvent {
  type: "resumed";
  chat_id: string;
  /** False when the server could not replay the gap and the client paged it over REST. */
  recovered: boolean;
  /** How many messages the client fetched over REST for this resume. */
  fetched: number;
}

export interface StateEvent {
  type: "state";
  state: ConnectionState;
}

/** A frame the server refused that belongs to no `send`, a failure the client recovered from, or a listener that failed. */
export interface ErrorEvent {
  type: "error";
  error: ByrdError;
}

export type RealtimeEvent =
  | ServerMessage
  | ServerTyping
  | ServerRead
  | ServerPresence
  | ServerChatUpdated
  | ResumedEvent
  | StateEvent
  | ErrorEvent;

export type RealtimeEventType = RealtimeEvent["type"];
export type EventOf<K extends RealtimeEventType> = Extract<RealtimeEvent, { type: K }>;

/** What a listener returns is looked at only for a promise's rejection. */
type Listener = (event: RealtimeEvent) => unknown;

export class Emitter {
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #all = new Set<Listener>();

  on<K extends RealtimeEventType>(type: K, listener: (event: EventOf<K>) => void): () => void {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    const wrapped = listener as Listener;
    set.add(wrapped);
    return () => void set.delete(wrapped);
  }

  emit(event: RealtimeEvent): void {
    for (const listener of [...(this.#listeners.get(event.type) ?? []), ...this.#all]) {
      try {
        const returned = listener(event);
        if (isPromiseLike(returned)) returned.then(undefined, (error: unknown) => this.#failed(event, error));
      } catch (error) {
        // Reported after the delivery, so the other listeners get the event first.
        queueMicrotask(() => this.#failed(event, error));
      }
    }
  }

  /** A listener of `event` threw `error` or rejected with it. */
  #failed(event: RealtimeEvent, error: unknown): void {
    const failure = new ByrdError("listener", `a listener of \`${event.type}\` events failed`, { cause: error });
    const heard = (this.#listeners.get("error")?.size ?? 0) + this.#all.size > 0;
    // An `error` listener's own failure is not offered to the `error` listeners again: it could fail forever.
    if (heard && event.type !== "error") this.emit({ type: "error", error: failure });
    else reportElsewhere(failure);
  }

  /** Every event from now on; the iteration ends after a final `closed` state. */
  iterate(isFinal: (event: RealtimeEvent) => boolean): AsyncIterableIterator<RealtimeEvent> {
    const buffer: RealtimeEvent[] = [];
    let wake: (() => void) | null = null;
    let done = false;
    const listener: Listener = (event) => {
      buffer.push(event);
      wake?.();
    };
    this.#all.add(listener);
    const finish = () => {
      done = true;
      this.#all.delete(listener);
    };
    return {
      [Symbol.asyncIterator]() {
        return this;
      },
      async next(): Promise<IteratorResult<RealtimeEvent>> {
        while (buffer.length === 0) {
          if (done) return { value: undefined, done: true };
          await new Promise<void>((resolve) => (wake = resolve));
          wake = null;
        }
        const event = buffer.shift() as RealtimeEvent;
        if (isFinal(event)) finish();
        return { value: event, done: false };
      },
      async return(): Promise<IteratorResult<RealtimeEvent>> {
        finish();
        buffer.length = 0;
        wake?.();
        return { value: undefined, done: true };
      },
    };
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/** Reports a failure no `error` listener can take: as a browser reports a failed event listener, else on the console. */
function reportElsewhere(failure: ByrdError): void {
  const report = (globalThis as { reportError?: (error: unknown) => void }).reportError;
  if (typeof report === "function") report(failure);
  else console.error(failure);
}
