// rotate_secrets: point a workload at the next version of a Secret and thereby roll it out.
// Prophet never invents secret values: the operator (or a secrets manager) creates the next
// version as a Secret labelled aiops.prophet.io/rotates=<old name>; the newest such Secret is used.
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
  describeTarget,
  readTarget,
  rec,
  rolloutStatus,
  targetMissing,
  workloadKinds,
} from "./workload-helpers.js";

export const ROTATES = "aiops.prophet.io/rotates";

const params = z.strictObject({
  secret: z
    .string()
    .min(1)
    .describe(
      "name of the Secret the workload references now (env secretKeyRef, envFrom secretRef or a secret volume)",
    ),
});

type Params = z.infer<typeof params>;

type Obj = Record<string, unknown>;

/** The pod spec with every reference to Secret `from` renamed to `to`, and how many there were. */
function repoint(podSpec: Obj, from: string, to: string): { spec: Obj; count: number } {
  let count = 0;
  const rename = (ref: unknown, key: "name" | "secretName"): unknown => {
    const r = rec(ref);
    if (r[key] !== from) return ref;
    count++;
    return { ...r, [key]: to };
  };
  const container = (c: Obj): Obj => ({
    ...c,
    ...(Array.isArray(c.env)
      ? {
          env: c.env.map((e: Obj) =>
            rec(e.valueFrom).secretKeyRef
              ? {
                  ...e,
                  valueFrom: {
                    ...rec(e.valueFrom),
                    secretKeyRef: rename(rec(e.valueFrom).secretKeyRef, "name"),
                  },
                }
              : e,
          ),
        }
      : {}),
    ...(Array.isArray(c.envFrom)
      ? {
          envFrom: c.envFrom.map((e: Obj) =>
            e.secretRef ? { ...e, secretRef: rename(e.secretRef, "name") } : e,
          ),
        }
      : {}),
  });
  const spec: Obj = { ...podSpec };
  for (const key of ["containers", "initContainers"])
    if (Array.isArray(podSpec[key])) spec[key] = (podSpec[key] as Obj[]).map(container);
  if (Array.isArray(podSpec.volumes))
    spec.volumes = (podSpec.volumes as Obj[]).map((v) =>
      v.secret ? { ...v, secret: rename(v.secret, "secretName") } : v,
    );
  return { spec, count };
}

const podSpecOf = (obj: KubeObject) => rec(rec(rec(obj.spec).template).spec);

/** The newest Secret labelled as the next version of `name`. */
async function nextVersion(
  ctx: ActionContext,
  namespace: string,
  name: string,
): Promise<KubeObject | undefined> {
  const secrets = await ctx.cluster.list("Secret", namespace);
  return secrets
    .filter((s) => s.metadata.labels?.[ROTATES] === name && s.metadata.name !== name)
    .sort((a, b) =>
      String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)),
    )[0];
}

async function plan(
  ctx: ActionContext,
  t: ActionTarget,
  p: Params,
): Promise<{ obj: KubeObject; next: string; count: number } | CheckResult> {
  const obj = await readTarget(ctx, t);
  if (!obj) return targetMissing(t);
  const { count } = repoint(podSpecOf(obj), p.secret, p.secret);
  if (!count)
    return {
      ok: false,
      failure: "precondition",
      detail: `${describeTarget(t)} does not reference Secret ${p.secret}`,
    };
  const next = await nextVersion(ctx, t.namespace, p.secret);
  if (!next)
    return {
      ok: false,
      failure: "precondition",
      detail: `no new version of Secret ${t.namespace}/${p.secret}: create one labelled ${ROTATES}=${p.secret} first`,
    };
  return { obj, next: next.metadata.name, count };
}

async function writeSpec(ctx: ActionContext, t: ActionTarget, from: string, to: string, annotate: boolean) {
  if (annotate)
    await ctx.cluster.patch!(t.kind, t.namespace, t.name, {
      metadata: { annotations: remediationAnnotations(ctx, "rotate_secrets") },
    });
  const cur = await ctx.cluster.get(t.kind, t.namespace, t.name);
  if (!cur) throw new Error(`${describeTarget(t)} not found`);
  const { spec } = repoint(podSpecOf(cur), from, to);
  // The pod spec is replaced whole, guarded by resourceVersion so a concurrent edit is not lost.
  return ctx.cluster.patch!(
    t.kind,
    t.namespace,
    t.name,
    [
      {
        op: "test",
        path: "/metadata/resourceVersion",
        value: (cur.metadata as { resourceVersion?: string }).resourceVersion,
      },
      { op: "replace", path: "/spec/template/spec", value: spec },
    ],
    { type: "json" },
  );
}

export const rotateSecrets = defineAction<Params>({
  name: "rotate_secrets",
  description: `Repoints a workload from a Secret to its operator-provided next version (the newest Secret labelled ${ROTATES}=<name>) and rolls it out; Prophet never generates secret values.`,
  whenToUse:
    "A credential was leaked or expired (auth failures after a rotation upstream) and the next version already exists as a labelled Secret.",
  whenNotToUse:
    "No labelled next version exists (refused: create it first); Secrets mounted by many workloads that must switch together; rotating the upstream credential itself.",
  targetKinds: workloadKinds,
  scope: "workload",
  requiresApproval: true,
  readOnly: false,
  params,
  async check(ctx, t, p) {
    const r = await plan(ctx, t, p);
    if (!("next" in r)) return r;
    return (
      cannotWrite(ctx, "patch") ?? { ok: true, detail: `${r.count} reference(s) ${p.secret} → ${r.next}` }
    );
  },
  async execute(ctx, t, p) {
    const r = await plan(ctx, t, p);
    if (!("next" in r)) throw new Error(r.ok ? "nothing to rotate" : r.detail);
    const after = await writeSpec(ctx, t, p.secret, r.next, true);
    return {
      changes: [
        `${describeTarget(t)}: ${r.count} reference(s) to Secret ${p.secret} now point to ${r.next} (rolling update)`,
      ],
      specHashBefore: specHash(r.obj),
      specHashAfter: specHash(after),
      undo: { from: p.secret, to: r.next },
    };
  },
  async verify(ctx, t, _p, result) {
    const obj = await readTarget(ctx, t);
    if (!obj) return { ok: false, detail: `${describeTarget(t)} is gone` };
    const u = result.undo as { from: string; to: string };
    const spec = podSpecOf(obj);
    if (repoint(spec, u.from, u.from).count)
      return { ok: false, detail: `the pod template still references ${u.from}` };
    if (!repoint(spec, u.to, u.to).count)
      return { ok: false, detail: `the pod template does not reference ${u.to}` };
    const rollout = rolloutStatus(obj);
    return { ok: rollout.ok, detail: `references ${u.to}; ${rollout.detail}` };
  },
  async undo(ctx, t, result) {
    const u = result.undo as { from: string; to: string };
    await writeSpec(ctx, t, u.to, u.from, false);
    return { changes: [`${describeTarget(t)} points to Secret ${u.from} again`] };
  },
});
