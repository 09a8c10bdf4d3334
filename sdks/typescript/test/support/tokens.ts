//! JWTs for tests: unsigned look-alikes for unit tests (the client reads
//! claims, never checks signatures), and real HS256 agent tokens minted
//! with the test server's key, as a backend of an integrator would.
import { createHmac, randomUUID } from "node:crypto";

const b64url = (value: string | Buffer) => Buffer.from(value).toString("base64url");

export function fakeJwt(claims: Record<string, unknown>): string {
  return `${b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${b64url(JSON.stringify(claims))}.c2ln`;
}

export function mintAgentToken(
  secret: string,
  agent: { id: string; name: string; role: string },
  lifetimeSeconds: number,
  issuedSecondsAgo = 0,
): string {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT", kid: "byrd-1" }));
  const claims = b64url(
    JSON.stringify({
      type: "agent",
      iss: "byrd",
      aud: "byrd",
      sub: agent.id,
      role: agent.role,
      name: agent.name,
      iat: now - issuedSecondsAgo,
      exp: now + lifetimeSeconds,
      jti: randomUUID(),
    }),
  );
  const signature = createHmac("sha256", secret).update(`${header}.${claims}`).digest("base64url");
  return `${header}.${claims}.${signature}`;
}
