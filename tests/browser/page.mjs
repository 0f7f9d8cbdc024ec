// What the browser tier's checks share: headless Chromium (Debian's, through playwright-core)
// opening one local file, with every console error, page error and request that left the file
// recorded, a look at the page, and a full-page screenshot.
// Env: BROWSER_TOOLS (where scripts/browser-tools installed playwright-core), CHROMIUM.
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import path from "node:path";

// Opens `file`, waits for it to load, runs `look(page)`, screenshots into `screenshot` and
// returns { errors, requests, ...what look returned }.
export async function openPage(file, screenshot, look) {
  const require = createRequire(path.resolve(process.env.BROWSER_TOOLS || ".", "package.json"));
  const { chromium } = require("playwright-core");
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    // As root, without a sandbox; no background traffic (this machine's network is closed).
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors = [];
    const requests = [];
    page.on("console", (message) => { if (message.type() === "error") errors.push(message.text()); });
    page.on("pageerror", (error) => errors.push(String(error)));
    page.on("request", (request) => { if (!request.url().startsWith("file:")) requests.push(request.url()); });
    await page.goto(pathToFileURL(path.resolve(file)).href, { waitUntil: "load" });
    const seen = await look(page);
    await page.screenshot({ path: screenshot, fullPage: true });
    return { errors, requests, ...seen };
  } finally {
    await browser.close();
  }
}

// The two arguments every check takes, or its usage and exit 2.
export function fileAndScreenshot(usage) {
  const [file, screenshot] = process.argv.slice(2);
  if (!file || !screenshot) {
    console.error(`usage: ${usage}`);
    process.exit(2);
  }
  return [file, screenshot];
}
