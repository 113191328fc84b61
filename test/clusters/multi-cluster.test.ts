// One deployment serving two clusters (issue 10's acceptance): two sandboxes registered in the
// clusters file, each with its own API server and Prometheus, their alerts labelled with their
// cluster as Prometheus' external_labels label them. A bad rollout in one and a crash-looping
// rollout in the other are each diagnosed and rolled back on their own cluster — never on the
// other — assessed with that cluster's ports, and every incident, remediation and audit row names
// its cluster. An event naming a cluster nobody registered is refused.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { functions } from "../../functions/registry.js";
import { scheduleTick, ticksForClusters } from "../../infra/local/cron.js";
import { startHost, type RunningHost } from "../../infra/local/host.js";
import { SandboxClock, startSandbox, type Sandbox } from "../../infra/sandbox/index.js";
import { ClusterRegistry } from "../../shared/clusters/registry.js";
import { loadConfig } from "../../shared/config.js";
import { silentLogger } from "../../shared/ports/log.js";
import { listRemediations } from "../../shared/remediation/store.js";
import { listIncidents } from "../../shared/store/incidents.js";
import { register as registerClusters } from "../../infra/cli/commands/clusters.js";
import { autonomousPolicy } from "../remediation/pipeline-harness.js";
import { runCommand } from "../support/cli.js";

const image = async (sb: Sandbox, ns: string, name: string): Promise<string> => {
  const res = await fetch(`${sb.url}/apis/apps/v1/namespaces/${ns}/deployments/${name}`);
  const d = (await res.json()) as { spec: { template: { spec: { containers: { image: string }[] } } } };
  return d.spec.template.spec.containers[0]!.image;
};

let dir = "";
let clock: SandboxClock;
let eu: Sandbox;
let us: Sandbox;
let host: RunningHost;
const before: Record<string, string> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "prophet-multi-"));
  clock = new SandboxClock();
  const sandbox = (seed: number, cluster: string) =>
    startSandbox({
      seed,
      clock,
      flowLog: false,
      alerting: {
        groupWaitMs: 10_000,
        groupIntervalMs: 30_000,
        repeatIntervalMs: 10 * 60_000,
        externalLabels: { cluster },
      },
    });
  eu = await sandbox(21, "eu-1");
  us = await sandbox(22, "us-1");
  // Registered as a platform engineer would: by kubeconfig context, with the Prometheus API.
  const file = join(dir, "clusters.json");
  const registry = new ClusterRegistry({ file });
  for (const [name, sb] of [
    ["eu-1", eu],
    ["us-1", us],
  ] as const) {
    const context = (parse(readFileSync(sb.kubeconfigPath, "utf8")) as { "current-context": string })[
      "current-context"
    ];
    registry.add([
      { name, source: "kubeconfig", kubeconfig: sb.kubeconfigPath, context, prometheus: sb.prometheusUrl },
    ]);
  }
  host = await startHost({
    config: loadConfig({
      PROPHET_DATA_DIR: join(dir, "data"),
      PROPHET_CLUSTERS_FILE: file,
      PROPHET_CRON: "false",
      PROPHET_SANDBOX: "false",
      LOG_LEVEL: "silent",
      PROPHET_STABILIZATION_SECONDS: "120",
    }),
    functions,
    log: silentLogger,
    port: 0,
    clock,
  });
  host.deps.remediation = { ...host.deps.remediation!, policies: async () => [autonomousPolicy()] };
  eu.setAlertWebhook(`${host.url}/alertmanager`);
  us.setAlertWebhook(`${host.url}/alertmanager`);
  for (const sb of [eu, us])
    for (const name of ["cart", "catalog"])
      before[`${sb === eu ? "eu" : "us"}/${name}`] = await image(sb, "shop", name);
}, 120_000);

