/**
 * What the widget tells the visitor when a chat ends or a message is not
 * sent, in their words rather than the API's codes.
 */
import { ByrdError, apiErrorOf, type Chat } from "@byrd/sdk";

/** Why the chat ended, for the visitor: an idle close says that nobody answered in time, not that someone ended it. */
export function closedSentence(chat: Chat): string {
  if (chat.close_reason === "idle") {
    return "No one was free to answer, so this chat closed after a quiet while. Write below to start a new one.";
  }
  return "This chat was closed. Write below to start a new one.";
}

/** A sentence for a failed send. */
export function describe(error: unknown): string {
  const api = apiErrorOf(error);
  if (api?.code === "too_many_open_chats") return "Too many chats are open from your network. Continue in one of them, or try again later.";
  if (api?.code === "body_too_long") return "Too long to send.";
  if (api?.code === "rate_limited") return "Too many messages at once. Try again in a moment.";
  if (api?.code === "chat_closed") return "The chat was closed.";
  if (error instanceof ByrdError && error.kind === "transport") return "No connection.";
  return "Not sent.";
}
