/**
 * An agent's login session: the access token (15 minutes) and the single-use
 * refresh token. Refreshing spends the refresh token and keeps the new
 * one, so at most one refresh may run at a time; a second one with the
 * same refresh token would count as reuse and revoke the whole session.
 */
import { ByrdError, apiErrorOf } from "../errors.js";
import { login, logout, refreshSession } from "../generated/operations.js";
import type { Agent, TokenResponse } from "../generated/types.js";
import { Client } from "../rest/client.js";
import { RefreshingCredential, staticToken } from "./credential.js";

export class AgentSession extends RefreshingCredential {
  readonly kind = "agent" as const;
  /** The agent, as of the last login or refresh. */
  agent: Agent;
  readonly #client: Client;
  #refreshToken: string;
  /** Called with each new refresh token, for applications that store it. */
  onRefreshToken: ((refreshToken: string) => void) | null = null;

  private constructor(client: Client, tokens: TokenResponse) {
    super();
    this.#client = client.withCredential([]);
    this.agent = tokens.agent;
    this.#refreshToken = tokens.refresh_token;
    this.#keep(tokens);
  }

  /** Logs in with email and password (`POST /v1/auth/login`). */
  static async login(client: Client, email: string, password: string): Promise<AgentSession> {
    return new AgentSession(client, await login(client.withCredential([]), { email, password }));
  }

  /** Resumes a session from a stored refresh token, spending it at once. */
  static async resume(client: Client, refreshToken: string): Promise<AgentSession> {
    const tokens = await refreshSession(client.withCredential([]), { refresh_token: refreshToken }).catch(authFailure);
    return new AgentSession(client, tokens);
  }

  /** The newest refresh token: store this one, the older ones are spent. */
  get refreshToken(): string {
    return this.#refreshToken;
  }

  /** A client whose calls use this session's tokens. */
  client(): Client {
    return this.#client.withCredential(this);
  }

  /** Ends the session on the server (`POST /v1/auth/logout`): its tokens stop working. */
  async logout(): Promise<void> {
    const token = this.current;
    if (token !== null) await logout(this.#client.withCredential(staticToken("agent", token)));
    this.current = null;
  }

  protected async renew(): Promise<void> {
    const tokens = await refreshSession(this.#client, { refresh_token: this.#refreshToken }).catch(authFailure);
    this.agent = tokens.agent;
    this.#keep(tokens);
  }

  #keep(tokens: TokenResponse): void {
    this.current = tokens.access_token;
    this.expiresAt = Date.now() + tokens.expires_in * 1000;
    if (tokens.refresh_token !== this.#refreshToken) {
      this.#refreshToken = tokens.refresh_token;
      this.onRefreshToken?.(tokens.refresh_token);
    }
  }
}

/**
 * A renewal the server refused (401 for a spent or revoked token, 409 for
 * a closed chat, ...) ends the session: it becomes an `auth` error, which
 * retrying cannot fix. Rate limits and server or network failures stay as
 * they are, to be retried.
 */
export function authFailure(error: unknown): never {
  const api = apiErrorOf(error);
  if (api && api.status !== null && api.status >= 400 && api.status < 500 && api.status !== 429) {
    throw new ByrdError("auth", `the session ended: ${api.code}`, { status: api.status, requestId: api.requestId, cause: api });
  }
  throw error;
}
