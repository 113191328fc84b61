// The web console in a real browser (headless Chromium) against the sandbox: a bad image on
// shop/cart becomes an incident with a proposed rollback (human-in-loop); the operator opens the
// console, finds the incident, approves it with their name and a reason; the rollback executes and,
// as the simulated clock advances, the incident resolves. Every page is screenshotted. Cross-site
// requests and console requests without the CSRF token are refused and change nothing.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getIncident } from "../../shared/store/incidents.js";
import { getRemediation, type Remediation } from "../../shared/remediation/store.js";
import { autonomousPolicy, startPipeline, type Pipeline } from "../remediation/pipeline-harness.js";
import { launch, mustRun, screenshot } from "./browser.js";

const sandboxSlos = fileURLToPath(new URL("../../manifests/slos/sandbox.yaml", import.meta.url));

let p: Pipeline;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let rem: Remediation;
let evil: Server | undefined;

const statusOf = async (id: string) => (await getRemediation(p.host.deps.store, id))?.status;
const text = (selector: string) => page.locator(selector).first().innerText();

describe.skipIf(!mustRun)("web console in Chromium", () => {
  beforeAll(async () => {
    browser = await launch(); // first: without Chromium under CI=true, fail at once
    p = await startPipeline({
      seed: 21,
      policies: [autonomousPolicy({ approvalMode: "human-in-loop", approvalTtlSeconds: 3600 })],
      env: { PROPHET_SLO_FILES: sandboxSlos },
      ticks: ["remediation-assess", "slo-check", "hubble-quarantine"],
    });
    p.host.deps.flows = {
      ...p.host.deps.flows!,
      flowsUrl: `${p.sb.url}/sandbox/flows`,
      learningMs: 15 * 60_000,
      quarantine: "propose",
      quarantineScore: 0.8,
    };
    p.sb.inject({ kind: "bad-image", target: "shop/cart" });
    const took = await p.advanceUntil(900, async () =>
      (await p.remediations()).some((r) => r.status === "proposed"),
    );
    expect(took).toBeDefined();
    rem = (await p.remediations()).find((r) => r.status === "proposed")!;
    context = await browser.newContext({ viewport: { width: 1366, height: 900 }, colorScheme: "light" });
    page = await context.newPage();
  }, 300_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await new Promise<void>((resolve) => (evil ? evil.close(() => resolve()) : resolve()));
    await p?.close();
  });

  it("serves the console to a browser at / and keeps JSON clients on the API", async () => {
    const html = await fetch(`${p.host.url}/`, { headers: { accept: "text/html" } });
    expect(html.status).toBe(200);
    expect(html.headers.get("content-type")).toMatch(/text\/html/);
    expect(html.headers.get("set-cookie")).toMatch(/prophet_csrf=.+; Path=\/; HttpOnly; SameSite=Strict/);
    expect(html.headers.get("content-security-policy")).toMatch(/frame-ancestors 'none'/);
    const json = await fetch(`${p.host.url}/`, { headers: { accept: "application/json" } });
    expect(json.status).toBe(404);
    // CloudEvents still arrive at POST / (an unknown type is answered as before).
    const ce = await fetch(`${p.host.url}/`, {
      method: "POST",
      headers: { "content-type": "application/cloudevents+json" },
      body: JSON.stringify({ specversion: "1.0", id: "x", source: "/s", type: "com.example.nope" }),
    });
    expect(await ce.json()).toMatchObject({ error: "unknown_type" });
    for (const asset of ["app.js", "style.css", "vendor/uplot.js", "vendor/cytoscape.js"])
      expect((await fetch(`${p.host.url}/console/${asset}`)).status, asset).toBe(200);
    expect((await fetch(`${p.host.url}/console/../../package.json`)).status).toBe(404);
  });

  it("shows the incident in the live list", async () => {
    await page.goto(`${p.host.url}/`);
    await page.getByRole("heading", { name: "Incidents", level: 1 }).waitFor();
    const link = page.locator(`a[href="#/incidents/${encodeURIComponent(rem.incidentId!)}"]`);
    await link.waitFor();
    expect(await link.innerText()).toMatch(/Kube|Image|Pod/);
    await screenshot(page, "incidents");
  });

  it("refuses a cross-origin approval (403) and changes nothing", async () => {
    const approve = `${p.host.url}/api/approvals/${encodeURIComponent(rem.id)}/approve`;
    const forged = await fetch(approve, {
      method: "POST",
      headers: { origin: "http://evil.example", "content-type": "application/json" },
      body: JSON.stringify({ actor: "mallory" }),
    });
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as { message: string }).message).toMatch(/evil\.example/);
    const crossSite = await fetch(approve, {
      method: "POST",
      headers: { "sec-fetch-site": "cross-site", "content-type": "text/plain" },
      body: "{}",
    });
    expect(crossSite.status).toBe(403);
    // A real cross-site page in the operator's browser: another origin posts with the cookies.
    evil = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(`<!doctype html><title>cute cats</title><script>
fetch(${JSON.stringify(approve)}, { method: "POST", mode: "no-cors", credentials: "include",
  headers: { "content-type": "text/plain" }, body: JSON.stringify({ actor: "mallory" }) })
  .finally(() => { document.title = "sent"; });
</script>`);
    });
    await new Promise<void>((resolve) => evil!.listen(0, "127.0.0.1", () => resolve()));
    const attacker = await context.newPage();
    await attacker.goto(`http://localhost:${(evil.address() as AddressInfo).port}/`);
    await attacker.waitForFunction('document.title === "sent"');
    await attacker.close();
    expect(await statusOf(rem.id)).toBe("proposed");
  });

  it("refuses a console POST without the CSRF token, or with a forged one", async () => {
    const results = await page.evaluate(async (id) => {
      const post = (headers: Record<string, string>) =>
        fetch(`/api/approvals/${encodeURIComponent(id)}/approve`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify({ actor: "alice", comment: "sneaky" }),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as { message: string } }));
      return [await post({}), await post({ "x-prophet-csrf": "forged.token" })];
    }, rem.id);
    for (const r of results) {
      expect(r.status).toBe(403);
      expect(r.body.message).toMatch(/CSRF/);
    }
    expect(await statusOf(rem.id)).toBe("proposed");
  });

  it("opens the incident: timeline, diagnosis with evidence, the proposed action", async () => {
    await page.locator(`a[href="#/incidents/${encodeURIComponent(rem.incidentId!)}"]`).click();
    await page.getByRole("heading", { name: "Actions" }).waitFor();
    expect(await text("#s-actions + article h3")).toMatch(/rollback_deployment/);
    expect(await text(".timeline")).toMatch(/Alert fired[\s\S]*Diagnosed[\s\S]*Action proposed/);
    expect(await page.locator(".finding").count()).toBeGreaterThan(0);
    await page.locator(".finding details summary").first().click();
    expect(await text(".finding pre")).toMatch(/\{/);
    await screenshot(page, "incident-proposed");
  });

  it("approves with a name and a reason; the rollback executes as user:<name>", async () => {
    await page.getByLabel("Your name").fill("alice");
    await page.getByLabel("Reason").fill("the image tag does not exist; roll back");
    await page.getByRole("button", { name: "Approve" }).click();
    // The page re-renders without the form once decided; the status line says what happened.
    await expect
      .poll(() => text("#status"), { timeout: 20_000, interval: 100 })
      .toMatch(/^Approved: the remediation is now executed/);
    expect(await getRemediation(p.host.deps.store, rem.id)).toMatchObject({
      status: "executed",
      decidedBy: "user:alice",
    });
    // Single use: a second verdict from the console is a 409.
    const token = await page.locator('meta[name="prophet-csrf"]').getAttribute("content");
    const again = await page.evaluate(
      async ([id, token]) => {
        const r = await fetch(`/api/approvals/${encodeURIComponent(id)}/reject`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-prophet-csrf": token! },
          body: JSON.stringify({ actor: "bob", comment: "too late" }),
        });
        return r.status;
      },
      [rem.id, token] as const,
    );
    expect(again).toBe(409);
    expect(await statusOf(rem.id)).toBe("executed");
  }, 60_000);

  it("shows the action executed and the incident resolved once the clock moves on", async () => {
    const took = await p.advanceUntil(900, async () => {
      const i = await getIncident(p.host.deps.store, rem.incidentId!);
      const r = await getRemediation(p.host.deps.store, rem.id);
      return i?.status === "resolved" && r?.score !== null;
    });
    expect(took).toBeDefined();
    await expect.poll(() => text("main h1"), { timeout: 20_000, interval: 250 }).toMatch(/resolved/);
    expect(await text("#s-actions + article")).toMatch(/executed[\s\S]*user:alice/);
    expect(await text(".timeline")).toMatch(
      /Approved[\s\S]*Action executed[\s\S]*Alert resolved[\s\S]*Assessed/,
    );
    await screenshot(page, "incident-resolved");
  }, 180_000);

  it("approvals: nothing waiting, the decision listed", async () => {
    await page.getByRole("link", { name: "Approvals" }).click();
    await page.getByRole("heading", { name: "Approvals", level: 1 }).waitFor();
    await page.getByText("Nothing is waiting for approval.").waitFor();
    expect(await text("table")).toMatch(/rollback_deployment[\s\S]*user:alice/);
    await screenshot(page, "approvals");
  });

  it("forecasts: actual vs forecast with bands, drawn by uPlot", async () => {
    await page.getByRole("link", { name: "Forecasts" }).click();
    await page.getByRole("heading", { name: "Forecasts", level: 1 }).waitFor();
    await page.getByLabel("History").selectOption("3h");
    await page.getByLabel("Step").selectOption("1m");
    await page.getByLabel("Horizon").selectOption("30m");
    await page.getByRole("button", { name: "Forecast" }).click();
    await page.locator("#forecast-chart .uplot canvas").waitFor();
    expect(await text("main")).toMatch(/Methods: .*80 %: .*95 %/);
    await screenshot(page, "forecasts");
  });

  it("SLOs: budget remaining, burn rates per window, time to exhaustion", async () => {
    await page.getByRole("link", { name: "SLOs" }).click();
    await page.getByRole("heading", { name: "SLOs", level: 1 }).waitFor();
    await page.locator("main table").waitFor();
    const t = await text("main table");
    expect(t).toMatch(/Budget remaining/);
    expect(t).toMatch(/Burn 5m/);
    await screenshot(page, "slos");
  });

  it("network: an intrusion after learning shows as red edges; its quarantine (approved from the CLI) is listed", async () => {
    await p.advanceUntil(1800, async () => p.elapsed() >= 20 * 60);
    p.sb.inject({ kind: "network-intrusion", target: "shop/cart" });
    const quarantine = async () =>
      (await p.remediations()).find((r) => r.action === "quarantine_pod" && r.status === "proposed");
    expect(await p.advanceUntil(600, async () => (await quarantine()) !== undefined)).toBeDefined();
    // The CLI's request (no Origin, no cookie, no token) still approves.
    const q = (await quarantine())!;
    const cli = await fetch(`${p.host.url}/api/approvals/${encodeURIComponent(q.id)}/approve`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ actor: "cli:ops", comment: "contain it" }),
    });
    expect(cli.status).toBe(200);
    expect(await getRemediation(p.host.deps.store, q.id)).toMatchObject({ decidedBy: "cli:ops" });
    await page.getByRole("link", { name: "Network" }).click();
    await page.getByRole("heading", { name: "Network", level: 1 }).waitFor();
    await page.getByRole("heading", { name: "Quarantined workloads" }).waitFor();
    await page.locator("#service-map canvas").first().waitFor();
    await page.getByRole("table", { name: "Edges seen after learning ended" }).waitFor();
    expect(await text("main")).toMatch(new RegExp(`shop/${q.target!.name}`));
    expect(await page.getByRole("table", { name: "Recent detections" }).innerText()).toMatch(/shop\/cart/);
    await screenshot(page, "network");
  }, 240_000);

  it("audit log: the chain verifies; filtering finds alice's approval", async () => {
    await page.getByRole("link", { name: "Audit log" }).click();
    await page.getByRole("heading", { name: "Audit log", level: 1 }).waitFor();
    await page.getByText("chain intact").waitFor();
    await page.getByLabel("Actor").fill("user:alice");
    await page.getByRole("button", { name: "Filter" }).click();
    await expect
      .poll(() => text("main table tbody"), { timeout: 10_000, interval: 200 })
      .toMatch(/^(?![\s\S]*function:)[\s\S]*remediation\.approved/);
    await page.getByLabel("Actor").fill("");
    await page.getByRole("button", { name: "Filter" }).click();
    await expect.poll(() => page.locator("main table tbody tr").count()).toBeGreaterThan(5);
    await screenshot(page, "audit");
  });

  it("clusters: the federated view", async () => {
    await page.getByRole("link", { name: "Clusters" }).click();
    await page.getByRole("heading", { name: "Clusters", level: 1 }).waitFor();
    await page.locator("main table").waitFor();
    expect(await text("main table")).toMatch(new RegExp(p.host.deps.cluster));
    await screenshot(page, "clusters");
  });

  it("is usable from the keyboard: skip link, then the navigation", async () => {
    page = await context.newPage();
    await page.goto(`${p.host.url}/#/incidents`);
    await page.getByRole("heading", { name: "Incidents", level: 1 }).waitFor();
    await page.keyboard.press("Tab");
    expect(await page.evaluate("document.activeElement?.textContent")).toBe("Skip to content");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    expect(await page.evaluate("document.activeElement?.textContent")).toBe("Incidents");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Approvals", level: 1 }).waitFor();
  });
});
