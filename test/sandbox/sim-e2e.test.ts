// End to end on simulated time: the sandbox cluster and the local host (PGlite store), wired as
// `npm start` wires them. A crash loop injected into shop/cart makes the sandbox's rules fire
// KubePodCrashLooping; its Alertmanager webhook reaches the host's /alertmanager, alert-intake opens
// an incident and alert-diagnosis — reading the sandbox through its kubeconfig — stores a finding for
// the crashing pod. Only the manual clock moves the cluster.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { functions } from "../../functions/registry.js";
import { startHost, type RunningHost } from "../../infra/local/host.js";
import { startSandbox, type Sandbox } from "../../infra/sandbox/index.js";
import { loadConfig } from "../../shared/config.js";
import { silentLogger } from "../../shared/ports/log.js";

let sb: Sandbox;
let host: RunningHost;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "prophet-sim-e2e-"));
  sb = await startSandbox({ seed: 11 });
  host = await startHost({
    config: loadConfig({ PROPHET_DATA_DIR: join(dir, "data"), PROPHET_CRON: "false", LOG_LEVEL: "silent" }),
    functions,
    log: silentLogger,
    kubeconfig: sb.kubeconfigPath,
    port: 0,
  });
  sb.setAlertWebhook(`${host.url}/alertmanager`);
}, 30_000);
afterAll(async () => {
  await host?.close();
  await sb?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("sandbox → alert → incident → finding", () => {
  it("diagnoses the crash-looping pod the sandbox alerted on", async () => {
    sb.inject({ kind: "crash-loop", target: "shop/cart" });
    const sentCrashLoop = () =>
      sb.alerting.notifier.sent.some((p) => p.groupLabels.alertname === "KubePodCrashLooping");
    for (let s = 0; s < 900 && !sentCrashLoop(); s += 15) {
      sb.clock.advance(15_000);
      await sb.alerting.notifier.idle();
    }
    await sb.alerting.notifier.idle();
    expect(sentCrashLoop()).toBe(true);
    const alerted = sb.alerting.notifier.sent
      .filter((p) => p.groupLabels.alertname === "KubePodCrashLooping")
      .flatMap((p) => p.alerts.map((a) => a.labels.pod));

    const incidents = (await (await fetch(`${host.url}/api/incidents`)).json()) as {
      items: Array<{ id: string }>;
    };
    expect(incidents.items.length).toBeGreaterThan(0);

    const { rows } = await host.deps.store.query<{
      kind: string;
      name: string;
      reason: string;
      message: string;
    }>("SELECT * FROM findings");
    const finding = rows.find((r) => r.kind === "Pod" && alerted.includes(r.name));
    expect(finding, JSON.stringify(rows)).toBeDefined();
    expect(`${finding?.reason} ${finding?.message}`).toMatch(/CrashLoopBackOff|exit|crash/i);
    const viaApi = await Promise.all(
      incidents.items.map(
        async (i) =>
          (
            (await (await fetch(`${host.url}/api/incidents/${i.id}/findings`)).json()) as {
              items: Array<{ name: string }>;
            }
          ).items,
      ),
    );
    expect(viaApi.flat().map((f) => f.name)).toContain(finding?.name);
  }, 60_000);
});
