// rollback_deployment: `kubectl rollout undo` — copy an older ReplicaSet's pod template back into
// the Deployment. Which revision: `toRevision` when given; otherwise the newest revision older than
// the current one whose ReplicaSet still has available pods (the last version known to serve), and
// when no older ReplicaSet has any, simply the previous revision (what kubectl picks).
import { z } from "zod";
import type { KubeObject } from "../../diagnosis/objects.js";
import {
  defineAction,
  remediationAnnotations,
  specHash,
  type ActionContext,
  type ActionTarget,
  type CheckResult,
} from "../action.js";
import {
  cannotWrite,
  containersOf,
  rec,
  rolloutStatus,
  targetMissing,
  templateOf,
} from "./workload-helpers.js";

const REVISION = "deployment.kubernetes.io/revision";
const HASH = "pod-template-hash";

const params = z.strictObject({
  toRevision: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe(
      "revision to return to (deployment.kubernetes.io/revision); default: the last healthy older one",
    ),
});

type Params = z.infer<typeof params>;

interface Choice {
  deployment: KubeObject;
  current: number;
  revision: number;
  replicaSet: string;
  template: Record<string, unknown>;
  why: string;
}

const revisionOf = (o: KubeObject) => Number(o.metadata.annotations?.[REVISION] ?? 0);

/** The template as the Deployment holds it: the ReplicaSet's, without the pod-template-hash label. */
function plainTemplate(rs: KubeObject): Record<string, unknown> {
  const t = structuredClone(rec(rec(rs.spec).template));
  const meta = rec(t.metadata);
  const labels = { ...(rec(meta.labels) as Record<string, string>) };
  delete labels[HASH];
  return { ...t, metadata: { ...meta, labels } };
}

const images = (template: unknown) =>
  ((rec(rec(template).spec).containers ?? []) as { image?: string }[]).map((c) => c.image).join(", ");

async function choose(ctx: ActionContext, t: ActionTarget, p: Params): Promise<Choice | CheckResult> {
  const d = await ctx.cluster.get("Deployment", t.namespace, t.name);
  if (!d) return targetMissing(t);
  const name = `Deployment ${t.namespace}/${t.name}`;
  const current = revisionOf(d);
  const sets = (await ctx.cluster.list("ReplicaSet", t.namespace))
    .filter((rs) => rs.metadata.ownerReferences?.some((o) => o.controller && o.uid === d.metadata.uid))
    .sort((a, b) => revisionOf(b) - revisionOf(a));
  const older = sets.filter((rs) => revisionOf(rs) !== current);
  let pick: KubeObject | undefined;
  let why: string;
  if (p.toRevision !== undefined) {
    if (p.toRevision === current)
      return { ok: false, failure: "precondition", detail: `${name} already runs revision ${current}` };
    pick = older.find((rs) => revisionOf(rs) === p.toRevision);
    why = "requested";
    if (!pick)
      return {
        ok: false,
        failure: "precondition",
        detail: `${name} has no revision ${p.toRevision} (known: ${sets.map(revisionOf).join(", ") || "none"})`,
      };
  } else {
    const previous = older.filter((rs) => revisionOf(rs) < current);
    const available = (rs: KubeObject) => Number(rec(rs.status).availableReplicas ?? 0) > 0;
    pick = previous.find(available);
    why = "newest older revision with available pods";
    if (!pick) {
      pick = previous[0];
      why = "previous revision";
    }
    if (!pick)
      return {
        ok: false,
        failure: "precondition",
        detail: `${name} has no revision older than ${current} to roll back to`,
      };
  }
  const template = plainTemplate(pick);
  if (JSON.stringify(template) === JSON.stringify(templateOf(d)))
    return {
      ok: false,
      failure: "precondition",
      detail: `${name}: revision ${revisionOf(pick)} has the current template`,
    };
  return {
    deployment: d,
    current,
    revision: revisionOf(pick),
    replicaSet: pick.metadata.name,
    template,
    why,
  };
}

const isChoice = (v: Choice | CheckResult): v is Choice => "template" in v;

async function replaceTemplate(ctx: ActionContext, t: ActionTarget, template: unknown, annotate: boolean) {
  if (annotate)
    await ctx.cluster.patch!("Deployment", t.namespace, t.name, {
      metadata: { annotations: remediationAnnotations(ctx, "rollback_deployment") },
    });
  // A JSON patch replaces the template whole: a merge would keep annotations and fields of the bad one.
  return ctx.cluster.patch!(
    "Deployment",
    t.namespace,
    t.name,
    [{ op: "replace", path: "/spec/template", value: template }],
    {
      type: "json",
    },
  );
}

export const rollbackDeployment = defineAction<Params>({
  name: "rollback_deployment",
  description:
    "Rolls a Deployment back to an earlier revision's pod template (kubectl rollout undo): by default the newest older revision that still has available pods, else the previous one.",
  whenToUse:
    "A rollout that broke things: ImagePullBackOff/ErrImagePull on the new image, crash loops, failing probes or errors that started with the latest revision.",
  whenNotToUse:
    "Failures unrelated to the last change (node, dependency, capacity problems); a Deployment with a single revision (refused); data migrations the old version cannot read.",
  targetKinds: ["Deployment"],
  scope: "workload",
  requiresApproval: false,
  readOnly: false,
  params,
  async check(ctx, t, p) {
    const c = await choose(ctx, t, p);
    if (!isChoice(c)) return c;
    return (
      cannotWrite(ctx, "patch") ?? {
        ok: true,
        detail: `revision ${c.current} → ${c.revision} (${c.why}; image ${images(c.template)})`,
      }
    );
  },
  async execute(ctx, t, p) {
    const c = await choose(ctx, t, p);
    if (!isChoice(c)) throw new Error(c.ok ? "nothing to roll back" : c.detail);
    const replaced = templateOf(c.deployment);
    const after = await replaceTemplate(ctx, t, c.template, true);
    return {
      changes: [
        `Deployment ${t.namespace}/${t.name} rolled back from revision ${c.current} (${images(replaced)}) to revision ${c.revision} of ReplicaSet ${c.replicaSet} (${images(c.template)}; ${c.why})`,
      ],
      specHashBefore: specHash(c.deployment),
      specHashAfter: specHash(after),
      undo: { template: replaced, fromRevision: c.current, toRevision: c.revision, target: c.template },
    };
  },
  async verify(ctx, t, _p, result) {
    const d = await ctx.cluster.get("Deployment", t.namespace, t.name);
    if (!d) return { ok: false, detail: "the Deployment is gone" };
    const want = images(result.undo?.target);
    const have = containersOf(d)
      .map((c) => c.image)
      .join(", ");
    if (have !== want) return { ok: false, detail: `the Deployment runs ${have}, expected ${want}` };
    const rollout = rolloutStatus(d);
    return { ok: rollout.ok, detail: `image ${have}; ${rollout.detail}` };
  },
  async undo(ctx, t, result) {
    const template = result.undo?.template;
    if (!template) throw new Error("no replaced template recorded");
    await replaceTemplate(ctx, t, template, false);
    return { changes: [`Deployment ${t.namespace}/${t.name} rolled forward again (${images(template)})`] };
  },
});
