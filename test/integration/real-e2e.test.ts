// End to end on real components: the sandbox cluster runs SPEED× faster than the wall clock; a real
// Prometheus 2.42 scrapes its /prometheus/metrics (plus a small Endpoints exporter, see
// support-endpoints-exporter.ts) every second and evaluates the shipped alert rules
// (manifests/prometheus/prophet-sandbox-rules.yaml, durations divided by SPEED: support-rules.ts);
// a real Alertmanager 0.25 routes the alerts to the local host's /alertmanager; alert-intake opens
// incidents and alert-diagnosis, reading the sandbox through its kubeconfig, stores a diagnosis.
// The sandbox's own notifier is off (no alertWebhookUrl): every alert here comes from Prometheus.
// One sandbox for all scenarios; each reverts its fault. Scenarios run in order, least disruptive
// first (the node going NotReady last).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { functions } from "../../functions/registry.js";
import { startHost, type RunningHost } from "../../infra/local/host.js";
import { startSandbox, type Sandbox } from "../../infra/sandbox/index.js";
import { loadConfig } from "../../shared/config.js";
import { silentLogger } from "../../shared/ports/log.js";
import { freshPostgresUrl } from "../support/stores.js";
import { startEndpointsExporter, type RunningExporter } from "./support-endpoints-exporter.js";
import {
  ALERTMANAGER_BIN,
  PROMETHEUS_BIN,
  missingBinaries,
  startAlertmanager,
  startPrometheus,
  until,
  type RunningProcess,
} from "./support-processes.js";
import { compress, sandboxRulesFile } from "./support-rules.js";

const SPEED = 60;
const WAIT_MS = 60_000;
const TEST_MS = 90_000;

let sb: Sandbox | undefined;
let host: RunningHost | undefined;
let prometheus: RunningProcess | undefined;
let alertmanager: RunningProcess | undefined;
let exporter: RunningExporter | undefined;
let dir = "";

const missing = missingBinaries(PROMETHEUS_BIN, ALERTMANAGER_BIN);

/** kube-state-metrics' endpoint series has no alert in the shipped rules; this one is the test's own. */
const serviceRules = {
  name: "prophet-e2e-services",
  rules: [
    {
      alert: "KubeServiceWithoutEndpoints",
      expr: 'label_replace(kube_endpoint_address_available{job="kube-state-metrics"} == 0, "service", "$1", "endpoint", "(.+)")',
      for: compress("2m", SPEED),
      labels: { severity: "warning" },
      annotations: { summary: "Service has no endpoints." },
    },
  ],
};

beforeAll(async () => {
  if (missing.length > 0) return;
  const url = await freshPostgresUrl();
  if (!url) return;
  dir = mkdtempSync(join(tmpdir(), "prophet-real-e2e-"));
  sb = await startSandbox({ speed: SPEED, kubeconfigPath: join(dir, "kubeconfig") });
  host = await startHost({
    config: loadConfig({ DATABASE_URL: url, PROPHET_CRON: "false", LOG_LEVEL: "silent" }),
    functions,
    log: silentLogger,
    kubeconfig: sb.kubeconfigPath,
    port: 0,
  });
  exporter = await startEndpointsExporter(sb.url);
  alertmanager = await startAlertmanager(dir, `${host.url}/alertmanager`);
  prometheus = await startPrometheus(
    dir,
    [
      { job: "sandbox", target: new URL(sb.prometheusUrl).host, metricsPath: "/prometheus/metrics" },
      { job: "kube-state-metrics-endpoints", target: exporter.target, metricsPath: "/metrics" },
    ],
    sandboxRulesFile(SPEED, [serviceRules]),
    alertmanager.url,
  );
  // The rules loaded and the sandbox is being scraped.
  await until("Prometheus to scrape the sandbox", async () => {
    const q = encodeURIComponent('up{job="sandbox"} == 1 and on() count(kube_pod_status_phase) > 0');
    const body = (await (await fetch(`${prometheus!.url}/api/v1/query?query=${q}`)).json()) as {
      data: { result: unknown[] };
    };
    return body.data.result.length > 0 ? true : undefined;
  });
}, 60_000);

