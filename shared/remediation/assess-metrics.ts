// The metric part of an assessment: did the signal that matters for the target improve between
// the window before the action and the window after it?
//   workloads: container restarts of its pods (fewer after → better)
//   PersistentVolumeClaims: the free fraction of the volume (more after → better)
//   Pods: restarts of that pod
// A signal that was quiet before and after says nothing, so the part is not assessed (null) and
// its weight goes to the others, as it does without a metrics port.
import type { MetricsPort } from "../ports/metrics.js";
import type { Remediation } from "./store.js";

export interface MetricOutcome {
  value: number | null;
  note: string;
}

const quote = (s: string) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"');

function restartsQuery(rem: Remediation, windowSeconds: number): string | undefined {
  const t = rem.target!;
  const ns = quote(t.namespace);
  if (["Deployment", "StatefulSet", "DaemonSet"].includes(t.kind))
    return `sum(increase(kube_pod_container_status_restarts_total{namespace="${ns}", pod=~"${quote(t.name)}-.*"}[${windowSeconds}s]))`;
  if (t.kind === "Pod")
    return `sum(increase(kube_pod_container_status_restarts_total{namespace="${ns}", pod="${quote(t.name)}"}[${windowSeconds}s]))`;
  return undefined;
}

async function scalar(metrics: MetricsPort, promql: string, at: Date): Promise<number | undefined> {
  const [first] = await metrics.instant(promql, at);
  return first && Number.isFinite(first.value) ? first.value : undefined;
}

export async function metricImprovement(
  metrics: MetricsPort,
  rem: Remediation,
  now: Date,
): Promise<MetricOutcome> {
  const t = rem.target;
  const at = rem.executedAt;
  if (!t || !at) return { value: null, note: "no target to measure" };
  const window = Math.max(60, Math.round((now.getTime() - at.getTime()) / 1000));
  try {
    if (t.kind === "PersistentVolumeClaim") {
      const q = `min(kubelet_volume_stats_available_bytes{namespace="${quote(t.namespace)}", persistentvolumeclaim="${quote(t.name)}"} / kubelet_volume_stats_capacity_bytes{namespace="${quote(t.namespace)}", persistentvolumeclaim="${quote(t.name)}"})`;
      const before = await scalar(metrics, q, at);
      const after = await scalar(metrics, q, now);
      if (before === undefined || after === undefined) return { value: null, note: "no volume stats" };
      return {
        value: after > before ? 1 : 0,
        note: `free ${(before * 100).toFixed(0)} % → ${(after * 100).toFixed(0)} %`,
      };
    }
    const q = restartsQuery(rem, window);
    if (!q) return { value: null, note: `no metric for ${t.kind}` };
    const before = await scalar(metrics, q, at);
    const after = await scalar(metrics, q, now);
    if (before === undefined || after === undefined) return { value: null, note: "no restart metrics" };
    if (before < 0.5 && after < 0.5) return { value: null, note: "no restarts before or after" };
    const value = after < 0.5 || after <= before * 0.5 ? 1 : after < before ? 0.5 : 0;
    return { value, note: `restarts in ${window} s: ${before.toFixed(0)} before, ${after.toFixed(0)} after` };
  } catch (err) {
    return { value: null, note: `metrics not read: ${(err as Error).message}` };
  }
}
