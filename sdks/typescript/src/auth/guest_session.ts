/**
 * A visitor's chat: its id and its guest token (24 hours), renewed with
 * `POST /v1/chats/{chat_id}/token` while the old token is still valid. A
 * guest token that expired cannot be renewed; the visitor starts a new chat.
 *
 * The visitor outlives the chat: a start answers a `visitorToken` to keep
 * and send back (`visitor_token`) at the next start, so the next chat is the
 * same visitor's, and may carry `context` and an `identity` from a trusted
 * issuer. A verified visitor's session lists their own chats (`ownChats`)
 * and opens any of them still open (`openOwnChat`), on any device.
 */
import { issueOwnChatToken, listOwnChats, renewGuestToken, startChat, type ListOwnChatsQuery } from "../generated/operations.js";
import type { Chat, ChatPage, CreateChatRequest } from "../generated/types.js";
import { Client } from "../rest/client.js";
import { authFailure } from "./agent_session.js";
import { RefreshingCredential, expiryOf, readClaims, staticToken } from "./credential.js";

export class GuestSession extends RefreshingCredential {
  readonly kind = "guest" as const;
  readonly chatId: string;
  readonly #client: Client;
  /** Called with each new guest token, for pages that keep it (to resume after a reload). */
  onToken: ((token: string) => void) | null = null;

  private constructor(client: Client, chatId: string, token: string, expiresAt: number | null) {
    super();
    this.#client = client.withCredential([]);
    this.chatId = chatId;
    this.current = token;
    this.expiresAt = expiresAt;
  }

  /**
   * Starts a chat (`POST /v1/chats`); `chat` is the new chat, and
   * `visitorToken` the token to keep and send as `visitor_token` at the
   * next start (`null` for a verified visitor, whom the identity names).
   */
  static async start(
    client: Client,
    request?: CreateChatRequest,
  ): Promise<{ session: GuestSession; chat: Chat; visitorToken: string | null }> {
    const answer = await startChat(client.withCredential([]), request);
    const session = new GuestSession(client, answer.chat.id, answer.guest_token, Date.now() + answer.expires_in * 1000);
    return { session, chat: answer.chat, visitorToken: answer.visitor_token };
  }

  /** Resumes a chat from a stored guest token (the chat id is read from it). */
  static resume(client: Client, token: string): GuestSession {
    const chat = readClaims(token)?.chat as { id?: unknown } | undefined;
    if (typeof chat?.id !== "string") throw new TypeError("not a guest token: it has no chat claim");
    return new GuestSession(client, chat.id, token, expiryOf(token));
  }

  /** The current guest token, to store for a later `resume`. */
  get guestToken(): string | null {
    return this.current;
  }

  /** A client whose calls use this chat's guest token. */
  client(): Client {
    return this.#client.withCredential(this);
  }

  /** A verified visitor's own chats, newest first (`GET /v1/visitor/chats`); an anonymous visitor's are `forbidden`. */
  ownChats(query?: ListOwnChatsQuery): Promise<ChatPage> {
    return listOwnChats(this.client(), query);
  }

  /**
   * A session for another chat of this verified visitor, still open
   * (`POST /v1/visitor/chats/{chat_id}/token`): another visitor's chat is
   * `chat_not_found`, a closed one `chat_closed`.
   */
  async openOwnChat(chatId: string): Promise<GuestSession> {
    const answer = await issueOwnChatToken(this.client(), chatId);
    return new GuestSession(this.#client, chatId, answer.guest_token, Date.now() + answer.expires_in * 1000);
  }

  protected async renew(): Promise<void> {
    const token = this.current ?? "";
    const answer = await renewGuestToken(this.#client.withCredential(staticToken("guest", token)), this.chatId).catch(authFailure);
    this.current = answer.guest_token;
    this.expiresAt = Date.now() + answer.expires_in * 1000;
    this.onToken?.(answer.guest_token);
  }
}