afterAll(async () => {
  await prometheus?.stop();
  await alertmanager?.stop();
  await exporter?.close();
  await host?.close();
  await sb?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface RootCause {
  kind: string;
  namespace: string;
  name: string;
  reason: string;
  message: string;
}
interface Diagnosed {
  id: string;
  status: string;
  summary: string;
  root_cause: RootCause | null;
  alertname: string;
  subject: string;
}

/** Polls the store until a diagnosis satisfies `match`; a timeout lists what was diagnosed. */
async function diagnosisWith(
  what: string,
  match: (rc: RootCause, d: Diagnosed) => boolean,
): Promise<Diagnosed> {
  let seen: Diagnosed[] = [];
  try {
    return await until(
      what,
      async () => {
        const { rows } = await host!.deps.store.query<Diagnosed>(
          `SELECT d.id, d.status, d.summary, d.root_cause, i.alertname, i.subject
             FROM diagnoses d JOIN incidents i ON i.id = d.incident_id ORDER BY d.created_at`,
        );
        seen = rows;
        return rows.find((d) => d.root_cause && match(d.root_cause, d));
      },
      WAIT_MS,
      500,
    );
  } catch (e) {
    const firing = await fetch(`${prometheus!.url}/api/v1/alerts`)
      .then((r) => r.text())
      .catch(() => "");
    throw new Error(
      `${String(e)}\ndiagnoses: ${JSON.stringify(
        seen.map((d) => [d.subject, d.status, d.root_cause?.reason, d.root_cause?.message]),
        null,
        1,
      )}\nPrometheus alerts: ${firing.slice(0, 4000)}`,
    );
  }
}

const api = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
  const res = await fetch(`${sb!.url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
};

describe.skipIf(missing.length > 0)("real Prometheus + Alertmanager → host → diagnosis", () => {
  it(
    "bad image rollout: the image tag does not exist",
    async (ctx) => {
      if (!host) return ctx.skip();
      const f = sb!.inject({ kind: "bad-image", target: "shop/catalog", params: { tag: "1.4.2-typo" } });
      try {
        const d = await diagnosisWith(
          "ImageNotFound",
          (rc, x) => rc.reason === "ImageNotFound" && x.alertname === "KubePodNotReady",
        );
        expect(d.alertname).toBe("KubePodNotReady");
        expect(d.root_cause).toMatchObject({ kind: "Pod", namespace: "shop", reason: "ImageNotFound" });
        expect(d.root_cause?.name).toMatch(/^catalog-/);
        expect(d.root_cause?.message).toContain("ghcr.io/prophet-demo/catalog:1.4.2-typo");
        expect(d.root_cause?.message).toContain("tag 1.4.2-typo does not exist");
      } finally {
        sb!.revert(f.id);
      }
    },
    TEST_MS,
  );

  it(
    "OOM: the leaking container is OOMKilled at its memory limit",
    async (ctx) => {
      if (!host) return ctx.skip();
      const f = sb!.inject({
        kind: "memory-leak",
        target: "shop/recommender",
        params: { bytesPerMinute: 512 * 2 ** 20 },
      });
      try {
        // Any alert about the crash-looping pod or its Service may carry the diagnosis: read while the
        // container is back in CrashLoopBackOff or while it runs again between restarts (then from
        // lastState.terminated), it names the OOMKill; which alert wins varies from run to run.
        const d = await diagnosisWith(
          "OOMKilled",
          (rc) => rc.reason === "OOMKilled" && rc.name.startsWith("recommender-"),
        );
        // The shipped KubeContainerOOMKilled rule fires on the real Prometheus.
        const oomIncident = await until(
          "a KubeContainerOOMKilled incident",
          async () =>
            (
              await host!.deps.store.query<{ subject: string }>(
                "SELECT subject FROM incidents WHERE alertname = 'KubeContainerOOMKilled'",
              )
            ).rows[0],
          WAIT_MS,
          500,
        );
        expect(oomIncident.subject).toMatch(/^KubeContainerOOMKilled shop\/Pod\/recommender-/);
        expect(d.root_cause).toMatchObject({ kind: "Pod", namespace: "shop", reason: "OOMKilled" });
        expect(d.root_cause?.name).toMatch(/^recommender-/);
        expect(d.root_cause?.message).toMatch(
          /OOMKilled \(exit code 137\)(?: and restarted \d+ time\(s\))?: it exceeded its memory limit of 1536Mi/,
        );
      } finally {
        sb!.revert(f.id);
      }
    },
    TEST_MS,
  );

  it(
    "missing Secret: the pods cannot start without shop/cart-secret",
    async (ctx) => {
      if (!host) return ctx.skip();
      const f = sb!.inject({ kind: "missing-secret", target: "shop/cart" });
      try {
        const d = await diagnosisWith("SecretNotFound", (rc) => rc.reason === "SecretNotFound");
        expect(d.root_cause).toMatchObject({ kind: "Pod", namespace: "shop", reason: "SecretNotFound" });
        expect(d.root_cause?.name).toMatch(/^cart-/);
        expect(d.root_cause?.message).toContain("Secret cart-secret");
        expect(d.root_cause?.message).toContain("does not exist");
      } finally {
        sb!.revert(f.id);
      }
    },
    TEST_MS,
  );

  it(
    "Service selector mismatch: the selector matches no pod",
    async (ctx) => {
      if (!host) return ctx.skip();
      const path = "/api/v1/namespaces/payments/services/fraud-scorer";
      const svc = await api("GET", path);
      const spec = svc.spec as { selector: Record<string, string> };
      const original = spec.selector;
      const [key] = Object.keys(original);
      expect(key).toBeDefined();
      await api("PUT", path, {
        ...svc,
        spec: { ...spec, selector: { ...original, [key!]: "fraud-scorrer" } },
      });
      try {
        const d = await diagnosisWith(
          "NoPodsMatchSelector",
          (rc, x) => rc.reason === "NoPodsMatchSelector" && x.alertname === "KubeServiceWithoutEndpoints",
        );
        expect(d.alertname).toBe("KubeServiceWithoutEndpoints");
        expect(d.root_cause).toMatchObject({ kind: "Service", namespace: "payments", name: "fraud-scorer" });
        expect(d.root_cause?.message).toContain(`${key}=fraud-scorrer`);
        expect(d.root_cause?.message).toContain("matches no pod in namespace payments");
      } finally {
        const now = await api("GET", path);
        await api("PUT", path, { ...now, spec: { ...(now.spec as object), selector: original } });
      }
    },
    TEST_MS,
  );

  it(
    "unschedulable: the restarted pods do not tolerate the new taint",
    async (ctx) => {
      if (!host) return ctx.skip();
      const f = sb!.inject({
        kind: "untolerated-taint",
        target: "payments/checkout",
        params: { key: "maintenance-window" },
      });
      try {
        const d = await diagnosisWith(
          "UntoleratedTaint",
          (rc, x) => rc.reason === "UntoleratedTaint" && x.alertname === "KubePodNotReady",
        );
        expect(d.alertname).toBe("KubePodNotReady");
        expect(d.root_cause).toMatchObject({
          kind: "Pod",
          namespace: "payments",
          reason: "UntoleratedTaint",
        });
        expect(d.root_cause?.name).toMatch(/^checkout-/);
        // The scheduler's message lists every taint that kept the pod off a node (the system pool's too).
        expect(d.root_cause?.message).toMatch(
          /^pod cannot be scheduled: untolerated taint .*maintenance-window/,
        );
        expect(d.root_cause?.message).toContain("{maintenance-window: true}");
      } finally {
        sb!.revert(f.id);
      }
    },
    TEST_MS,
  );

  it(
    "PVC with a missing StorageClass: the claim cannot be provisioned, so its pod stays Pending",
    async (ctx) => {
      if (!host) return ctx.skip();
      const claims = "/api/v1/namespaces/shop/persistentvolumeclaims";
      const deployments = "/apis/apps/v1/namespaces/shop/deployments";
      await api("POST", claims, {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: "reports-data", namespace: "shop" },
        spec: {
          accessModes: ["ReadWriteOnce"],
          storageClassName: "fast-ssd",
          resources: { requests: { storage: "10Gi" } },
        },
      });
      await api("POST", deployments, {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "reports", namespace: "shop", labels: { app: "reports" } },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: "reports" } },
          template: {
            metadata: { labels: { app: "reports" } },
            spec: {
              containers: [
                {
                  name: "reports",
                  image: "ghcr.io/prophet-demo/reports:1.0.0",
                  resources: { requests: { cpu: "50m" } },
                },
              ],
              volumes: [{ name: "data", persistentVolumeClaim: { claimName: "reports-data" } }],
            },
          },
        },
      });
      try {
        // Whichever alert comes first (the pod not ready, the Deployment's replicas mismatch), its
        // diagnosis must name the StorageClass that does not exist.
        const d = await diagnosisWith("the missing StorageClass", (rc) => rc.message.includes("fast-ssd"));
        expect(["PersistentVolumeClaim", "Pod"]).toContain(d.root_cause?.kind);
        expect(d.root_cause?.message).toContain("fast-ssd");
      } finally {
        await api("DELETE", `${deployments}/reports`);
        await api("DELETE", `${claims}/reports-data`);
      }
    },
    TEST_MS,
  );

  it(
    "node NotReady: the kubelet stopped posting status",
    async (ctx) => {
      if (!host) return ctx.skip();
      const f = sb!.inject({ kind: "node-not-ready" });
      try {
        const d = await diagnosisWith(
          "NodeNotReady",
          (rc, x) => x.alertname === "KubeNodeNotReady" && rc.reason === "NodeNotReady",
        );
        expect(d.subject).toBe(`KubeNodeNotReady Node/${f.target}`);
        expect(d.root_cause).toMatchObject({ kind: "Node", namespace: "", name: f.target });
        expect(d.root_cause?.message).toMatch(/^node is NotReady \(Ready=Unknown\)/);
      } finally {
        sb!.revert(f.id);
      }
    },
    TEST_MS,
  );
});
