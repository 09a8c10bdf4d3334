// Stand-in for the types byrd-sdk-gen will generate from spec/v1; written
// by hand from the documents until the generator has a TypeScript emitter.
// Replace wholesale with the generated file: importers use these names only.

/** An open enum: the known values, plus any string a newer server may send. */
type Open<T extends string> = T | (string & {});

/** Which side of a chat a party is on. */
export type PartyType = "agent" | "guest";
/** Where a chat is in its life. */
export type ChatStatus = "open" | "assigned" | "closed";
export type Role = "admin" | "agent";
export type PresenceStatus = "online" | "offline";
export type HealthStatus = "ok" | "unavailable";
export type TokenType = "Bearer";

/** A stable, machine-readable error code (open: v1 may add codes). */
export type ErrorCode = Open<
  | "invalid_request"
  | "validation_failed"
  | "invalid_credentials"
  | "token_missing"
  | "token_invalid"
  | "token_expired"
  | "token_revoked"
  | "forbidden"
  | "not_found"
  | "chat_not_found"
  | "agent_not_found"
  | "method_not_allowed"
  | "email_taken"
  | "chat_closed"
  | "payload_too_large"
  | "rate_limited"
  | "internal_error"
  | "invalid_json"
  | "unknown_frame_type"
  | "invalid_frame"
  | "body_too_long"
  | "client_msg_id_reused"
  | "limit_exceeded"
  | "unavailable"
>;

export interface Author {
  type: PartyType;
  id: string;
  name: string | null;
}
export interface Visitor {
  id: string;
  name: string | null;
  email: string | null;
}
export interface Chat {
  id: string;
  status: ChatStatus;
  visitor: Visitor;
  subject: string | null;
  assigned_agent_id: string | null;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  last_seq: number;
}
export interface Message {
  id: string;
  chat_id: string;
  seq: number;
  author: Author;
  body: string;
  client_msg_id: string;
  created_at: string;
}
export interface Principal {
  type: PartyType;
  id: string;
}

export interface Agent {
  id: string;
  email: string;
  name: string;
  role: Role;
  created_at: string;
}
export interface AgentList {
  agents: Agent[];
}
export interface AgentMe {
  type: "agent";
  id: string;
  name: string;
  role: Role;
  token_expires_at: string;
}
export interface GuestMe {
  type: "guest";
  id: string;
  chat_id: string;
  token_expires_at: string;
}
export type Me = AgentMe | GuestMe;
export interface AssignChatRequest {
  agent_id?: string | null;
}
export interface ChatPage {
  chats: Chat[];
  next_cursor: string | null;
}
export interface CreateAgentRequest {
  email: string;
  name: string;
  role: Role;
  password: string;
}
export interface VisitorInput {
  name?: string | null;
  email?: string | null;
}
export interface CreateChatRequest {
  visitor?: VisitorInput | null;
  subject?: string | null;
}
export interface CreateChatResponse {
  chat: Chat;
  guest_token: string;
  expires_in: number;
}
export interface ErrorDetail {
  code: ErrorCode;
  message: string;
}
export interface ErrorBody {
  error: ErrorDetail;
}
export interface GuestTokenResponse {
  guest_token: string;
  expires_in: number;
}
export interface Health {
  status: HealthStatus;
}
export interface LoginRequest {
  email: string;
  password: string;
}
export interface MessagePage {
  messages: Message[];
  has_more: boolean;
}
export interface RefreshRequest {
  refresh_token: string;
}
export interface SendMessageRequest {
  client_msg_id: string;
  body: string;
}
export interface TokenResponse {
  access_token: string;
  token_type: TokenType;
  expires_in: number;
  refresh_token: string;
  agent: Agent;
}

export interface ClientSend {
  type: "send";
  chat_id: string;
  client_msg_id: string;
  body: string;
  ref?: string | null;
}
export interface ClientSubscribe {
  type: "subscribe";
  chat_id: string;
  after_seq?: number;
  ref?: string | null;
}
export interface ClientUnsubscribe {
  type: "unsubscribe";
  chat_id: string;
  ref?: string | null;
}
export interface ClientTyping {
  type: "typing";
  chat_id: string;
  active: boolean;
  ref?: string | null;
}
export interface ClientRead {
  type: "read";
  chat_id: string;
  seq: number;
  ref?: string | null;
}
export interface ClientPing {
  type: "ping";
  nonce?: string | null;
  ref?: string | null;
}
export interface ClientRefreshToken {
  type: "refresh_token";
  token: string;
  ref?: string | null;
}
/** A frame the client sends. */
export type ClientFrame =
  | ClientSend
  | ClientSubscribe
  | ClientUnsubscribe
  | ClientTyping
  | ClientRead
  | ClientPing
  | ClientRefreshToken;

export interface ServerHello {
  type: "hello";
  protocol_version: string;
  connection_id: string;
  principal: Principal;
  heartbeat_interval_ms: number;
  token_expires_at: string;
}
export interface ServerMessage {
  type: "message";
  message: Message;
}
export interface ServerAck {
  type: "ack";
  client_msg_id: string;
  message: Message;
}
export interface ServerTyping {
  type: "typing";
  chat_id: string;
  author: Author;
  active: boolean;
}
export interface ServerRead {
  type: "read";
  chat_id: string;
  author: Author;
  seq: number;
}
export interface ServerPresence {
  type: "presence";
  agent_id: string;
  status: PresenceStatus;
}
export interface ServerChatUpdated {
  type: "chat_updated";
  chat: Chat;
}
export interface ServerSubscribed {
  type: "subscribed";
  chat_id: string;
  recovered: boolean;
  last_seq: number;
}
export interface ServerUnsubscribed {
  type: "unsubscribed";
  chat_id: string;
}
export interface ServerError {
  type: "error";
  code: ErrorCode;
  message: string;
  ref: string | null;
}
export interface ServerPong {
  type: "pong";
  nonce: string | null;
}
export interface ServerTokenExpiring {
  type: "token_expiring";
  expires_at: string;
}
export interface ServerTokenRefreshed {
  type: "token_refreshed";
  token_expires_at: string;
}
/** A frame the server sends (open: receivers ignore unknown types). */
export type ServerFrame =
  | ServerHello
  | ServerMessage
  | ServerAck
  | ServerTyping
  | ServerRead
  | ServerPresence
  | ServerChatUpdated
  | ServerSubscribed
  | ServerUnsubscribed
  | ServerError
  | ServerPong
  | ServerTokenExpiring
  | ServerTokenRefreshed;
