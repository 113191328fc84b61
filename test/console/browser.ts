// Debian's Chromium through playwright-core for the console's browser tests. Missing Chromium
// skips the tests on a workstation but fails them under CI=true (CI installs it: .ci/run).
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";

export const chromiumPath = process.env.PROPHET_CHROMIUM ?? "/usr/bin/chromium";
export const haveChromium = existsSync(chromiumPath);
export const mustRun = haveChromium || process.env.CI === "true" || process.env.CI === "1";

const root = fileURLToPath(new URL("../../", import.meta.url));
export const artifactsDir = join(root, "test-artifacts/console");
const screenshotsDir = join(root, "docs/screenshots");

export async function launch(): Promise<Browser> {
  if (!haveChromium)
    throw new Error(
      `Chromium not found at ${chromiumPath}: install Debian's chromium (apt-get install chromium) or set PROPHET_CHROMIUM`,
    );
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/** Saves a full-page PNG as a test artifact; with UPDATE_SCREENSHOTS=1 also for the README. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(artifactsDir, { recursive: true });
  const file = join(artifactsDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  if (process.env.UPDATE_SCREENSHOTS === "1") {
    mkdirSync(screenshotsDir, { recursive: true });
    copyFileSync(file, join(screenshotsDir, `console-${name}.png`));
  }
  return file;
}
