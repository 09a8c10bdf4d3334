/**
 * `/widget.js`: the visitor's chat widget. One `<script>` tag installs it;
 * it reads its settings from that tag (`config.ts`), resumes the visitor's
 * chat if one is stored (`guest_chat.ts`), and mounts the launcher and
 * panel in a shadow root at the end of the page (`view.ts`). Bundled as
 * one IIFE, it adds nothing to the page's globals.
 */
import { readConfig } from "./config.js";
import { GuestChat } from "./guest_chat.js";
import { mountWidget } from "./view.js";

const script = document.currentScript instanceof HTMLScriptElement ? document.currentScript : null;

function start(): void {
  // One widget per page, even when the tag is included twice.
  if (document.querySelector("[data-byrd-widget]")) return;
  const config = readConfig(script);
  const chat = new GuestChat(config.server, config.subject);
  document.body.append(mountWidget(config, chat));
  chat.resume();
}

if (document.body) start();
else document.addEventListener("DOMContentLoaded", start, { once: true });
