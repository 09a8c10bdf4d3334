/**
 * The realtime client's states, as the application sees them. Every
 * change is also a `state` event.
 */
import type { ByrdError } from "../errors.js";

export type ConnectionState =
  /** Not started: `connect()` has not been called yet. */
  | { status: "idle" }
  /** Opening the WebSocket; attempt 1 is the first try. */
  | { status: "connecting"; attempt: number }
  /** `hello` received: frames flow. */
  | { status: "connected" }
  /** The connection dropped; attempt `attempt` starts after `delay` ms. */
  | { status: "reconnecting"; attempt: number; delay: number }
  /**
   * Final: closed by the application, by the server with a close code
   * whose action is `stop`, or because the credentials were refused.
   * `error` is null when the application closed it.
   */
  | { status: "closed"; code: number | null; reason: string; error: ByrdError | null };
