//! A loopback TCP proxy that breaks connections on purpose: each
//! connection through it, REST and WebSocket alike, is cut (both sockets
//! destroyed, as a dropped network looks) or frozen (bytes stop flowing
//! but nothing closes, as a dead NAT looks) after a random lifetime. The
//! randomness comes from a seeded generator, so a failing seed replays.
import net from "node:net";

/** mulberry32: a small seeded PRNG, enough to drive a schedule. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Chaos {
  /** Mean lifetime of a connection before it breaks, in ms. */
  meanLifetimeMs: number;
  /** Share of breaks that freeze instead of cut. */
  freezeShare: number;
}

export class ChaosProxy {
  readonly #server: net.Server;
  readonly #open = new Set<{ client: net.Socket; upstream: net.Socket; timer?: NodeJS.Timeout }>();
  #chaos: Chaos | null = null;
  cuts = 0;
  freezes = 0;
  connections = 0;

  private constructor(
    private readonly upstreamPort: number,
    private readonly random: () => number,
  ) {
    this.#server = net.createServer((client) => this.#accept(client));
  }

  static async start(upstream: URL, seed: number): Promise<ChaosProxy> {
    const proxy = new ChaosProxy(Number(upstream.port), seededRandom(seed));
    await new Promise<void>((resolve) => proxy.#server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get url(): string {
    const address = this.#server.address() as net.AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  /** Breaks connections from now on (new ones and those open). */
  storm(chaos: Chaos): void {
    this.#chaos = chaos;
    for (const pair of this.#open) this.#schedule(pair);
  }

  /** No more breaks; frozen connections are cut so that clients notice at once. */
  calm(): void {
    this.#chaos = null;
    for (const pair of this.#open) {
      clearTimeout(pair.timer);
      if (pair.client.isPaused()) this.#end(pair);
    }
  }

  async stop(): Promise<void> {
    this.calm();
    for (const pair of this.#open) this.#end(pair);
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: net.Socket): void {
    this.connections++;
    const upstream = net.connect(this.upstreamPort, "127.0.0.1");
    const pair: { client: net.Socket; upstream: net.Socket; timer?: NodeJS.Timeout } = { client, upstream };
    this.#open.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => this.#end(pair);
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    this.#schedule(pair);
  }

  #schedule(pair: { client: net.Socket; upstream: net.Socket; timer?: NodeJS.Timeout }): void {
    const chaos = this.#chaos;
    if (!chaos) return;
    clearTimeout(pair.timer);
    // Exponential lifetimes: most connections die young, a few live long.
    const lifetime = -Math.log(1 - this.random()) * chaos.meanLifetimeMs;
    const freeze = this.random() < chaos.freezeShare;
    pair.timer = setTimeout(() => {
      if (!this.#chaos) return;
      if (freeze) {
        this.freezes++;
        pair.client.unpipe(pair.upstream);
        pair.upstream.unpipe(pair.client);
        pair.client.pause();
        pair.upstream.pause();
      } else {
        this.cuts++;
        this.#end(pair);
      }
    }, lifetime);
  }

  #end(pair: { client: net.Socket; upstream: net.Socket; timer?: NodeJS.Timeout }): void {
    clearTimeout(pair.timer);
    this.#open.delete(pair);
    pair.client.destroy();
    pair.upstream.destroy();
  }
}
