// collect_diagnostics: gather what a person would look at first — a describe of the target and
// its pods, their events, and the tail of each container's log (and of the previous, crashed
// instance) — into bounded artifacts stored with the remediation. Changes nothing.
import { z } from "zod";
import type { ContainerStatus, KubeObject, PodSpec, PodStatus } from "../../diagnosis/objects.js";
import { defineAction } from "../action.js";
import {
  checkObservable,
  ArtifactBudget,
  artifactBudgetBytes,
  byTrouble,
  describe,
  eventLine,
  eventsAbout,
  podsOf,
} from "./observation.js";

const params = z.strictObject({
  tailLines: z.number().int().min(1).max(500).default(100).describe("log lines per container (from the end)"),
  maxPods: z
    .number()
    .int()
    .min(1)
    .max(10)
    .default(5)
    .describe("at most this many pods, unhealthy ones first"),
});

type Params = z.infer<typeof params>;

const targetKinds = ["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "Service", "Node"];

export const collectDiagnostics = defineAction<Params>({
  name: "collect_diagnostics",
  description: `Read-only: stores a describe of the target and its pods (unhealthy first), their events, and the last lines of every container's log, including the previous instance of restarted containers, as artifacts of at most ${artifactBudgetBytes / 1024} KiB in total. Secret data is never included.`,
  whenToUse:
    "Before or instead of a change when the cause is unclear, or to attach evidence for a human to an approval or an escalation.",
  whenNotToUse:
    "When the evidence is already in the finding and a clear remediation exists (run it); for history of changes (use audit_logs).",
  targetKinds,
  scope: "observe",
  requiresApproval: false,
  readOnly: true,
  params,
  check: (ctx, t) => checkObservable(ctx, t, "collect_diagnostics", targetKinds),
  async execute(ctx, t, p) {
    const obj = await ctx.cluster.get(t.kind, t.namespace || undefined, t.name);
    if (!obj) throw new Error(`${t.kind} ${t.namespace}/${t.name} not found`);
    const allPods = byTrouble(await podsOf(ctx, t, obj));
    const pods = allPods.slice(0, p.maxPods);
    const budget = new ArtifactBudget();
    const described = [obj, ...(t.kind === "Pod" ? [] : pods)].map(describe);
    if (allPods.length > pods.length)
      described.push(`(${allPods.length - pods.length} more pod(s) not shown)`);
    budget.add("describe.txt", described.join("\n\n"));
    const events = await eventsAbout(ctx, t.kind === "Pod" ? [obj] : [obj, ...pods]);
    budget.add("events.txt", events.map(eventLine).join("\n") || "no events");
    for (const pod of pods) if (!(await addLogs(ctx, budget, pod, p.tailLines))) break;
    const bytes = budget.used;
    return {
      changes: [
        `collected ${budget.artifacts.length} artifact(s), ${bytes} bytes, for ${t.kind} ${t.namespace ? `${t.namespace}/` : ""}${t.name}${budget.truncated ? " (truncated at the size limit)" : ""}`,
      ],
      artifacts: budget.artifacts,
    };
  },
  async verify(_ctx, _t, _p, result) {
    const n = result.artifacts?.length ?? 0;
    return n > 0
      ? { ok: true, detail: `${n} artifact(s) collected` }
      : { ok: false, detail: "nothing was collected" };
  },
});

async function addLogs(
  ctx: Parameters<typeof collectDiagnostics.execute>[0],
  budget: ArtifactBudget,
  pod: KubeObject,
  tailLines: number,
) {
  const ns = pod.metadata.namespace ?? "";
  const statuses = new Map<string, ContainerStatus>(
    (((pod.status ?? {}) as PodStatus).containerStatuses ?? []).map((c) => [c.name, c]),
  );
  for (const c of ((pod.spec ?? {}) as PodSpec).containers ?? []) {
    const base = `logs/${pod.metadata.name}/${c.name}`;
    const current = await ctx.cluster.podLogs(ns, pod.metadata.name, c.name, { tailLines });
    if (current && !budget.add(`${base}.log`, current)) return false;
    if ((statuses.get(c.name)?.restartCount ?? 0) > 0) {
      const previous = await ctx.cluster.podLogs(ns, pod.metadata.name, c.name, {
        tailLines,
        previous: true,
      });
      if (previous && !budget.add(`${base}.previous.log`, previous)) return false;
    }
  }
  return true;
}
