/**
 * `/console/`: the agents' console. It resumes this tab's session or shows
 * the login screen; once logged in, the desk (`desk.ts`, drawn by
 * `desk_view.ts`) runs until the agent logs out or the session ends, which
 * leads back to the login screen with the reason.
 */
import { type AgentSession, ByrdError } from "@byrd/sdk";

import { Desk } from "./desk.js";
import { deskView } from "./desk_view.js";
import { loginView } from "./login_view.js";
import { chime, showUnread } from "./notify.js";
import { consoleClient, endReason, forget, login, resume } from "./session.js";

const app = document.getElementById("app") as HTMLElement;
const client = consoleClient();

function showLogin(reason: string | null): void {
  showUnread(0);
  app.replaceChildren(
    loginView(reason, async (email, password) => {
      showDesk(await login(client, email, password));
    }),
  );
}

function showDesk(session: AgentSession): void {
  const desk = new Desk(session);
  const listening = new AbortController();
  const view = deskView(desk, () => {
    listening.abort();
    void desk.logout().then(() => {
      forget();
      showLogin("You logged out.");
    });
  });
  desk.onChange = () => {
    view.render();
    showUnread(desk.totalUnread());
  };
  desk.onAttention = chime;
  desk.onEnded = (error: ByrdError) => {
    listening.abort();
    forget();
    showLogin(endReason(error));
  };
  document.addEventListener("visibilitychange", () => desk.markSeen(), { signal: listening.signal });
  app.replaceChildren(view.element);
  view.render();
  void desk.start();
}

resume(client).then(
  (session) => (session ? showDesk(session) : showLogin(null)),
  (error: unknown) =>
    showLogin(error instanceof ByrdError && error.kind === "auth" ? endReason(error) : "Byrd could not be reached. Log in again."),
);
