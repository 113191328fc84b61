// forecast-scaling against a real Prometheus 2.42: three days of a workload's replica count, with
// a morning ramp every day, backfilled with `promtool tsdb create-blocks-from openmetrics`;
// Prometheus started on those blocks on loopback; the function reads the history with query_range,
// forecasts, and sizes the sandbox's static NodePool ahead of the ramp. Bad PredictiveScales
// (PromQL Prometheus refuses, an unknown NodePool, a horizon shorter than the step) get a status
// condition with the reason and cause no action.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { forecastScaling } from "../../functions/forecast-scaling/index.js";
import { renderPlan } from "../../infra/cli/commands/capacity.js";
import { runForecastScaling } from "../../shared/capacity/scale.js";
import { scheduleTick } from "../../infra/local/cron.js";
import type { KubeObject } from "../../shared/diagnosis/objects.js";
import type { CapacityChangedData, ForecastComputedData } from "../../shared/events/schemas/forecast.js";
import type { Deps } from "../../shared/function.js";
import { kubeClusterPort } from "../../shared/kube/cluster-port.js";
import { prometheusMetrics } from "../../shared/metrics/prometheus.js";
import { SimulatedClock } from "../../shared/ports/clock.js";
import { silentLogger } from "../../shared/ports/log.js";
import type { Store } from "../../shared/ports/store.js";
import { listAudit } from "../../shared/store/audit.js";
import { openStore } from "../../shared/store/open.js";
import { deployment, smallScenario, startSim, type SimHarness } from "../sandbox/sim-harness.js";
import {
  PROMETHEUS_BIN,
  PROMTOOL_BIN,
  missingBinaries,
  startPrometheus,
  type RunningProcess,
} from "../integration/support-processes.js";

const run = promisify(execFile);

interface Status {
  phase: string;
  message: string;
  capacity: Record<string, unknown>;
  conditions: { type: string; status: string; reason: string; message: string }[];
}
const missing = missingBinaries(PROMETHEUS_BIN, PROMTOOL_BIN);
const STEP = 60;
const DAYS = 3;
const RAMP_AFTER = 180; // the daily ramp starts three minutes after the last sample

/** Replicas of shop/web: 4 overnight, a ramp to 20 over 30 minutes, 20 for two hours. */
function replicasAt(t: number, endS: number): number {
  const x = (((t - endS - RAMP_AFTER) % 86_400) + 86_400) % 86_400;
  if (x < 1800) return Math.round(4 + (16 * x) / 1800);
  if (x < 1800 + 7200) return 20;
  return 4;
}

function openMetrics(endS: number): string {
  const lines = ["# TYPE kube_deployment_spec_replicas gauge"];
  for (let t = endS - DAYS * 86_400; t <= endS; t += STEP)
    lines.push(
      `kube_deployment_spec_replicas{namespace="shop",deployment="web"} ${replicasAt(t, endS)} ${t}`,
    );
  return [...lines, "# EOF", ""].join("\n");
}

const scale = (name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: "aiops.prophet.io/v1alpha1",
  kind: "PredictiveScale",
  metadata: { name, namespace: "shop" },
  spec: {
    forecastQuery: 'sum(kube_deployment_spec_replicas{namespace="shop",deployment="web"})',
    targetRef: { kind: "Deployment", name: "web" },
    nodePoolRef: { name: "general" },
    leadTime: "2m",
    action: "provision",
    ...spec,
  },
});

