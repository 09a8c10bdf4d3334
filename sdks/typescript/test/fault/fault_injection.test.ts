// Fault injection: a guest and an agent chat through a proxy that cuts and
// freezes their connections (WebSocket and REST) at random moments. The
// properties of sdks/README.md must hold whatever the schedule:
// - every send settles exactly once, and (nothing here being final) with
//   the stored message;
// - each side receives every stored message of the chat exactly once, in
//   `seq` order, its own included: the acked ones, and nothing else.
// Seeds are fixed so a failure replays; BYRD_FAULT_SEEDS=1,2,... runs others.
import assert from "node:assert/strict";
import { test } from "node:test";

import type { Credential } from "../../src/auth/credential.js";
import type { Message } from "../../src/generated/types.js";
import { Client } from "../../src/rest/client.js";
import { listMessages } from "../../src/generated/operations.js";
import { RealtimeClient } from "../../src/realtime/client.js";
import { ChaosProxy, seededRandom } from "../support/chaos_proxy.js";
import { NodeWebSocket, agentSession, guestSession, server } from "../support/server.js";
import { sleep, until } from "../support/wait.js";

const SEEDS = (process.env.BYRD_FAULT_SEEDS ?? "1,2,3").split(",").map(Number);
const SENDS_EACH = 20;
const STORM_MS = 3000;

for (const seed of SEEDS) {
  test(`seed ${seed}: every acked message arrives once and in order on both sides; every send settles once`, async () => {
    const proxy = await ChaosProxy.start(new URL(server.url), seed);
    const random = seededRandom(seed ^ 0x5eed);
    // Sessions are made straight with the server; the chat goes through the proxy.
    const guest = await guestSession();
    const agent = await agentSession();
    const via = (credential: Credential) => new Client({ baseUrl: proxy.url, credential, maxRetries: 5 });
    const backoff = { base: 50, floor: 10, cap: 500 };
    const guestRt = new RealtimeClient({ client: via(guest), WebSocket: NodeWebSocket, backoff, connectTimeoutMs: 2000 });
    const agentRt = new RealtimeClient({ client: via(agent), WebSocket: NodeWebSocket, backoff, connectTimeoutMs: 2000 });
    const received = { guest: [] as Message[], agent: [] as Message[] };
    guestRt.on("message", (e) => received.guest.push(e.message));
    agentRt.on("message", (e) => received.agent.push(e.message));
    let reconnects = 0;
    for (const rt of [guestRt, agentRt]) rt.on("state", (e) => e.state.status === "reconnecting" && reconnects++);
    agentRt.subscribe(guest.chatId);
    guestRt.connect();
    agentRt.connect();

    const stormEnds = Date.now() + STORM_MS;
    proxy.storm({ meanLifetimeMs: 300, freezeShare: 0.15 });
    const settled = new Map<string, { count: number; message?: Message; error?: unknown }>();
    const sends: Promise<void>[] = [];
    for (let i = 0; i < SENDS_EACH; i++) {
      for (const [who, rt] of [["guest", guestRt], ["agent", agentRt]] as const) {
        const clientMsgId = `${who}-${seed}-${i}`;
        settled.set(clientMsgId, { count: 0 });
        sends.push(
          rt.send(guest.chatId, `${who} says ${i}`, { clientMsgId }).then(
            (message) => {
              const entry = settled.get(clientMsgId)!;
              entry.count++;
              entry.message = message;
            },
            (error: unknown) => {
              const entry = settled.get(clientMsgId)!;
              entry.count++;
              entry.error = error;
            },
          ),
        );
      }
      await sleep(random() * 100);
    }
    // The storm goes on past the last send, to hit resends too; then the network heals.
    await sleep(Math.max(0, stormEnds - Date.now()));
    proxy.calm();
    await until(() => [...settled.values()].every((s) => s.count > 0), "every send settled", 30_000);
    await Promise.all(sends);

    const errors = [...settled].filter(([, s]) => s.error !== undefined);
    assert.deepEqual(errors.map(([id, s]) => `${id}: ${String(s.error)}`), [], "no send failed");
    assert.ok([...settled.values()].every((s) => s.count === 1), "each send settled exactly once");

    // The server's own record: each send stored once, seq 1..2N without gaps.
    const stored = await listMessages(guest.client(), guest.chatId, { limit: 200 });
    const total = 2 * SENDS_EACH;
    assert.equal(stored.messages.length, total, "each send stored once");
    const acked = new Map([...settled.values()].map((s) => [s.message!.id, s.message!]));
    assert.deepEqual(new Set(stored.messages.map((m) => m.id)), new Set(acked.keys()));

    for (const [side, list] of Object.entries(received)) {
      await until(() => list.length >= total, `${side} received everything`, 30_000);
      await sleep(100);
      assert.deepEqual(list.map((m) => m.seq), Array.from({ length: total }, (_, i) => i + 1), `${side}: once each, in order`);
      assert.deepEqual(list.map((m) => m.id), stored.messages.map((m) => m.id), `${side}: the stored messages`);
    }
    guestRt.close();
    agentRt.close();
    await proxy.stop();
    console.log(
      `seed ${seed}: ${proxy.connections} connections, ${proxy.cuts} cut, ${proxy.freezes} frozen, ${reconnects} reconnects`,
    );
  });
}
