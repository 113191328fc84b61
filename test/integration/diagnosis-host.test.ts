// The local host with KUBECONFIG pointing at a cluster (the API server emulator seeded with
// scenario S01: a pod pending on an untolerated taint). An Alertmanager webhook about that pod
// flows alert-intake → incident.opened → alert-diagnosis, which reads the cluster through
// @kubernetes/client-node and stores a finding naming the taint.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { functions } from "../../functions/registry.js";
import { startHost, type RunningHost } from "../../infra/local/host.js";
import { startApiServer, type ApiServer } from "../../infra/sandbox/apiserver/index.js";
import { loadConfig } from "../../shared/config.js";
import { silentLogger } from "../../shared/ports/log.js";
import { seedSnapshot } from "../diagnosis/seed.js";
import { freshPostgresUrl } from "../support/stores.js";

const scenario = JSON.parse(
  readFileSync(new URL("../../../shared/scenarios/diagnosis/S01.json", import.meta.url), "utf8"),
) as { snapshot: unknown; expect: Array<{ namespace: string; name: string }> };
const target = scenario.expect[0]!;

let api: ApiServer;
let host: RunningHost;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "prophet-diag-host-"));
  api = await startApiServer({ port: 0 });
  seedSnapshot(api, scenario.snapshot);
  const kubeconfig = join(dir, "kubeconfig");
  api.writeKubeconfig(kubeconfig);
  const url = await freshPostgresUrl();
  if (!url) throw new Error("needs PostgreSQL");
  host = await startHost({
    config: loadConfig({
      DATABASE_URL: url,
      KUBECONFIG: kubeconfig,
      PROPHET_CRON: "false",
      LOG_LEVEL: "silent",
    }),
    functions,
    log: silentLogger,
    port: 0,
  });
});
afterAll(async () => {
  await host?.close();
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("alert → incident → diagnosis on a live cluster", () => {
  it("diagnoses the pod an Alertmanager alert names, naming the untolerated taint", async () => {
    expect(host.deps.kube).toBeDefined();
    const webhook = {
      version: "4",
      receiver: "prophet",
      status: "firing",
      groupKey: '{}:{alertname="KubePodNotReady"}',
      externalURL: "http://alertmanager:9093",
      alerts: [
        {
          status: "firing",
          labels: {
            alertname: "KubePodNotReady",
            namespace: target.namespace,
            pod: target.name,
            severity: "warning",
          },
          annotations: { summary: "Pod has been in a non-ready state for more than 15 minutes." },
          startsAt: "2026-11-22T09:00:00Z",
          endsAt: "0001-01-01T00:00:00Z",
          generatorURL: "",
          fingerprint: "0c1d2e3f4a5b6c7d",
        },
      ],
    };
    const res = await fetch(`${host.url}/alertmanager`, { method: "POST", body: JSON.stringify(webhook) });
    expect(res.status).toBe(200);
    const { rows } = await host.deps.store.query<{
      kind: string;
      name: string;
      message: string;
      reason: string;
    }>("SELECT kind, name, reason, message FROM findings");
    const finding = rows.find((r) => r.kind === "Pod" && r.name === target.name);
    expect(finding, JSON.stringify(rows)).toBeDefined();
    expect(`${finding?.reason} ${finding?.message}`).toContain("node-role.kubernetes.io/master");
    const incidents = (await (await fetch(`${host.url}/api/incidents`)).json()) as {
      items: Array<{ id: string }>;
    };
    const api = (await (
      await fetch(`${host.url}/api/incidents/${incidents.items[0]?.id}/findings`)
    ).json()) as {
      items: Array<{ name: string }>;
    };
    expect(api.items.map((f) => f.name)).toContain(target.name);
    const audit = await host.deps.store.query<{ action: string }>(
      "SELECT action FROM audit_log ORDER BY seq",
    );
    // No AutonomousAction: the default policy (human-in-loop) lets only a read-only action run —
    // an untolerated taint has no safe automatic fix, so the on-call people are told.
    expect(audit.rows.map((r) => r.action)).toEqual([
      "alert.firing",
      "diagnosis.completed",
      "remediation.decided",
      "remediation.gated",
      "remediation.executed",
    ]);
    const rem = await host.deps.store.query<{ action: string; status: string }>(
      "SELECT action, status FROM remediations",
    );
    expect(rem.rows).toEqual([{ action: "notify_only", status: "executed" }]);
  });
});