describe.skipIf(missing.length > 0)("forecast-scaling on a real Prometheus", () => {
  let dir = "";
  let prometheus: RunningProcess | undefined;
  let sim: SimHarness;
  let store: Store;
  let deps: Deps;
  let endS = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "prophet-forecast-prom-"));
    endS = Math.floor(Date.now() / 1000 / STEP) * STEP - STEP;
    writeFileSync(join(dir, "history.om.txt"), openMetrics(endS));
    await run(
      PROMTOOL_BIN,
      ["tsdb", "create-blocks-from", "openmetrics", join(dir, "history.om.txt"), join(dir, "prometheus")],
      { maxBuffer: 1 << 24 },
    );
    prometheus = await startPrometheus(dir, [], "groups: []\n", undefined, [
      "--storage.tsdb.retention.time=30d",
    ]);
    sim = await startSim(smallScenario());
    sim.create(deployment("web", { replicas: 4, cpu: "500m", memory: "512Mi" }));
    sim.advance(30);
    const kube = kubeClusterPort({ kubeconfig: sim.sb.kubeconfigPath });
    const crd = parse(
      readFileSync(new URL("../../manifests/crds/predictivescale.yaml", import.meta.url), "utf8"),
    );
    await kube.create!("CustomResourceDefinition", undefined, crd as KubeObject);
    store = await openStore({ dataDir: "memory" });
    deps = {
      store,
      clock: new SimulatedClock(new Date(endS * 1000 + 30_000)),
      log: silentLogger,
      cluster: "test",
      kube,
      metrics: prometheusMetrics({ url: prometheus.url }),
    };
    await kube.create!("PredictiveScale", "shop", scale("web", {}));
    await kube.create!(
      "PredictiveScale",
      "shop",
      scale("bad-query", { forecastQuery: "sum(rate(kube_deployment_spec_replicas[5m]" }),
    );
    await kube.create!("PredictiveScale", "shop", scale("no-pool", { nodePoolRef: { name: "nowhere" } }));
    await kube.create!("PredictiveScale", "shop", scale("short", { horizon: "30s", step: "1m" }));
  }, 120_000);

  afterAll(async () => {
    await prometheus?.stop();
    await sim?.close();
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const status = async (name: string) =>
    (await deps.kube!.get("PredictiveScale", "shop", name))?.status as Status | undefined;

  it(
    "forecasts from the backfilled history and sizes the static pool ahead of the ramp",
    { timeout: 60_000 },
    async () => {
      const events = await forecastScaling.handle(scheduleTick("forecast-scaling", deps.clock.now()), deps);
      const computed = events.filter((e) => e.type === "io.prophet.forecast.computed");
      expect(computed.map((e) => e.subject)).toEqual(["shop/web"]);
      const fc = computed[0]!.data as ForecastComputedData;
      expect(fc.dailyPeriod).toBe(1440);
      expect(fc.historyPoints).toBeGreaterThanOrEqual(DAYS * 1440 - 2);
      expect(fc.current).toBe(4);
      expect(fc.leadTimeSeconds).toBe(120);
      // Yesterday's ramp, 3 minutes after now, says the next few minutes need more than 4.
      expect(fc.target).toBeGreaterThan(6);
      expect(fc.targetReplicas).toBeGreaterThan(6);
      // Three days of a daily cycle: the forecast itself climbs to the plateau within the horizon.
      expect(fc.predictedPeak.value).toBeGreaterThan(15);
      const changed = events.filter((e) => e.type === "io.prophet.capacity.changed");
      expect(changed).toHaveLength(1);
      const cc = changed[0]!.data as CapacityChangedData;
      expect(cc).toMatchObject({ strategy: "static", object: "NodePool/general", from: 0, applied: true });
      expect(cc.to).toBe(fc.targetReplicas - 4);
      // Two m5.large nodes hold three 500m pods each; the 4 web pods leave 2 slots, so the pool grows.
      const pool = sim.get("nodepools.karpenter.sh", undefined, "general")!;
      expect((pool.spec as { replicas: number }).replicas).toBe(cc.staticNodes);
      expect(cc.staticNodes!).toBeGreaterThan(2);
      const st = (await status("web"))!;
      expect(st.phase).toBe("Provisioning");
      expect(st.capacity).toMatchObject({
        strategy: "static",
        bufferReplicas: cc.to,
        staticNodes: cc.staticNodes,
      });
      expect(st.conditions.find((c) => c.type === "Ready")).toMatchObject({
        status: "True",
        reason: "Evaluated",
      });
      const audit = await listAudit(store, { limit: 10 });
      expect(audit.map((a) => [a.action, a.subject])).toContainEqual([
        "capacity.provisioned",
        "PredictiveScale/shop/web",
      ]);
    },
  );

  it("gives bad objects a condition with the reason and does nothing for them", async () => {
    const bad = (await status("bad-query"))!;
    expect(bad.phase).toBe("Error");
    const cond = bad.conditions.find((c) => c.type === "Ready")!;
    expect(cond).toMatchObject({ status: "False", reason: "QueryFailed" });
    expect(cond.message).toMatch(/forecastQuery refused by .*parse error/);
    expect((await status("no-pool"))!.conditions[0]).toMatchObject({
      reason: "NodePoolNotFound",
      message: expect.stringContaining("NodePool nowhere does not exist"),
    });
    const short = (await status("short"))!;
    expect(short.phase).toBe("Invalid");
    expect(short.message).toContain("spec.horizon: horizon 30s is shorter than the step 1m");
    expect(sim.get("deployments.apps", "shop", "prophet-buffer-bad-query")).toBeUndefined();
  });

  it("`prophet capacity plan` shows the same plan and writes nothing", async () => {
    const poolBefore = JSON.stringify(sim.get("nodepools.karpenter.sh", undefined, "general")!.spec);
    const auditBefore = (await listAudit(store, { limit: 1000 })).length;
    const report = await runForecastScaling(
      { deps, source: "/prophet/cli", actor: "cli:capacity-plan", dryRun: true },
      scheduleTick("forecast-scaling", deps.clock.now()),
    );
    const text = renderPlan(report.outcomes);
    expect(text).toMatch(/^PREDICTIVESCALE\s+PHASE\s+STRATEGY\s+NOW\s+TARGET\s+BY\s+RESERVE/);
    expect(text).toMatch(
      /shop\/web\s+Provisioning\s+static\s+4\s+\d+\s+seasonal-peak|shop\/web\s+Provisioning\s+static\s+4\s+\d+\s+forecast/,
    );
    expect(text).toContain("shop/bad-query: QueryFailed: forecastQuery refused by");
    expect(text).toContain("shop/short: InvalidSpec: spec.horizon");
    expect(JSON.stringify(sim.get("nodepools.karpenter.sh", undefined, "general")!.spec)).toBe(poolBefore);
    expect(await listAudit(store, { limit: 1000 })).toHaveLength(auditBefore);
  });

  it("does not evaluate again before the schedule is due: a redelivered tick repeats nothing", async () => {
    const again = await forecastScaling.handle(scheduleTick("forecast-scaling", deps.clock.now()), deps);
    expect(again.filter((e) => e.subject === "shop/web")).toEqual([]);
  });
});
