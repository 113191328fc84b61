// End to end with a real Alertmanager 0.25 (Debian package) on loopback: alerts posted to its API
// are grouped and delivered by its webhook receiver to the local host, which opens and then
// resolves the incident. Alertmanager runs on its own wall clock, so this test polls with a
// deadline instead of advancing a simulated clock.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { functions } from "../../functions/registry.js";
import { startHost, type RunningHost } from "../../infra/local/host.js";
import { loadConfig } from "../../shared/config.js";
import { silentLogger } from "../../shared/ports/log.js";
import { listIncidents, type Incident } from "../../shared/store/incidents.js";
import { freshPostgresUrl } from "../support/stores.js";
import {
  ALERTMANAGER_BIN,
  missingBinaries,
  startAlertmanager,
  until,
  type RunningProcess,
} from "./support-processes.js";

let am: RunningProcess | undefined;
let host: RunningHost | undefined;
let dir = "";
let amUrl = "";

beforeAll(async () => {
  // Under CI=true a missing binary throws here; outside CI the tests skip below.
  if (missingBinaries(ALERTMANAGER_BIN).length > 0) return;
  const url = await freshPostgresUrl();
  if (!url) throw new Error("needs PostgreSQL");
  host = await startHost({
    config: loadConfig({ DATABASE_URL: url, PROPHET_CRON: "false", LOG_LEVEL: "silent" }),
    functions,
    log: silentLogger,
    port: 0,
  });
  dir = mkdtempSync(join(tmpdir(), "prophet-am-"));
  am = await startAlertmanager(dir, `${host.url}/alertmanager`);
  amUrl = am.url;
}, 60_000);

afterAll(async () => {
  // stop() waits for the exit: Alertmanager writes its data directory until then.
  await am?.stop();
  await host?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("real Alertmanager → local host", () => {
  const labels = {
    alertname: "KubePodCrashLooping",
    namespace: "shop",
    pod: "cart-7d9f8b6c5-x2kqp",
    severity: "warning",
  };
  const startsAt = new Date(Date.now() - 60_000).toISOString();

  it("delivers a firing alert that becomes one incident with Alertmanager's fingerprint", async (ctx) => {
    if (!host) return ctx.skip();
    const res = await fetch(`${amUrl}/api/v2/alerts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([{ labels, annotations: { summary: "Pod is crash looping." }, startsAt }]),
    });
    expect(res.status).toBe(200);
    const incident = await until("the incident", async () =>
      (await listIncidents(host!.deps.store)).find((i) => i.status === "firing"),
    );
    const amAlerts = (await (await fetch(`${amUrl}/api/v2/alerts`)).json()) as Array<{ fingerprint: string }>;
    expect(incident).toMatchObject<Partial<Incident>>({
      alertname: "KubePodCrashLooping",
      namespace: "shop",
      subject: "KubePodCrashLooping shop/Pod/cart-7d9f8b6c5-x2kqp",
      fingerprint: amAlerts[0]?.fingerprint,
    });
  });

  it("delivers the resolution, which closes the same incident", async (ctx) => {
    if (!host) return ctx.skip();
    await fetch(`${amUrl}/api/v2/alerts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([{ labels, startsAt, endsAt: new Date(Date.now() - 1000).toISOString() }]),
    });
    const resolved = await until(
      "the resolution",
      async () => (await listIncidents(host!.deps.store, { status: "resolved" }))[0],
    );
    expect(resolved.alertname).toBe("KubePodCrashLooping");
    expect(await listIncidents(host.deps.store)).toHaveLength(1);
    const audit = await host.deps.store.query<{ action: string }>(
      "SELECT action FROM audit_log ORDER BY seq",
    );
    // alert-intake records the alert, alert-diagnosis diagnoses the opened incident, then the resolution.
    expect(audit.rows.map((r) => r.action)).toEqual([
      "alert.firing",
      "diagnosis.completed",
      "alert.resolved",
    ]);
  });
});
