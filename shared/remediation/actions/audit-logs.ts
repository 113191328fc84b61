/*
 * audit_logs: what changed on a target, when, and by whom as far as the cluster records it.
 * The API server's audit log is not reachable through the cluster port and managedFields are
 * stripped, so the audit trail is rebuilt from what objects keep:
 *  - revisions: a Deployment's ReplicaSets (deployment.kubernetes.io/revision, change-cause,
 *    images), a StatefulSet's or DaemonSet's ControllerRevisions;
 *  - change annotations on the target: Prophet's aiops.prophet.io/* remediation annotations,
 *    kubernetes.io/change-cause, kubectl.kubernetes.io/restartedAt, generation vs observed;
 *  - Events about the target, its ReplicaSets and its pods (scaling, rollouts, evictions, kills).
 * All of it as one timeline, oldest first, within sinceMinutes, in one bounded artifact.
 */
import { z } from "zod";
import type { KubeObject, PodSpec } from "../../diagnosis/objects.js";
import { defineAction, type ActionContext } from "../action.js";
import {
  ArtifactBudget,
  byTrouble,
  checkObservable,
  eventLine,
  eventsAbout,
  eventTime,
  podsOf,
} from "./observation.js";

const params = z.strictObject({
  sinceMinutes: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60)
    .default(24 * 60)
    .describe("how far back the timeline goes (default one day)"),
});

type Params = z.infer<typeof params>;

const targetKinds = ["Deployment", "StatefulSet", "DaemonSet", "Pod", "Node", "Job", "CronJob", "Service"];

const changeAnnotations = [
  "kubernetes.io/change-cause",
  "deployment.kubernetes.io/revision",
  "kubectl.kubernetes.io/restartedAt",
];

interface Entry {
  at: string;
  text: string;
}

function images(spec: PodSpec | undefined): string {
  return (spec?.containers ?? []).map((c) => `${c.name}=${c.image ?? "?"}`).join(" ");
}

const ownedBy = (o: KubeObject, owner: KubeObject) =>
  o.metadata.ownerReferences?.some(
    (r) => r.uid === owner.metadata.uid || (r.kind === owner.kind && r.name === owner.metadata.name),
  );

/** Revisions as timeline entries, plus the objects whose events belong to the target. */
async function revisions(
  ctx: ActionContext,
  obj: KubeObject,
): Promise<{ entries: Entry[]; related: KubeObject[] }> {
  const ns = obj.metadata.namespace;
  if (obj.kind === "Deployment") {
    const rss = (await ctx.cluster.list("ReplicaSet", ns)).filter((rs) => ownedBy(rs, obj));
    const entries = rss.map((rs) => {
      const a = rs.metadata.annotations ?? {};
      const spec = rs.spec as { replicas?: number; template?: { spec?: PodSpec } } | undefined;
      const cause = a["kubernetes.io/change-cause"] ? ` cause: ${a["kubernetes.io/change-cause"]}` : "";
      return {
        at: rs.metadata.creationTimestamp ?? "",
        text: `revision ${a["deployment.kubernetes.io/revision"] ?? "?"} ReplicaSet/${rs.metadata.name} created (replicas now ${spec?.replicas ?? 0}) ${images(spec?.template?.spec)}${cause}`,
      };
    });
    return { entries, related: rss };
  }
  if (obj.kind === "StatefulSet" || obj.kind === "DaemonSet") {
    const crs = (await ctx.cluster.list("ControllerRevision", ns)).filter((cr) => ownedBy(cr, obj));
    const entries = crs.map((cr) => {
      const data = (cr as { data?: { spec?: { template?: { spec?: PodSpec } } } }).data;
      return {
        at: cr.metadata.creationTimestamp ?? "",
        text: `revision ${String((cr as { revision?: number }).revision ?? "?")} ControllerRevision/${cr.metadata.name} created ${images(data?.spec?.template?.spec)}`,
      };
    });
    return { entries, related: [] };
  }
  return { entries: [], related: [] };
}

