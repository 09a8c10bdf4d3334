// Debian's chromium, driven by playwright-core: one browser per test file,
// a fresh context (its own storage, like another person's browser) per
// party. Screenshots go to web/.screenshots/ for review; with
// BYRD_UPDATE_SCREENSHOTS=1 they replace the README's, in docs/screenshots/
// (they show clock times, so every run would otherwise change them).
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const CHROMIUM = process.env.BYRD_CHROMIUM ?? "/usr/bin/chromium";
export const SCREENSHOTS = fileURLToPath(
  new URL(process.env.BYRD_UPDATE_SCREENSHOTS === "1" ? "../../../docs/screenshots/" : "../../.screenshots/", import.meta.url),
);

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

/** A new context and page; the page's errors are collected, to assert there were none. */
export async function openPage(browser, url, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 }, ...options });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  await page.goto(url);
  return { context, page, errors };
}

export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png` });
}
