/**
 * `/widget.js`: the visitor's chat widget. One `<script>` tag installs it;
 * it reads its settings from that tag (`config.ts`), resumes the visitor's
 * chat if one is stored (`guest_chat.ts`), and mounts the launcher and
 * panel in a shadow root at the end of the page (`view.ts`). Bundled as
 * one IIFE, it adds one global, `window.Byrd` (`page_api.ts`), at once, so
 * that the page can say who its user is before the body is there.
 */
import { readConfig } from "./config.js";
import { GuestChat } from "./guest_chat.js";
import { installPageApi, widgetInstalled } from "./page_api.js";
import { mountWidget } from "./view.js";
import { Visitor } from "./visitor.js";

const script = document.currentScript instanceof HTMLScriptElement ? document.currentScript : null;

function start(config: ReturnType<typeof readConfig>, visitor: Visitor): void {
  const chat = new GuestChat(config.server, visitor);
  document.body.append(mountWidget(config, chat, visitor));
  chat.resume();
}

// One widget per page, even when the tag is included twice.
if (!widgetInstalled()) {
  const config = readConfig(script);
  const visitor = new Visitor(config.server, config.subject, config.identityToken);
  installPageApi(visitor);
  if (document.body) start(config, visitor);
  else document.addEventListener("DOMContentLoaded", () => start(config, visitor), { once: true });
}
