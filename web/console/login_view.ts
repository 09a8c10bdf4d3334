/**
 * The login screen: email and password, the server's answer in words, and
 * why the agent is here again when a session ended (revoked, expired).
 */
import { apiErrorOf } from "@byrd/sdk";

import { h } from "../dom.js";

export function loginView(reason: string | null, submit: (email: string, password: string) => Promise<void>): HTMLElement {
  const email = h("input", { id: "email", type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", { id: "password", type: "password", name: "password", autocomplete: "current-password", required: true });
  const button = h("button", { type: "submit" }, "Log in");
  const message = h("p", { class: "form-error", role: "alert" });
  const form = h(
    "form",
    { class: "login", "aria-labelledby": "login-title" },
    h("h1", { id: "login-title" }, "Byrd console"),
    reason ? h("p", { class: "reason", role: "status" }, reason) : null,
    h("label", { for: "email" }, "Email"),
    email,
    h("label", { for: "password" }, "Password"),
    password,
    button,
    message,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    button.disabled = true;
    message.textContent = "";
    submit(email.value.trim(), password.value).catch((error: unknown) => {
      button.disabled = false;
      message.textContent = loginFailure(error);
      password.select();
    });
  });
  queueMicrotask(() => email.focus());
  return form;
}

function loginFailure(error: unknown): string {
  const code = apiErrorOf(error)?.code;
  if (code === "invalid_credentials") return "The email or password is wrong.";
  if (code === "rate_limited") return "Too many attempts. Wait a few minutes and try again.";
  if (code === "validation_failed") return "Enter an email and a password.";
  return "Byrd could not be reached. Try again in a moment.";
}
