/**
 * Typed events, two ways: `on(type, listener)` returning the unsubscribe
 * function, and `for await` over every event. An iterator buffers what
 * arrives between two `next()` calls, so a slow loop misses nothing; it
 * ends after the client's final `closed` state.
 */
import type { ByrdError } from "../errors.js";
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

/** A frame the server refused that belongs to no `send`, or a failure the client recovered from. */
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

type Listener = (event: RealtimeEvent) => void;

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
        listener(event);
      } catch (error) {
        // A throwing listener must not break delivery to the others, nor the client.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
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
