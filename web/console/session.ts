/**
 * The agent's login, kept across reloads of this tab: the newest refresh
 * token lives in `sessionStorage` (this tab only, gone when it closes) and
 * is spent to resume after a reload. Access tokens stay in memory; the
 * SDK's `AgentSession` refreshes them before they expire, so the agent
 * never sees it happen. The console's strict Content-Security-Policy (no
 * inline or foreign script) is what keeps the stored token out of reach.
 */
import { AgentSession, ByrdError, Client, apiErrorOf } from "@byrd/sdk";

const KEY = "byrd-console:refresh-token";

export function consoleClient(): Client {
  return new Client({ baseUrl: location.origin });
}

export async function login(client: Client, email: string, password: string): Promise<AgentSession> {
  return keep(await AgentSession.login(client, email, password));
}

/** The session this tab had before a reload, or null when there was none or it ended. */
export async function resume(client: Client): Promise<AgentSession | null> {
  let stored: string | null = null;
  try {
    stored = sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
  if (!stored) return null;
  try {
    return keep(await AgentSession.resume(client, stored));
  } catch (error) {
    if (error instanceof ByrdError && error.kind === "auth") forget();
    throw error;
  }
}

export function forget(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // Nothing kept.
  }
}

function keep(session: AgentSession): AgentSession {
  const save = (token: string) => {
    try {
      sessionStorage.setItem(KEY, token);
    } catch {
      // This tab then logs in again after a reload.
    }
  };
  save(session.refreshToken);
  session.onRefreshToken = save;
  return session;
}

/** Why a session ended, in a sentence for the login screen. */
export function endReason(error: unknown): string {
  const code = apiErrorOf(error)?.code;
  if (code === "token_revoked" || (error instanceof ByrdError && error.closeCode === 4002)) {
    return "Your session was ended: you logged out elsewhere or it was revoked. Log in again to continue.";
  }
  if (code === "token_expired") return "Your session expired. Log in again to continue.";
  return "Your session ended. Log in again to continue.";
}
