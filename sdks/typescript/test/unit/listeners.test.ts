// Listeners that fail (sdks/README.md, "Events"): an application's listener
// that throws, or an `async` one whose promise rejects (say its
// `await rt.send(...)` was refused), fails alone. The other listeners still
// get the event, the failure becomes an `error` event of kind `listener`,
// and it is never an unhandled rejection or an uncaught exception, which
// would end a Node process. The client plays against a scripted server
// (test/support/fake_socket.ts).
import assert from "node:assert/strict";
import { after, afterEach, before, test } from "node:test";

import { tokenProvider } from "../../src/auth/credential.js";
import { ByrdError, apiErrorOf } from "../../src/errors.js";
import type { Message } from "../../src/generated/types.js";
import { RealtimeClient } from "../../src/realtime/client.js";
import type { ErrorEvent, RealtimeEvent } from "../../src/realtime/events.js";
import { Client } from "../../src/rest/client.js";
import { type FakeSocket, fakeSockets } from "../support/fake_socket.js";
import { fakeJwt } from "../support/tokens.js";
import { sleep, until } from "../support/wait.js";

const CHAT = "00000000-0000-4000-8000-000000000001";

function message(seq: number): Message {
  return {
    id: `m-${seq}`,
    chat_id: CHAT,
    seq,
    author: { type: "guest", id: "00000000-0000-4000-8000-0000000000aa", name: null },
    body: `message ${seq}`,
    client_msg_id: `c-${seq}`,
    created_at: "2026-01-01T12:00:00Z",
  };
}

// What would end the process, caught here so that a failure fails the test
// instead of the whole run.
const escaped: unknown[] = [];
const onEscape = (error: unknown) => void escaped.push(error);
before(() => {
  process.on("unhandledRejection", onEscape);
  process.on("uncaughtException", onEscape);
});
after(() => {
  process.off("unhandledRejection", onEscape);
  process.off("uncaughtException", onEscape);
});

// Every client is closed after its test, passed or failed, so no timer is left running.
const clients: RealtimeClient[] = [];
afterEach(() => {
  for (const rt of clients.splice(0)) rt.close();
});

/** A connected agent following CHAT. */
async function connected(): Promise<{ rt: RealtimeClient; socket: FakeSocket }> {
  const sockets = fakeSockets();
  const credential = tokenProvider("agent", () => fakeJwt({ type: "agent", exp: Math.floor(Date.now() / 1000) + 3600 }));
  const client = new Client({ baseUrl: "http://byrd.test", credential });
  const rt = new RealtimeClient({ client, WebSocket: sockets.WebSocket, watchPage: false, socketAuth: "token" });
  clients.push(rt);
  rt.subscribe(CHAT);
  rt.connect();
  const socket = await sockets.next();
  socket.hello();
  await until(() => rt.state.status === "connected", "connected");
  return { rt, socket };
}

/** Runs `body` with `console.error` recorded instead of printed. */
async function withConsoleErrors(body: (logged: unknown[][]) => Promise<void>): Promise<void> {
  const logged: unknown[][] = [];
  const saved = console.error;
  console.error = (...args: unknown[]) => void logged.push(args);
  try {
    await body(logged);
  } finally {
    console.error = saved;
  }
}

test("an async listener whose send is refused becomes an error event, not an unhandled rejection", async () => {
  const { rt, socket } = await connected();
  const errors: ErrorEvent[] = [];
  rt.on("error", (event) => errors.push(event));
  rt.on("message", async ({ message }) => {
    await rt.send(message.chat_id, `You said: ${message.body}`);
  });
  socket.receive({ type: "message", message: message(1) });
  await until(() => socket.sentOfType("send").length === 1, "the echo");
  const [echo] = socket.sentOfType("send");
  socket.receive({ type: "error", code: "chat_closed", message: "The chat is closed.", ref: echo?.client_msg_id });
  await until(() => errors.length === 1, "the listener's failure");
  const [{ error }] = errors as [ErrorEvent];
  assert.equal(error.kind, "listener");
  assert.equal(apiErrorOf(error)?.code, "chat_closed");
  // Unhandled rejections are noticed once the microtasks have run.
  await sleep(20);
  assert.deepEqual(escaped, []);
  assert.equal(rt.state.status, "connected");
});

test("a throwing listener fails alone: the others get the event, then an error event says so", async () => {
  const { rt, socket } = await connected();
  const order: string[] = [];
  rt.on("error", ({ error }) => order.push(`error ${error.kind}: ${(error.cause as Error).message}`));
  rt.on("message", () => {
    order.push("first");
    throw new Error("a bug in the application");
  });
  rt.on("message", () => void order.push("second"));
  socket.receive({ type: "message", message: message(1) });
  await until(() => order.length === 3, "both listeners and the report");
  assert.deepEqual(order, ["first", "second", "error listener: a bug in the application"]);
  await sleep(20);
  assert.deepEqual(escaped, []);
  assert.equal(rt.lastSeq(CHAT), 1);
});

test("an event iterator hears a listener's failure like an error listener", async () => {
  const { rt, socket } = await connected();
  const events = rt.events();
  rt.on("message", async () => {
    throw new Error("refused later");
  });
  socket.receive({ type: "message", message: message(1) });
  const seen: RealtimeEvent[] = [];
  const reading = (async () => {
    for await (const event of events) {
      seen.push(event);
      if (event.type === "error") break;
    }
  })();
  await until(() => seen.some((event) => event.type === "error"), "the error event");
  await reading;
  const error = seen[1]?.type === "error" ? seen[1].error : null;
  assert.equal(error?.kind, "listener");
  assert.deepEqual(
    seen.map((event) => event.type),
    ["message", "error"],
  );
});

test("with no error listener, a listener's failure goes to the console and the client goes on", async () => {
  await withConsoleErrors(async (logged) => {
    const { rt, socket } = await connected();
    rt.on("message", async ({ message }) => {
      if (message.seq === 1) throw new Error("refused");
    });
    socket.receive({ type: "message", message: message(1) });
    await until(() => logged.length === 1, "the console's report");
    const [reported] = logged[0] as [unknown];
    assert.ok(reported instanceof ByrdError && reported.kind === "listener");
    socket.receive({ type: "message", message: message(2) });
    await until(() => rt.lastSeq(CHAT) === 2, "the next message");
    await sleep(20);
    assert.deepEqual(escaped, []);
    assert.equal(logged.length, 1);
  });
});

test("an error listener that fails is reported to the console, not to itself", async () => {
  await withConsoleErrors(async (logged) => {
    const { rt, socket } = await connected();
    let calls = 0;
    rt.on("error", async () => {
      calls++;
      throw new Error("the error listener fails too");
    });
    rt.on("message", () => {
      throw new Error("a bug in the application");
    });
    socket.receive({ type: "message", message: message(1) });
    await until(() => logged.length === 1, "the console's report");
    await sleep(20);
    assert.equal(calls, 1);
    assert.equal(logged.length, 1);
    assert.equal(((logged[0]?.[0] as ByrdError).cause as Error).message, "the error listener fails too");
    assert.deepEqual(escaped, []);
  });
});
