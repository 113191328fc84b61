// Memory leaks on the sandbox, caught before the OOM kill: `npx tsx test/bench/anomaly-leak.ts
// [--runs 30] [--first-seed 1]`. Each run starts the sandbox with its own seed, installs the
// AnomalyAction CRD and one learned-detector AnomalyAction over the target namespace's working
// sets, lets the cluster run healthy for 10–45 simulated minutes (anomaly-trigger every minute,
// as the cron would), then injects the `memory-leak` fault (8–96 MiB/min) on a workload with a
// memory limit and runs until its first container is OOMKilled. A run is a hit when an
// io.prophet.anomaly.detected for the target's pods comes before that kill; lead time = kill −
// detection. Detections on other workloads are false positives. `runLeak` is what
// test/anomaly/memory-leak.test.ts runs too.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parse } from "yaml";
import { anomalyTrigger } from "../../functions/anomaly-trigger/index.js";
import { scheduleTick } from "../../infra/local/cron.js";
import { startSandbox } from "../../infra/sandbox/index.js";
import type { KubeObject } from "../../shared/diagnosis/objects.js";
import type { ProphetEvent } from "../../shared/events/envelope.js";
import type { AnomalyDetectedData } from "../../shared/events/schemas/anomaly.js";
import type { Deps } from "../../shared/function.js";
import { kubeClusterPort } from "../../shared/kube/cluster-port.js";
import { prometheusMetrics } from "../../shared/metrics/prometheus.js";
import type { SimulatedClock } from "../../shared/ports/clock.js";
import type { Store } from "../../shared/ports/store.js";
import { freshPgliteStore, testDeps } from "../support/stores.js";
import { seededRandom } from "./synthetic.js";

/** Workloads of the default scenario with a memory limit, and their headroom above the start. */
export const leakTargets = ["shop/frontend", "shop/cart", "payments/checkout", "shop/recommender"] as const;

export interface LeakRun {
  seed: number;
  target: string;
  mibPerMinute: number;
  healthyMinutes: number;
  /** Simulated seconds from injection to the first detection on the target (undefined: none before the kill). */
  detectedAfter: number | undefined;
  /** Simulated seconds from injection to the first OOMKilled container (undefined: none within the run). */
  oomAfter: number | undefined;
  /** oomAfter − detectedAfter. */
  leadSeconds: number | undefined;
  component: string | undefined;
  falsePositives: string[];
  status: Record<string, unknown> | undefined;
}

const crd = parse(
  readFileSync(new URL("../../manifests/crds/anomalyaction.yaml", import.meta.url), "utf8"),
) as KubeObject;

/** When the first container of these pods was OOM-killed (epoch ms), from the kubelet's status. */
function firstOomKill(pods: KubeObject[]): number | undefined {
  const times = pods.flatMap((p) =>
    (
      (p.status as { containerStatuses?: { state?: unknown; lastState?: unknown }[] } | undefined)
        ?.containerStatuses ?? []
    ).flatMap((c) =>
      [c.state, c.lastState]
        .map((s) => (s as { terminated?: { reason?: string; finishedAt?: string } } | undefined)?.terminated)
        .filter((t) => t?.reason === "OOMKilled")
        .map((t) => Date.parse(t!.finishedAt ?? "")),
    ),
  );
  const ok = times.filter(Number.isFinite);
  return ok.length ? Math.min(...ok) : undefined;
}