afterAll(async () => {
  eu?.setAlertWebhook(undefined);
  us?.setAlertWebhook(undefined);
  await host?.close();
  await eu?.close();
  await us?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let lastTick = 0;
/** 15 s of simulated time for both clusters; the assessor's minute tick, once per cluster. */
async function step(): Promise<void> {
  clock.advance(15_000);
  await eu.alerting.notifier.idle();
  await us.alerting.notifier.idle();
  const now = clock.now().getTime();
  if (now - lastTick >= 60_000) {
    lastTick = now;
    await host.bus.send(ticksForClusters(scheduleTick("remediation-assess", new Date(now)), host.deps));
  }
}

const remediations = () => listRemediations(host.deps.store, { limit: 1000 });

describe("one deployment, two clusters", () => {
  it(
    "diagnoses and rolls back each cluster's bad rollout on that cluster only",
    { timeout: 300_000 },
    async () => {
      eu.inject({ kind: "bad-image", target: "shop/cart" });
      us.inject({ kind: "crash-loop", target: "shop/catalog" });
      const executed = async () => (await remediations()).filter((r) => r.status === "executed");
      for (let s = 0; s < 900 && (await executed()).length < 2; s += 15) await step();
      const done = await executed();
      expect(done.map((r) => [r.cluster, r.action, r.target?.name]).sort()).toEqual([
        ["eu-1", "rollback_deployment", "cart"],
        ["us-1", "rollback_deployment", "catalog"],
      ]);

      // Each rollback landed on its own cluster; the other cluster's same-named workloads are as
      // they were.
      expect(await image(eu, "shop", "cart")).not.toContain("does-not-exist");
      expect(await image(eu, "shop", "catalog")).toBe(before["eu/catalog"]);
      expect(await image(us, "shop", "cart")).toBe(before["us/cart"]);
      expect(await image(us, "shop", "catalog")).toBe(before["us/catalog"]);

      const incidents = await listIncidents(host.deps.store, { limit: 1000 });
      expect(new Set(incidents.map((i) => i.cluster))).toEqual(new Set(["eu-1", "us-1"]));
      const eIncident = incidents.find((i) => i.id === done.find((r) => r.cluster === "eu-1")!.incidentId);
      expect(eIncident?.cluster).toBe("eu-1");
    },
  );

  it(
    "assesses each rollback with its own cluster's API server and Prometheus",
    { timeout: 300_000 },
    async () => {
      for (let s = 0; s < 300; s += 15) await step();
      const all = await remediations();
      // (A second alert of the same incident is blocked as a duplicate: one rollback per cluster.)
      const rems = all.filter((r) => r.action === "rollback_deployment" && r.status === "executed");
      expect(
        rems,
        JSON.stringify(
          all.map((r) => [r.cluster, r.status, r.reason, r.action, r.target?.name, r.score, r.executedAt]),
        ),
      ).toHaveLength(2);
      for (const r of rems) {
        expect(r.score, `${r.cluster} assessed`).toBeGreaterThan(0.5);
        expect(r.assessment).toMatchObject({ drift: "none", health: 1 });
      }
      const us1 = rems.find((r) => r.cluster === "us-1")!;
      // The crash loop's restarts, read from us-1's Prometheus: before the rollback, none after.
      expect(us1.assessment).toMatchObject({ metricImprovement: 1 });
    },
  );

  it("names the cluster in every audit entry of the remediations", async () => {
    const { rows } = await host.deps.store.query<{ cluster: string; rid: string; action: string }>(
      "SELECT cluster, details->>'remediationId' AS rid, action FROM audit_log WHERE details ? 'remediationId'",
    );
    const byId = new Map((await remediations()).map((r) => [r.id, r.cluster]));
    expect(rows.length).toBeGreaterThan(6);
    for (const row of rows) expect(row.cluster, `${row.action} of ${row.rid}`).toBe(byId.get(row.rid));
    expect(new Set(rows.map((r) => r.cluster))).toEqual(new Set(["eu-1", "us-1"]));
  });

  it("refuses an event naming a cluster it does not serve, saying which it serves", async () => {
    const res = await fetch(`${host.url}/`, {
      method: "POST",
      headers: { "content-type": "application/cloudevents+json" },
      body: JSON.stringify({
        specversion: "1.0",
        id: "tick-unknown-cluster",
        source: "/test",
        type: "io.prophet.schedule.tick",
        cluster: "ap-9",
        data: { schedule: "remediation-assess", scheduledTime: clock.now().toISOString() },
      }),
    });
    expect(res.status).toBe(404);
    const body = (await res.json()) as { message: string };
    expect(body.message).toContain('cluster "ap-9"');
    expect(body.message).toContain("eu-1, us-1");
  });

  it("shows every cluster's health side by side (prophet clusters status)", async () => {
    const json = await runCommand(registerClusters, [
      "clusters",
      "status",
      "--url",
      host.url,
      "--output",
      "json",
    ]);
    expect(json.code).toBeUndefined();
    const items = JSON.parse(json.out) as {
      cluster: string;
      registered: boolean;
      remediations: { executedLastDay: number };
      incidents: { firing: number };
    }[];
    expect(items.map((h) => h.cluster)).toEqual(["eu-1", "local", "us-1"]);
    for (const name of ["eu-1", "us-1"]) {
      const h = items.find((x) => x.cluster === name)!;
      expect(h.registered).toBe(true);
      expect(h.remediations.executedLastDay).toBe(1);
    }
    expect(items.find((x) => x.cluster === "local")).toMatchObject({ remediations: { executedLastDay: 0 } });
    const table = await runCommand(registerClusters, ["clusters", "status", "--url", host.url]);
    expect(table.out.split("\n")[0]).toMatch(/^CLUSTER\s+STATUS\s+INCIDENTS/);
    expect(table.out).toMatch(/\beu-1\b/);
  });
});
