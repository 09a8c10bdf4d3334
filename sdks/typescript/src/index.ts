/**
 * `@byrd/sdk`: the Byrd protocol (spec/v1) for browsers and Node.js.
 *
 * - REST: one function per operation (`listChats(client, ...)`), typed
 *   bodies and `ByrdApiError`s, retries, and `...All` async iterators over
 *   cursor pages. Import only what you call: the package is tree-shakeable.
 * - Credentials: `AgentSession`, `GuestSession`, `tokenProvider`.
 * - Realtime: `RealtimeClient`, which reconnects, resumes every chat from
 *   its last `seq`, delivers each message once in order, and resends.
 */
export * from "./generated/types.js";
export * from "./generated/operations.js";
export * from "./generated/protocol.js";
export { Client, type ClientOptions, type RequestOptions } from "./rest/client.js";
export { ByrdApiError, ByrdError, type ByrdErrorKind, apiErrorOf } from "./errors.js";
export { type Credential, type TokenKind, readClaims, staticToken, tokenProvider } from "./auth/credential.js";
export { AgentSession } from "./auth/agent_session.js";
export { GuestSession } from "./auth/guest_session.js";
export { RealtimeClient, type RealtimeOptions, type SendOptions } from "./realtime/client.js";
export { randomUuid } from "./uuid.js";
export type { ConnectionState } from "./realtime/state.js";
export type { RealtimeEvent, RealtimeEventType, EventOf, ResumedEvent, StateEvent, ErrorEvent } from "./realtime/events.js";
export type { BackoffOptions, BackoffOverrides } from "./realtime/backoff.js";
export { resolveWebSocket, type SocketHandler, type WebSocketConstructor, type WebSocketLike } from "./realtime/socket.js";
