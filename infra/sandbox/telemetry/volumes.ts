// Kubelet volume stats (job="kubelet", metrics_path="/metrics"): for each bound PersistentVolumeClaim
// mounted by a running pod, capacity, used and available bytes. Usage sits at a stable per-claim
// share of the capacity; the pvc-filling fault grows it toward the capacity.
import type { KubeObject } from "../apiserver/types.js";
import { arr, rec, type SimContext } from "../controllers/context.js";
import { parseQuantity } from "../controllers/quantity.js";
import type { MetricType } from "../metrics/index.js";
import type { SampleSink } from "./series-writer.js";

export const volumeMetadata: Record<string, readonly [MetricType, string]> = {
  kubelet_volume_stats_capacity_bytes: ["gauge", "[ALPHA] Capacity in bytes of the volume"],
  kubelet_volume_stats_used_bytes: ["gauge", "[ALPHA] Number of used bytes in the volume"],
  kubelet_volume_stats_available_bytes: ["gauge", "[ALPHA] Number of available bytes in the volume"],
};

/** Bytes used on a claim now: its baseline share plus what a pvc-filling fault wrote, capped at capacity. */
export function volumeUsedBytes(ctx: SimContext, claim: KubeObject, capacity: number): number {
  const key = `${claim.metadata.namespace}/${claim.metadata.name}`;
  const uid = claim.metadata.uid ?? key;
  let h = 0;
  for (let i = 0; i < uid.length; i++) h = (h * 31 + uid.charCodeAt(i)) >>> 0;
  const base = capacity * (0.15 + (h % 25) / 100);
  const growth = ctx.volumeGrowth.get(key);
  const grown = growth ? (growth.bytesPerMinute * Math.max(0, ctx.nowMs - growth.since)) / 60_000 : 0;
  return Math.round(Math.min(capacity, base + grown));
}

export function claimCapacity(claim: KubeObject): number {
  const status = rec(rec(claim.status).capacity).storage;
  return parseQuantity(status ?? rec(rec(rec(claim.spec).resources).requests).storage ?? "1Gi");
}

export function writeVolumes(w: SampleSink, ctx: SimContext, pods: KubeObject[]): void {
  const seen = new Set<string>();
  for (const pod of pods) {
    if (rec(pod.status).phase !== "Running") continue;
    const ns = pod.metadata.namespace ?? "";
    const node = String(rec(pod.spec).nodeName ?? "");
    for (const v of arr(rec(pod.spec).volumes)) {
      const name = rec(v.persistentVolumeClaim).claimName;
      if (typeof name !== "string" || seen.has(`${ns}/${name}`)) continue;
      seen.add(`${ns}/${name}`);
      const claim = ctx.store.get(ctx.rt.pvcs, ns, name);
      if (!claim || rec(claim.status).phase !== "Bound") continue;
      const capacity = claimCapacity(claim);
      const used = volumeUsedBytes(ctx, claim, capacity);
      const labels = {
        job: "kubelet",
        metrics_path: "/metrics",
        namespace: ns,
        persistentvolumeclaim: name,
        node,
      };
      const values: [string, number][] = [
        ["kubelet_volume_stats_capacity_bytes", capacity],
        ["kubelet_volume_stats_used_bytes", used],
        ["kubelet_volume_stats_available_bytes", capacity - used],
      ];
      for (const [metric, value] of values)
        w.write(`pvc|${ns}/${name}|${metric}`, () => ({ __name__: metric, ...labels }), value);
    }
  }
}