function annotationLines(obj: KubeObject): string[] {
  const own = obj.metadata.annotations ?? {};
  const tpl =
    (obj.spec as { template?: { metadata?: { annotations?: Record<string, string> } } } | undefined)?.template
      ?.metadata?.annotations ?? {};
  const lines: string[] = [];
  for (const [k, v] of Object.entries(own))
    if (k.startsWith("aiops.prophet.io/") || changeAnnotations.includes(k)) lines.push(`  ${k}=${v}`);
  for (const [k, v] of Object.entries(tpl))
    if (changeAnnotations.includes(k)) lines.push(`  template ${k}=${v}`);
  const generation = (obj.metadata as { generation?: number }).generation;
  const observed = (obj.status as { observedGeneration?: number } | undefined)?.observedGeneration;
  if (generation !== undefined)
    lines.push(`  generation ${generation}${observed !== undefined ? `, observed ${observed}` : ""}`);
  return lines;
}

export const auditLogs = defineAction<Params>({
  name: "audit_logs",
  description:
    "Read-only: rebuilds the recent change history of the target as one timeline artifact — its revisions (Deployment ReplicaSets with images and change-cause, StatefulSet/DaemonSet ControllerRevisions), change annotations (Prophet's remediation annotations, restartedAt, change-cause) and the Events about it, its ReplicaSets and its pods — within sinceMinutes, at most 64 KiB.",
  whenToUse:
    "To find what changed before a problem started (a rollout, a scale, a restart, a remediation), e.g. to decide between a rollback and another fix, or to attach the history to an approval.",
  whenNotToUse:
    "For the current state, logs and events of failing pods (use collect_diagnostics); for API-level audit (who called the API server) — the cluster's audit log is outside Prophet's reach.",
  targetKinds,
  scope: "observe",
  requiresApproval: false,
  readOnly: true,
  params,
  check: (ctx, t) => checkObservable(ctx, t, "audit_logs", targetKinds),
  async execute(ctx, t, p) {
    const obj = await ctx.cluster.get(t.kind, t.namespace || undefined, t.name);
    if (!obj) throw new Error(`${t.kind} ${t.namespace}/${t.name} not found`);
    const since = new Date(ctx.clock.now().getTime() - p.sinceMinutes * 60_000).toISOString();
    const { entries, related } = await revisions(ctx, obj);
    const pods = t.kind === "Pod" ? [] : byTrouble(await podsOf(ctx, t, obj)).slice(0, 10);
    const events = await eventsAbout(ctx, [obj, ...related, ...pods]);
    const timeline = [
      ...entries,
      ...events.map((e) => ({ at: eventTime(e), text: eventLine(e).slice(eventTime(e).length + 1) })),
    ]
      .filter((e) => e.at >= since)
      .sort((a, b) => a.at.localeCompare(b.at));
    const name = `${t.kind} ${t.namespace ? `${t.namespace}/` : ""}${t.name}`;
    const text = [
      `Audit of ${name} since ${since}`,
      "Change annotations:",
      ...(annotationLines(obj).length ? annotationLines(obj) : ["  <none>"]),
      `Timeline (${timeline.length} entries):`,
      ...timeline.map((e) => `${e.at} ${e.text}`),
    ].join("\n");
    const budget = new ArtifactBudget();
    budget.add("audit.txt", text);
    return {
      changes: [
        `audited ${name}: ${timeline.length} timeline entries${budget.truncated ? " (truncated at the size limit)" : ""}`,
      ],
      artifacts: budget.artifacts,
    };
  },
  async verify(_ctx, _t, _p, result) {
    return result.artifacts?.some((a) => a.name === "audit.txt")
      ? { ok: true, detail: "audit timeline collected" }
      : { ok: false, detail: "no audit timeline was collected" };
  },
});