/** One seeded run; `store` may be shared (each run uses its own cluster name). */
export async function runLeak(
  seed: number,
  store: Store,
  opts: { healthyMinutes?: [number, number] } = {},
): Promise<LeakRun> {
  const rand = seededRandom(1000 + seed);
  const target = leakTargets[Math.floor(rand() * leakTargets.length)]!;
  const mibPerMinute = Math.round(8 + rand() * 88);
  const [lo, hi] = opts.healthyMinutes ?? [10, 45];
  const healthyMinutes = Math.round(lo + rand() * (hi - lo));
  const [namespace, workload] = target.split("/") as [string, string];
  const sb = await startSandbox({ seed, flowLog: false });
  try {
    const kube = await kubeClusterPort({ kubeconfig: sb.kubeconfigPath });
    const deps: Deps = {
      ...testDeps(store, sb.clock as unknown as SimulatedClock),
      cluster: `leak-${seed}`,
      kube,
      metrics: prometheusMetrics({ url: sb.prometheusUrl }),
    };
    await kube.create!("CustomResourceDefinition", undefined, crd);
    await kube.create!("AnomalyAction", namespace, {
      apiVersion: "aiops.prophet.io/v1alpha1",
      kind: "AnomalyAction",
      metadata: { name: "memory", namespace },
      spec: {
        source: "prometheus",
        metric: `container_memory_working_set_bytes{namespace="${namespace}",container!=""}`,
        threshold: "anomaly",
        remediation: "restart_pod",
        requireApproval: true,
      },
    });
    const events: ProphetEvent[] = [];
    const minute = async () => {
      for (let i = 0; i < 4; i++) sb.clock.advance(15_000);
      events.push(...(await anomalyTrigger.handle(scheduleTick("anomaly-trigger", sb.clock.now()), deps)));
    };
    for (let m = 0; m < healthyMinutes; m++) await minute();
    const injected = sb.clock.now().getTime();
    sb.inject({ kind: "memory-leak", target, params: { bytesPerMinute: mibPerMinute * 2 ** 20 } });
    let oomAt: number | undefined;
    for (let m = 0; m < 60 && oomAt === undefined; m++) {
      await minute();
      oomAt = firstOomKill(await kube.list("Pod", namespace));
    }
    const detections = events
      .filter((e) => e.type === "io.prophet.anomaly.detected")
      .map((e) => e.data as AnomalyDetectedData);
    const onTarget = detections.filter(
      (d) => d.target.workload?.name === workload && Date.parse(d.at) >= injected,
    );
    const first = onTarget.sort((a, b) => Date.parse(a.at) - Date.parse(b.at))[0];
    const firstAt = first ? Date.parse(first.at) : undefined;
    const before = firstAt !== undefined && (oomAt === undefined || firstAt <= oomAt) ? firstAt : undefined;
    const status = (await kube.get("AnomalyAction", namespace, "memory"))?.status as
      Record<string, unknown> | undefined;
    return {
      seed,
      target,
      mibPerMinute,
      healthyMinutes,
      detectedAfter: before !== undefined ? (before - injected) / 1000 : undefined,
      oomAfter: oomAt !== undefined ? (oomAt - injected) / 1000 : undefined,
      leadSeconds: before !== undefined && oomAt !== undefined ? (oomAt - before) / 1000 : undefined,
      component: first?.detector.component,
      falsePositives: detections
        .filter((d) => d.target.workload?.name !== workload || Date.parse(d.at) < injected)
        .map((d) => `${d.target.pod ?? d.series.key} at ${d.at}`),
      status,
    };
  } finally {
    await sb.close();
  }
}

export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  return s[lo]! + (pos - lo) * ((s[Math.min(lo + 1, s.length - 1)] ?? s[lo]!) - s[lo]!);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { runs: { type: "string", default: "30" }, "first-seed": { type: "string", default: "1" } },
  });
  const runs = Number(values.runs);
  const first = Number(values["first-seed"]);
  const { store, cleanup } = await freshPgliteStore();
  const results: LeakRun[] = [];
  const started = Date.now();
  for (let seed = first; seed < first + runs; seed++) {
    const r = await runLeak(seed, store);
    results.push(r);
    console.log(
      `seed ${String(seed).padStart(3)}  ${r.target.padEnd(18)} ${String(r.mibPerMinute).padStart(3)} MiB/min after ${String(r.healthyMinutes).padStart(2)} min healthy: ` +
        (r.detectedAfter !== undefined
          ? `detected +${r.detectedAfter}s (${r.component}), OOM +${r.oomAfter ?? "?"}s, lead ${r.leadSeconds ?? "?"}s`
          : `MISSED (OOM +${r.oomAfter ?? "?"}s)`) +
        (r.falsePositives.length ? `  false positives: ${r.falsePositives.join(", ")}` : ""),
    );
  }
  await cleanup();
  const hits = results.filter((r) => r.leadSeconds !== undefined);
  const leads = hits.map((r) => r.leadSeconds!);
  const lead = (x: number) => `${Math.round(x)} s (${(x / 60).toFixed(1)} min)`;
  console.log(
    `\n${results.length} runs in ${((Date.now() - started) / 1000).toFixed(1)} s: detected before the OOM kill in ${hits.length}/${results.length} (${((100 * hits.length) / results.length).toFixed(0)} %)`,
  );
  console.log(
    `lead time: median ${lead(quantile(leads, 0.5))}, p10 ${lead(quantile(leads, 0.1))}, min ${lead(Math.min(...leads))}`,
  );
  console.log(
    `lead as a share of the time to OOM: median ${(
      100 *
      quantile(
        hits.map((r) => r.leadSeconds! / r.oomAfter!),
        0.5,
      )
    ).toFixed(0)} %`,
  );
  console.log(
    `false positives (other workloads, or before the leak): ${results.reduce((n, r) => n + r.falsePositives.length, 0)}`,
  );
  const by = new Map<string, number>();
  for (const r of hits) by.set(r.component!, (by.get(r.component!) ?? 0) + 1);
  console.log(`first detection by: ${[...by].map(([c, n]) => `${c} ${n}`).join(", ")}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
