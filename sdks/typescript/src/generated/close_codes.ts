// Stand-in for the close-code table byrd-sdk-gen will generate from
// `CloseCode` in spec/v1/ws.schema.json; written by hand until then.

/** What a client does after a close (`x-byrd-client-action`). */
export type CloseAction = "reconnect" | "refresh_token_then_reconnect" | "stop";

/** The close codes of the spec: reason text and the client's action. */
export const CLOSE_CODES: Readonly<Record<number, { name: string; action: CloseAction }>> = {
  1000: { name: "normal", action: "stop" },
  1001: { name: "server_shutdown", action: "reconnect" },
  1008: { name: "policy_violation", action: "stop" },
  1009: { name: "frame_too_large", action: "reconnect" },
  1011: { name: "resume_required", action: "reconnect" },
  4001: { name: "token_expired", action: "refresh_token_then_reconnect" },
  4002: { name: "token_revoked", action: "stop" },
  4008: { name: "slow_consumer", action: "reconnect" },
  4009: { name: "heartbeat_timeout", action: "reconnect" },
};

/** The action for `code`; a code the table does not know means `reconnect`. */
export function closeAction(code: number): CloseAction {
  return CLOSE_CODES[code]?.action ?? "reconnect";
}
