//! The Byrd server the integration tests talk to: the release binary,
//! started by `scripts/test` as its own process on a free loopback port,
//! with a fresh data folder and a known admin and signing key, which it
//! passes here through the environment.
import WebSocket from "ws";

import { AgentSession } from "../../src/auth/agent_session.js";
import { GuestSession } from "../../src/auth/guest_session.js";
import { createAgent } from "../../src/generated/operations.js";
import { Client } from "../../src/rest/client.js";

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through sdks/typescript/scripts/test`);
  return value;
}

export const server = {
  get url(): string {
    return required("BYRD_TEST_URL");
  },
  get adminEmail(): string {
    return required("BYRD_TEST_ADMIN_EMAIL");
  },
  get adminPassword(): string {
    return required("BYRD_TEST_ADMIN_PASSWORD");
  },
  get jwtSecret(): string {
    return required("BYRD_TEST_JWT_SECRET");
  },
};

/** The `ws` package, as a Node 20 application passes it. */
export const NodeWebSocket = WebSocket;

export function publicClient(baseUrl = server.url): Client {
  return new Client({ baseUrl });
}

export function adminSession(baseUrl = server.url): Promise<AgentSession> {
  return AgentSession.login(publicClient(baseUrl), server.adminEmail, server.adminPassword);
}

let agents = 0;

/** A new agent, logged in. */
export async function agentSession(baseUrl = server.url): Promise<AgentSession> {
  const admin = await adminSession(baseUrl);
  const email = `agent-${process.pid}-${++agents}-${Date.now()}@example.com`;
  const password = "a long enough password";
  await createAgent(admin.client(), { email, name: `Agent ${agents}`, role: "agent", password });
  return AgentSession.login(publicClient(baseUrl), email, password);
}

export async function guestSession(baseUrl = server.url): Promise<GuestSession> {
  const { session } = await GuestSession.start(publicClient(baseUrl), { visitor: { name: "Sam" }, subject: "Help" });
  return session;
}
