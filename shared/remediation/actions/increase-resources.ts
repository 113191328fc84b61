// increase_resources: raise one container's CPU or memory requests and limits (a rolling update).
import { z } from "zod";
import { formatBytes, formatMilliCpu, milliCpu, parseQuantity } from "../../kube/quantity.js";
import type { KubeObject } from "../../diagnosis/objects.js";
import {
  defineAction,
  remediationAnnotations,
  specHash,
  type ActionContext,
  type CheckResult,
} from "../action.js";
import {
  cannotWrite,
  containerMissing,
  describeTarget,
  findContainer,
  readTarget,
  rolloutStatus,
  targetMissing,
  workloadKinds,
} from "./workload-helpers.js";

const quantity = z
  .string()
  .regex(/^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/, "a Kubernetes quantity (500m, 2, 512Mi, 1Gi)");

const params = z.strictObject({
  container: z
    .string()
    .min(1)
    .optional()
    .describe("container name; default: the pod template's first container"),
  resource: z.enum(["memory", "cpu"]).describe("which resource to raise"),
  factor: z
    .number()
    .gt(1)
    .max(10)
    .optional()
    .describe("multiply the current request and limit by this (default 1.5 when no explicit value is given)"),
  request: quantity
    .optional()
    .describe("explicit new request, e.g. 768Mi or 500m (overrides factor for the request)"),
  limit: quantity.optional().describe("explicit new limit, e.g. 1Gi or 1 (overrides factor for the limit)"),
});

type Params = z.infer<typeof params>;

interface Values {
  request: string | null;
  limit: string | null;
}

interface Plan {
  container: string;
  before: Values;
  after: Values;
}

const amount = (resource: Params["resource"], q: string) =>
  resource === "cpu" ? milliCpu(q) : parseQuantity(q);
const format = (resource: Params["resource"], n: number) =>
  resource === "cpu" ? formatMilliCpu(Math.ceil(n)) : formatBytes(Math.ceil(n / 2 ** 20) * 2 ** 20);

/** The new request and limit, or why there are none. */
function plan(ctx: ActionContext, obj: KubeObject, p: Params): Plan | CheckResult {
  const c = findContainer(obj, p.container);
  const t = { kind: obj.kind, namespace: obj.metadata.namespace ?? "", name: obj.metadata.name };
  if (!c) return containerMissing(t, obj, p.container);
  const where = `${describeTarget(t)} container ${c.name}`;
  const before: Values = {
    request: c.resources?.requests?.[p.resource] ?? null,
    limit: c.resources?.limits?.[p.resource] ?? null,
  };
  const explicit = p.request !== undefined || p.limit !== undefined;
  const factor = p.factor ?? (explicit ? undefined : 1.5);
  const next = (given: string | undefined, cur: string | null) =>
    given ??
    (factor !== undefined && cur !== null ? format(p.resource, amount(p.resource, cur) * factor) : cur);
  const after: Values = { request: next(p.request, before.request), limit: next(p.limit, before.limit) };
  if (after.request === before.request && after.limit === before.limit)
    return {
      ok: false,
      failure: "precondition",
      detail: `${where} sets no ${p.resource} request or limit to scale; give request/limit explicitly`,
    };
  const max = p.resource === "cpu" ? ctx.limits.maxCpuMillis : ctx.limits.maxMemoryBytes;
  const maxText = format(p.resource, max);
  for (const key of ["request", "limit"] as const) {
    const a = after[key];
    const b = before[key];
    if (a === null || a === b) continue;
    const n = amount(p.resource, a);
    if (b !== null && n < amount(p.resource, b))
      return {
        ok: false,
        failure: "precondition",
        detail: `${where}: ${p.resource} ${key} ${a} is below the current ${b}`,
      };
    if (b !== null && n > amount(p.resource, b) * ctx.limits.maxResourceFactor)
      return {
        ok: false,
        failure: "blast_radius",
        detail: `${where}: ${p.resource} ${key} ${b} → ${a} is more than ×${ctx.limits.maxResourceFactor} in one step`,
      };
    if (n > max)
      return {
        ok: false,
        failure: "blast_radius",
        detail: `${where}: ${p.resource} ${key} ${a} is above the limit of ${maxText}`,
      };
  }
  if (
    after.request !== null &&
    after.limit !== null &&
    amount(p.resource, after.request) > amount(p.resource, after.limit)
  )
    return {
      ok: false,
      failure: "precondition",
      detail: `${where}: ${p.resource} request ${after.request} would exceed its limit ${after.limit}; raise the limit too`,
    };
  return { container: c.name, before, after };
}

