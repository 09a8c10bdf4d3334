// Stand-in for the REST operations byrd-sdk-gen will generate from
// spec/v1/openapi.json; written by hand until the generator has a
// TypeScript emitter. One function per operation, named by operationId.

import type { Client, RequestOptions } from "../rest/client.js";
import { paginate, request } from "../rest/client.js";
import type * as T from "./types.js";

const path = encodeURIComponent;

/** `GET /healthz`: whether the server and its database answer. */
export function getHealth(client: Client, options?: RequestOptions): Promise<T.Health> {
  return request(client, { method: "GET", path: "/healthz", tokens: [], idempotent: true }, options);
}

/** `POST /v1/auth/login`: log an agent in; starts a session. */
export function login(client: Client, body: T.LoginRequest, options?: RequestOptions): Promise<T.TokenResponse> {
  return request(client, { method: "POST", path: "/v1/auth/login", body, tokens: [], idempotent: false }, options);
}

/** `POST /v1/auth/refresh`: swap a refresh token for new tokens; the presented one is spent. */
export function refreshSession(client: Client, body: T.RefreshRequest, options?: RequestOptions): Promise<T.TokenResponse> {
  return request(client, { method: "POST", path: "/v1/auth/refresh", body, tokens: [], idempotent: false }, options);
}

/** `POST /v1/auth/logout`: revoke the agent's token and its session. */
export function logout(client: Client, options?: RequestOptions): Promise<void> {
  return request(client, { method: "POST", path: "/v1/auth/logout", tokens: ["agent"], idempotent: false }, options);
}

export interface ListChatsQuery {
  status?: T.ChatStatus;
  cursor?: string;
  limit?: number;
}

/** `GET /v1/chats`: one page of chats, newest first. */
export function listChats(client: Client, query: ListChatsQuery = {}, options?: RequestOptions): Promise<T.ChatPage> {
  return request(client, { method: "GET", path: "/v1/chats", query, tokens: ["agent"], idempotent: true }, options);
}

/** `GET /v1/chats`, every page: the chats one by one, fetching pages as needed. */
export function listChatsAll(
  client: Client,
  query: Omit<ListChatsQuery, "cursor"> = {},
  options?: RequestOptions,
): AsyncGenerator<T.Chat, void, undefined> {
  return paginate(
    (cursor) => listChats(client, cursor === undefined ? query : { ...query, cursor }, options),
    (page) => page.chats,
    (page) => page.next_cursor,
  );
}

/** `POST /v1/chats`: a visitor starts a chat and gets its guest token. */
export function startChat(client: Client, body?: T.CreateChatRequest | null, options?: RequestOptions): Promise<T.CreateChatResponse> {
  return request(client, { method: "POST", path: "/v1/chats", body, tokens: [], idempotent: false }, options);
}

/** `GET /v1/chats/{chat_id}`: one chat. */
export function getChat(client: Client, chatId: string, options?: RequestOptions): Promise<T.Chat> {
  return request(client, { method: "GET", path: `/v1/chats/${path(chatId)}`, tokens: ["agent", "guest"], idempotent: true }, options);
}

/** `POST /v1/chats/{chat_id}/token`: a fresh guest token for the same chat. */
export function renewGuestToken(client: Client, chatId: string, options?: RequestOptions): Promise<T.GuestTokenResponse> {
  return request(client, { method: "POST", path: `/v1/chats/${path(chatId)}/token`, tokens: ["guest"], idempotent: false }, options);
}

/** `POST /v1/chats/{chat_id}/assign`: assign a chat to an agent (the caller by default). */
export function assignChat(client: Client, chatId: string, body?: T.AssignChatRequest | null, options?: RequestOptions): Promise<T.Chat> {
  return request(client, { method: "POST", path: `/v1/chats/${path(chatId)}/assign`, body, tokens: ["agent"], idempotent: false }, options);
}

/** `POST /v1/chats/{chat_id}/close`: close a chat. */
export function closeChat(client: Client, chatId: string, options?: RequestOptions): Promise<T.Chat> {
  return request(client, { method: "POST", path: `/v1/chats/${path(chatId)}/close`, tokens: ["agent"], idempotent: false }, options);
}

/** `GET /v1/agents`: every agent, oldest first. */
export function listAgents(client: Client, options?: RequestOptions): Promise<T.AgentList> {
  return request(client, { method: "GET", path: "/v1/agents", tokens: ["agent"], idempotent: true }, options);
}

/** `POST /v1/agents`: an admin adds an agent. */
export function createAgent(client: Client, body: T.CreateAgentRequest, options?: RequestOptions): Promise<T.Agent> {
  return request(client, { method: "POST", path: "/v1/agents", body, tokens: ["agent"], idempotent: false }, options);
}

export interface ListMessagesQuery {
  after_seq?: number;
  before_seq?: number;
  limit?: number;
}

/** `GET /v1/chats/{chat_id}/messages`: a chat's messages in ascending `seq`. */
export function listMessages(client: Client, chatId: string, query: ListMessagesQuery = {}, options?: RequestOptions): Promise<T.MessagePage> {
  return request(client, { method: "GET", path: `/v1/chats/${path(chatId)}/messages`, query, tokens: ["agent", "guest"], idempotent: true }, options);
}

/** `POST /v1/chats/{chat_id}/messages`: send a message; idempotent by `client_msg_id`. */
export function sendMessage(client: Client, chatId: string, body: T.SendMessageRequest, options?: RequestOptions): Promise<T.Message> {
  return request(client, { method: "POST", path: `/v1/chats/${path(chatId)}/messages`, body, tokens: ["agent", "guest"], idempotent: false }, options);
}

/** `GET /v1/me`: who the token belongs to. */
export function getMe(client: Client, options?: RequestOptions): Promise<T.Me> {
  return request(client, { method: "GET", path: "/v1/me", tokens: ["agent", "guest"], idempotent: true }, options);
}
