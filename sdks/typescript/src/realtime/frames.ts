/**
 * The client's frames as text on the wire: every frame the server may
 * refuse carries a `ref` that names it (a `send` is named by its
 * `client_msg_id`, which the server echoes), so that an `error` frame
 * answering one says which frame it refuses, and one without a `ref`
 * can only be a frame refused unread (or a guest's replay); and
 * the reading of what the server writes, where anything that is not a
 * JSON object with a `type` is ignored.
 */
import type { ClientFrame, ServerFrame } from "../generated/types.js";
import { textOf } from "./socket.js";

/** `ref` of the client's `subscribe` frames: `subscribe:<chat id>`. */
const SUBSCRIBE_REF = "subscribe:";
/** `ref` of the client's `refresh_token` frames. */
const REFRESH_REF = "refresh_token";
/** `ref`s of the frames whose refusal the client only reports: `<type>:<chat id>`, or the type alone. */
const REPORTED = ["unsubscribe", "typing", "read", "ping"] as const;

export function subscribeFrame(chatId: string, afterSeq: number): ClientFrame {
  return { type: "subscribe", chat_id: chatId, after_seq: afterSeq, ref: `${SUBSCRIBE_REF}${chatId}` };
}

export function unsubscribeFrame(chatId: string): ClientFrame {
  return { type: "unsubscribe", chat_id: chatId, ref: `unsubscribe:${chatId}` };
}

export function typingFrame(chatId: string, active: boolean): ClientFrame {
  return { type: "typing", chat_id: chatId, active, ref: `typing:${chatId}` };
}

export function readFrame(chatId: string, seq: number): ClientFrame {
  return { type: "read", chat_id: chatId, seq, ref: `read:${chatId}` };
}

export function pingFrame(): ClientFrame {
  return { type: "ping", nonce: null, ref: "ping" };
}

export function refreshFrame(token: string): ClientFrame {
  return { type: "refresh_token", token, ref: REFRESH_REF };
}

/** The frame an `error` frame's `ref` names, as the client behaviour table names frames. */
export type RefusedFrame =
  | { frame: "send"; clientMsgId: string }
  | { frame: "subscribe"; chatId: string }
  | { frame: "refresh_token" }
  | { frame: (typeof REPORTED)[number] }
  | { frame: "other" }
  | { frame: null };

/** Which frame `ref` names; `isSend` says whether it is a send still waiting for its answer. */
export function refusedFrame(ref: string | null, isSend: (clientMsgId: string) => boolean): RefusedFrame {
  if (ref === null) return { frame: null };
  if (isSend(ref)) return { frame: "send", clientMsgId: ref };
  if (ref.startsWith(SUBSCRIBE_REF)) return { frame: "subscribe", chatId: ref.slice(SUBSCRIBE_REF.length) };
  if (ref === REFRESH_REF) return { frame: "refresh_token" };
  const reported = REPORTED.find((type) => ref === type || ref.startsWith(`${type}:`));
  return reported ? { frame: reported } : { frame: "other" };
}

export function parseFrame(data: unknown): ServerFrame | null {
  const text = textOf(data);
  if (text === null) return null;
  try {
    const frame: unknown = JSON.parse(text);
    return frame !== null && typeof frame === "object" && typeof (frame as { type?: unknown }).type === "string"
      ? (frame as ServerFrame)
      : null;
  } catch {
    return null;
  }
}
