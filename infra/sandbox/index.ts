// The sandbox: an API server emulator, a seeded cluster from a scenario, the simulation loop on a
// simulated clock, fault injection, and a small control API under /sandbox/ on the same port.
import { mkdtempSync, rmSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { startApiServer, type ApiServer } from "./apiserver/server.js";
import type { KubeObject } from "./apiserver/types.js";
import { SandboxClock } from "./clock.js";
import type { SimSettings, UtilizationModel } from "./controllers/context.js";
import { simulatedLogs } from "./controllers/logs.js";
import { SandboxAlerting } from "./alerts/index.js";
import type { CapacityStatsSnapshot } from "./capacity-stats.js";
import { demandRate, demandUtilization } from "./demand.js";
import {
  FaultError,
  FaultInjector,
  FaultRequestSchema,
  type ActiveFault,
  type FaultRequest,
} from "./faults.js";
import { seededRandom } from "./random.js";
import { loadScenario, type Scenario } from "./scenario.js";
import { seedCluster } from "./seed.js";
import { Simulation } from "./simulation.js";
import { createMetricsHandler } from "./metrics/index.js";
import { ClusterTelemetry } from "./telemetry/index.js";
import { SandboxFlows } from "./flows/index.js";

export { SandboxClock } from "./clock.js";
export { faultKinds, type ActiveFault, type FaultKind, type FaultRequest } from "./faults.js";
export { loadScenario, parseScenario, defaultScenarioPath, type Scenario } from "./scenario.js";
export { Simulation } from "./simulation.js";
export {
  capacityStats,
  CapacityStats,
  type CapacityStatsSnapshot,
  type PoolCapacityStats,
} from "./capacity-stats.js";
export { ClusterTelemetry } from "./telemetry/index.js";
export { SandboxAlerting, type WebhookPayload } from "./alerts/index.js";
export {
  SandboxFlows,
  ExporterLineSchema,
  FlowSchema,
  type ExporterLine,
  type FlowListener,
  type HubbleFlow,
} from "./flows/index.js";

/** Where the sandbox's Prometheus API lives on the API server's port (/api/v1 is Kubernetes' there). */
export const PROMETHEUS_PREFIX = "/prometheus";

export interface SandboxOptions {
  port?: number;
  /** Run the clock at this multiple of real time (e.g. 60). Omitted: the clock only moves on advance(). */
  speed?: number;
  /** Overrides the scenario's seed. */
  seed?: number;
  /** A scenario object, a path to a YAML file, or undefined for scenarios/default.yaml. */
  scenario?: Scenario | string;
  /** A clock to drive (tests pass their own); default one starting at the scenario's start time. */
  clock?: SandboxClock;
  /** Where to write the kubeconfig (default: a fresh temp directory). */
  kubeconfigPath?: string;
  settings?: Partial<SimSettings>;
  utilization?: UtilizationModel;
  /** Skip the scenario's warm-up (tests that want to watch the cluster come up). */
  skipWarmup?: boolean;
  /** Alertmanager webhook v4 receiver for the built-in alert rules (e.g. Prophet's /alertmanager). */
  alertWebhookUrl?: string;
  /** Scrape/evaluation interval and history of the built-in Prometheus (defaults 30 s and 6 h). */
  metrics?: { scrapeIntervalMs?: number; retentionMs?: number };
  /** Alertmanager timing in simulated ms (defaults: group_wait 30 s, group_interval 1 m, repeat 1 h). */
  alerting?: {
    groupWaitMs?: number;
    groupIntervalMs?: number;
    repeatIntervalMs?: number;
    /** Labels on every alert, as Prometheus' external_labels (e.g. `{cluster: "eu-1"}`). */
    externalLabels?: Record<string, string>;
  };
  /** Hubble exporter JSONL file (default `<kubeconfig dir>/hubble-flows.jsonl`); false: no file. */
  flowLog?: string | false;
  /** Flow sampling and file bounds: sampled calls per request (0.02), calls per step (12), 16 MiB × 2 backups. */
  flows?: {
    sampleRate?: number;
    maxCallsPerStep?: number;
    maxBytes?: number;
    maxBackups?: number;
    clusterName?: string;
  };
}

export interface Sandbox {
  kubeconfigPath: string;
  url: string;
  clock: SandboxClock;
  api: ApiServer;
  simulation: Simulation;
  scenario: Scenario;
  /** Base URL of the Prometheus HTTP API and /metrics: `${prometheusUrl}/api/v1/query`, `${prometheusUrl}/metrics`. */
  prometheusUrl: string;
  /** The workload metrics (cAdvisor, kube-state-metrics, Karpenter, application) and their store. */
  telemetry: ClusterTelemetry;
  alerting: SandboxAlerting;
  /** Hubble-shaped flows of the simulated traffic: `flows.subscribe(listener)`, `flows.recent(since)`, `flows.path`. */
  flows: SandboxFlows;
  /** Sends alert webhooks to `url` from now on (undefined stops sending). */
  setAlertWebhook(url: string | undefined): void;
  inject(fault: FaultRequest): ActiveFault;
  revert(id: string): ActiveFault;
  faults(): ActiveFault[];
  /**
   * Pending pod-seconds (priority ≥ 0, Unschedulable), Ready node-seconds and requested vs allocatable
   * CPU-seconds per NodePool since start or the last reset (`simulation.capacity.reset()`).
   */
  capacityStats(): CapacityStatsSnapshot;
  /** Every object, `kubectl get … -A -o json` style. */
  snapshot(opts?: { includeEvents?: boolean }): KubeObject;
  close(): Promise<void>;
}

const SNAPSHOT_SKIP = new Set(["events", "events.events.k8s.io", "componentstatuses", "bindings"]);

export function snapshotList(api: ApiServer, includeEvents = false): KubeObject {
  const store = api.store;
  const items: KubeObject[] = [];
  const seen = new Set<string>();
  for (const rt of store.catalog.all()) {
    if (seen.has(rt.storageKey) || (!includeEvents && SNAPSHOT_SKIP.has(rt.storageKey))) continue;
    seen.add(rt.storageKey);
    items.push(...store.list(rt));
  }
  return { apiVersion: "v1", kind: "List", metadata: { resourceVersion: "" }, items };
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const scenario =
    typeof opts.scenario === "object"
      ? opts.scenario
      : loadScenario(...(opts.scenario ? [opts.scenario] : []));
  const seed = opts.seed ?? scenario.seed;
  const clock = opts.clock ?? new SandboxClock({ start: scenario.start, tickMs: scenario.tickMs });
  const random = seededRandom(seed);
  // The log source needs the simulation, which needs the API server's store: tie the knot late.
  const late: { sim?: Simulation } = {};
  const logs = {
    read: (pod: KubeObject, c: string, o: { previous: boolean }) =>
      late.sim ? simulatedLogs(late.sim.ctx).read(pod, c, o) : "",
  };
  const api = await startApiServer({
    port: opts.port ?? 0,
    clock: () => clock.now(),
    random: seededRandom(seed ^ 0x5eed),
    workloads: { manual: true },
    logs,
    routes: [
      { prefix: "/sandbox/", handle: (req, res) => control(req, res) },
      { prefix: `${PROMETHEUS_PREFIX}/`, handle: (req, res) => prometheus(req, res) },
    ],
  });
  const workloads = api.workloads;
  if (!workloads) throw new Error("the workload controller did not start");
  const profiles = seedCluster(api.store, scenario);
  const simulation = new Simulation({
    store: api.store,
    workloads,
    random,
    utilization: () => 0,
    settings: {
      launchDelayMs: scenario.karpenter.launchDelaySeconds * 1000,
      consolidateAfterMs: scenario.karpenter.consolidateAfterSeconds * 1000,
      ...opts.settings,
    },
  });
  late.sim = simulation;
  // The demand model reads the same behaviour map the faults write.
  simulation.ctx.utilization = opts.utilization ?? demandUtilization(profiles, simulation.ctx.behaviour);
  const injector = new FaultInjector(simulation.ctx);
  const demand = demandRate(profiles, simulation.ctx.behaviour);
  const telemetry = new ClusterTelemetry({
    ctx: simulation.ctx,
    demand,
    ...opts.metrics,
  });
  const prometheusUrl = `${api.url}${PROMETHEUS_PREFIX}`;
  const alerting = new SandboxAlerting(telemetry.store, {
    ...(opts.alertWebhookUrl ? { url: opts.alertWebhookUrl } : {}),
    ...opts.alerting,
    receiver: "prophet-sandbox",
    externalUrl: prometheusUrl,
  });
  const ownDir = opts.kubeconfigPath ? undefined : mkdtempSync(join(tmpdir(), "prophet-sandbox-"));
  const kubeconfigPath = opts.kubeconfigPath ?? join(ownDir ?? "", "kubeconfig");
  const flowLog = opts.flowLog ?? join(dirname(kubeconfigPath), "hubble-flows.jsonl");
  const flows = new SandboxFlows({
    ctx: simulation.ctx,
    demand,
    random: seededRandom(seed ^ 0xf10e5),
    ...(flowLog ? { path: flowLog } : {}),
    ...opts.flows,
  });
  const metricsHandler = createMetricsHandler({ store: telemetry.store, now: () => clock.now().getTime() });
  const tick = (now: Date) => {
    simulation.step(now);
    try {
      flows.step(now.getTime(), simulation.ctx.dtMs);
    } catch (err) {
      process.emitWarning(`sandbox flows: ${String(err)}`);
    }
    try {
      const before = telemetry.scrapes;
      telemetry.maybeScrape(now.getTime());
      if (telemetry.scrapes !== before) alerting.evaluate(now.getTime());
    } catch (err) {
      // Like a failed scrape: the cluster keeps running, the gap shows in the metrics.
      process.emitWarning(`sandbox metrics: ${String(err)}`);
    }
  };
  tick(clock.now());
  const unsubscribe = clock.onTick(tick);
  if (!opts.skipWarmup && scenario.warmupSeconds > 0) clock.advance(scenario.warmupSeconds * 1000);
  api.writeKubeconfig(kubeconfigPath);
  if (opts.speed) clock.startRealTime(opts.speed);

  async function prometheus(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.url = (req.url ?? "/").slice(PROMETHEUS_PREFIX.length);
    if (await metricsHandler(req, res)) return;
    res.writeHead(404, { "Content-Type": "text/plain" });
    res.end(`404 page not found\n`);
  }

  async function control(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (code: number, body: unknown) => {
      const text = JSON.stringify(body, null, 2);
      res.writeHead(code, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
      res.end(text);
    };
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    try {
      if (url.pathname === "/sandbox/faults" && req.method === "GET")
        return send(200, { items: injector.list() });
      if (url.pathname === "/sandbox/faults" && req.method === "POST") {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const parsed = FaultRequestSchema.safeParse(JSON.parse(Buffer.concat(chunks).toString() || "{}"));
        if (!parsed.success)
          return send(400, {
            error: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
          });
        return send(201, injector.inject(parsed.data));
      }
      const m = /^\/sandbox\/faults\/([^/]+)$/.exec(url.pathname);
      if (m && req.method === "DELETE") return send(200, injector.revert(decodeURIComponent(m[1] ?? "")));
      if (url.pathname === "/sandbox/snapshot")
        return send(200, snapshotList(api, url.searchParams.get("events") === "true"));
      if (url.pathname === "/sandbox/kubeconfig") {
        res.writeHead(200, { "Content-Type": "application/yaml" });
        return void res.end(api.kubeconfig());
      }
      if (url.pathname === "/sandbox/flows" && req.method === "GET") return flows.serve(req, res, url);
      if (url.pathname === "/sandbox/capacity" && req.method === "GET")
        return send(200, simulation.capacity.snapshot());
      if (url.pathname === "/sandbox/capacity/reset" && req.method === "POST") {
        simulation.capacity.reset();
        return send(200, simulation.capacity.snapshot());
      }
      if (url.pathname === "/sandbox/clock")
        return send(200, { now: clock.now().toISOString(), steps: simulation.steps });
      return send(404, { error: `no sandbox route ${req.method} ${url.pathname}` });
    } catch (err) {
      if (err instanceof FaultError)
        return send(err.code === "not_found" ? 404 : 400, { error: err.message });
      if (err instanceof SyntaxError) return send(400, { error: `invalid JSON: ${err.message}` });
      return send(500, { error: (err as Error).message });
    }
  }

  return {
    kubeconfigPath,
    url: api.url,
    clock,
    api,
    simulation,
    scenario,
    prometheusUrl,
    telemetry,
    alerting,
    flows,
    setAlertWebhook: (url) => alerting.setWebhook(url),
    inject: (f) => injector.inject(f),
    revert: (id) => injector.revert(id),
    faults: () => injector.list(),
    capacityStats: () => simulation.capacity.snapshot(),
    snapshot: (o) => snapshotList(api, o?.includeEvents ?? false),
    close: async () => {
      clock.stop();
      unsubscribe();
      alerting.setWebhook(undefined);
      await alerting.notifier.idle();
      await api.close();
      if (ownDir) rmSync(ownDir, { recursive: true, force: true });
    },
  };
}