const isPlan = (v: Plan | CheckResult): v is Plan => "container" in v;

const show = (v: Values) => `request ${v.request ?? "unset"}, limit ${v.limit ?? "unset"}`;

/** A strategic merge patch on the container by name; null removes a value. */
function resourcesPatch(resource: string, container: string, v: Values) {
  return {
    spec: {
      template: {
        spec: {
          containers: [
            {
              name: container,
              resources: { requests: { [resource]: v.request }, limits: { [resource]: v.limit } },
            },
          ],
        },
      },
    },
  };
}

export const increaseResources = defineAction<Params>({
  name: "increase_resources",
  description:
    "Raises one container's CPU or memory request and limit (by a factor, default ×1.5, or to explicit values) — a rolling update.",
  whenToUse:
    "OOMKilled containers or memory near its limit (memory); CPU throttling or requests far below usage (cpu).",
  whenNotToUse:
    "A memory leak that will fill any limit (fix or restart instead); pods Pending for lack of node capacity (bigger requests make it worse); load spread better by more replicas.",
  targetKinds: workloadKinds,
  scope: "workload",
  requiresApproval: false,
  readOnly: false,
  params,
  async check(ctx, t, p) {
    const obj = await readTarget(ctx, t);
    if (!obj) return targetMissing(t);
    const r = plan(ctx, obj, p);
    if (!isPlan(r)) return r;
    return (
      cannotWrite(ctx, "patch") ?? {
        ok: true,
        detail: `${r.container} ${p.resource}: ${show(r.before)} → ${show(r.after)}`,
      }
    );
  },
  async execute(ctx, t, p) {
    const obj = await readTarget(ctx, t);
    if (!obj) throw new Error(`${describeTarget(t)} not found`);
    const r = plan(ctx, obj, p);
    if (!isPlan(r)) throw new Error(r.ok ? "nothing to change" : r.detail);
    const patch = resourcesPatch(p.resource, r.container, r.after);
    const after = await ctx.cluster.patch!(
      t.kind,
      t.namespace,
      t.name,
      { ...patch, metadata: { annotations: remediationAnnotations(ctx, "increase_resources") } },
      { type: "strategic" },
    );
    return {
      changes: [
        `${describeTarget(t)} container ${r.container} ${p.resource}: ${show(r.before)} → ${show(r.after)}`,
      ],
      specHashBefore: specHash(obj),
      specHashAfter: specHash(after),
      undo: {
        container: r.container,
        resource: p.resource,
        request: r.before.request,
        limit: r.before.limit,
      },
    };
  },
  async verify(ctx, t, p, result) {
    const obj = await readTarget(ctx, t);
    if (!obj) return { ok: false, detail: `${describeTarget(t)} is gone` };
    const name = String(result.undo?.container ?? p.container);
    const c = findContainer(obj, name);
    const now = {
      request: c?.resources?.requests?.[p.resource] ?? null,
      limit: c?.resources?.limits?.[p.resource] ?? null,
    };
    const before = {
      request: (result.undo?.request ?? null) as string | null,
      limit: (result.undo?.limit ?? null) as string | null,
    };
    const grew = (["request", "limit"] as const).some(
      (k) =>
        now[k] !== null && (before[k] === null || amount(p.resource, now[k]) > amount(p.resource, before[k])),
    );
    if (!grew) return { ok: false, detail: `container ${name} ${p.resource} is still ${show(now)}` };
    const rollout = rolloutStatus(obj);
    return { ok: rollout.ok, detail: `container ${name} ${p.resource} ${show(now)}; ${rollout.detail}` };
  },
  async undo(ctx, t, result) {
    const u = result.undo as {
      container: string;
      resource: string;
      request: string | null;
      limit: string | null;
    };
    await ctx.cluster.patch!(t.kind, t.namespace, t.name, resourcesPatch(u.resource, u.container, u), {
      type: "strategic",
    });
    return { changes: [`${describeTarget(t)} container ${u.container} ${u.resource} back to ${show(u)}`] };
  },
});
