/**
 * A fresh token on the live socket, without a reconnect. The server warns
 * with `token_expiring` before the socket's token runs out; the client
 * refreshes the credential and writes `refresh_token`. A token refreshed
 * by anyone else (a REST call, say) goes to the socket too, so it does not
 * run out there and close with 4001. A lost answer to the refresh is
 * retried within the server's refresh grace (`refreshSession` is
 * replayable in the spec's client behaviour table).
 */
import { SEND_REFRESHED_TOKEN_ON_SOCKET } from "../generated/client.js";
import { refreshFrame } from "./frames.js";
import type { Link } from "./link.js";

export class LiveRefresh {
  /** Stops listening to the credential's refreshes. */
  #unlisten: (() => void) | null = null;

  constructor(private readonly link: Link) {}

  /** Starts passing every refreshed token to the live socket. */
  listen(): void {
    if (!SEND_REFRESHED_TOKEN_ON_SOCKET) return;
    this.#unlisten = this.link.settings.credential.onRefresh?.((token) => this.offer(token)) ?? null;
  }

  stop(): void {
    this.#unlisten?.();
    this.#unlisten = null;
  }

  /** `token_expiring` on socket `generation`. */
  async onExpiring(generation: number): Promise<void> {
    const stale = this.link.token;
    if (stale === null) return;
    try {
      const fresh = await this.link.settings.credential.refresh(stale);
      if (generation === this.link.generation) this.offer(fresh);
    } catch (error) {
      // The server closes with 4001 at expiry; the connection loop then decides.
      this.link.emitError(error, "the token could not be refreshed");
    }
  }

  /** Sends a token newer than the live socket's on it. */
  offer(token: string): void {
    const link = this.link;
    if (link.state.status !== "connected" || token === link.token) return;
    if (link.write(refreshFrame(token))) link.token = token;
  }

  /** The `refresh_token` frame was refused with nothing changed: the socket's token goes again, later. */
  sendAgain(): void {
    const link = this.link;
    const generation = link.generation;
    link.timeout(() => {
      if (generation === link.generation && link.token !== null) link.write(refreshFrame(link.token));
    }, link.frameRetryDelay());
  }
}
