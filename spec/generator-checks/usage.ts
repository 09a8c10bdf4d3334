// What an integrator writes against the types the stock generators emit
// from spec/v1. `tsc --strict` must accept every line, and must refuse
// each line marked `@ts-expect-error` (an unused marker is itself an
// error), so both "this compiles" and "this does not" are checked.
import type { ClientFrame, ClientSend, ServerFrame, Chat } from "./generated/ws.js";
import type { Claims } from "./generated/claims.js";
import type { components, operations } from "./generated/openapi.js";

const chatId = "0193a5f2-7000-7abc-8def-000000000001";

// Every field of a client frame is there, and required.
export const send: ClientFrame = { type: "send", chat_id: chatId, client_msg_id: "c1", body: "Hi" };
// @ts-expect-error: a send without body is not a send.
export const bodiless: ClientSend = { type: "send", chat_id: chatId, client_msg_id: "c1" };
// @ts-expect-error: nor is a bare type.
export const bare: ClientFrame = { type: "send" };
// @ts-expect-error: a subscribe needs its chat.
export const chatless: ClientFrame = { type: "subscribe" };
export const subscribe: ClientFrame = { type: "subscribe", chat_id: chatId, after_seq: 3 };
export const read: ClientFrame = { type: "read", chat_id: chatId, seq: 1 };
// @ts-expect-error: a read marks a seq.
export const seqless: ClientFrame = { type: "read", chat_id: chatId };

// Server frames narrow on `type`: an ack is not a message.
export function describe(frame: ServerFrame): string {
  switch (frame.type) {
    case "ack":
      return `${frame.client_msg_id} stored as ${frame.message.seq}`;
    case "message":
      return frame.message.body;
    case "error":
      return `${frame.code}: ${frame.message} (${frame.ref ?? "no ref"})`;
    case "hello":
      return `protocol ${frame.protocol_version}, ping every ${frame.heartbeat_interval_ms} ms`;
    case "subscribed":
      return frame.recovered ? "recovered" : `page up to ${frame.last_seq}`;
    default:
      return frame.type;
  }
}

export function ackOnly(frame: ServerFrame): string | undefined {
  if (frame.type === "pong") {
    // @ts-expect-error: a pong has no message.
    return frame.message;
  }
  return undefined;
}

// Fields the server always sends are required, `null` when empty.
// @ts-expect-error: assigned_agent_id, closed_at and context are missing.
export const partialChat: Chat = {
  id: chatId,
  status: "open",
  visitor: { id: chatId, name: null, email: null, verified: false, issuer: null, external_id: null, attributes: [] },
  subject: null,
  created_at: "2026-01-01T12:00:00Z",
  updated_at: "2026-01-01T12:00:00Z",
  last_seq: 0,
};

// Token claims are a union on `type`.
export function chatOf(claims: Claims): string | null {
  return claims.type === "guest" ? claims.chat.id : null;
}

// The REST types: request bodies, responses, the union of /v1/me.
type SendBody = NonNullable<operations["sendMessage"]["requestBody"]>["content"]["application/json"];
export const body: SendBody = { client_msg_id: "c1", body: "Hi" };
// @ts-expect-error: a message needs its body.
export const noBody: SendBody = { client_msg_id: "c1" };
type Me = components["schemas"]["Me"];
export function who(me: Me): string {
  return me.type === "agent" ? `${me.name} (${me.role})` : `guest of ${me.chat_id}`;
}
type Sent = operations["sendMessage"]["responses"]["201"]["content"]["application/json"];
export const seqOf = (message: Sent): number => message.seq;
type Page = operations["listChats"]["responses"]["200"]["content"]["application/json"];
export const nextOf = (page: Page): string | null => page.next_cursor;
