// enable_debug_mode: set a debug environment variable on one container for a limited time. The
// expiry and what undo needs are annotations on the workload, so expiredDebugModes() can find
// workloads whose debug mode outlived its TTL and an assessor can undo them.
import { z } from "zod";
import type { EnvVar } from "../../diagnosis/objects.js";
import {
  defineAction,
  remediationAnnotations,
  specHash,
  type ActionContext,
  type ActionTarget,
  type ExecutionResult,
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

export const DEBUG_EXPIRES_AT = "aiops.prophet.io/debug-expires-at";
const DEBUG_UNDO = "aiops.prophet.io/debug-undo";

const params = z.strictObject({
  container: z
    .string()
    .min(1)
    .optional()
    .describe("container name; default: the pod template's first container"),
  env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
    .default("DEBUG")
    .describe("the environment variable the application reads to turn on debug output"),
  value: z.string().max(256).default("true").describe("its value"),
  ttlSeconds: z
    .number()
    .int()
    .min(60)
    .max(86_400)
    .default(1800)
    .describe("after this many seconds the debug mode counts as expired and is undone"),
});

type Params = z.infer<typeof params>;

type EnvEntry = Pick<EnvVar, "name" | "valueFrom"> & { value?: string };

interface DebugUndo {
  container: string;
  env: string;
  /** The variable as it was, or null when it did not exist. */
  previous: EnvEntry | null;
}

function envPatch(container: string, entry: Record<string, unknown>) {
  return { spec: { template: { spec: { containers: [{ name: container, env: [entry] }] } } } };
}

export const enableDebugMode = defineAction<Params>({
  name: "enable_debug_mode",
  description:
    "Sets a debug environment variable (default DEBUG=true) on one container for a limited time (default 30 min, at most 24 h); a rolling update, undone when it expires.",
  whenToUse:
    "A failure the current logs do not explain and the application has a debug switch read from the environment; temporary, to gather evidence.",
  whenNotToUse:
    "As a fix (it changes nothing about the failure); workloads whose debug output may log secrets or personal data; apps that do not read such a variable.",
  targetKinds: workloadKinds,
  scope: "workload",
  requiresApproval: false,
  readOnly: false,
  params,
  async check(ctx, t, p) {
    const obj = await readTarget(ctx, t);
    if (!obj) return targetMissing(t);
    const c = findContainer(obj, p.container);
    if (!c) return containerMissing(t, obj, p.container);
    const current = (c.env as EnvEntry[] | undefined)?.find((e) => e.name === p.env);
    if (current?.value === p.value && !current.valueFrom)
      return {
        ok: false,
        failure: "precondition",
        detail: `${describeTarget(t)} container ${c.name} already has ${p.env}=${p.value}`,
      };
    return (
      cannotWrite(ctx, "patch") ?? { ok: true, detail: `${c.name}: ${p.env}=${p.value} for ${p.ttlSeconds}s` }
    );
  },
  async execute(ctx, t, p) {
    const obj = await readTarget(ctx, t);
    const c = obj && findContainer(obj, p.container);
    if (!obj || !c) throw new Error(`${describeTarget(t)} container ${p.container ?? "(first)"} not found`);
    const previous = (c.env as EnvEntry[] | undefined)?.find((e) => e.name === p.env) ?? null;
    const undo: DebugUndo = { container: c.name, env: p.env, previous };
    const expiresAt = new Date(ctx.clock.now().getTime() + p.ttlSeconds * 1000).toISOString();
    const after = await ctx.cluster.patch!(
      t.kind,
      t.namespace,
      t.name,
      {
        ...envPatch(c.name, {
          name: p.env,
          value: p.value,
          ...(previous?.valueFrom ? { valueFrom: null } : {}),
        }),
        metadata: {
          annotations: {
            ...remediationAnnotations(ctx, "enable_debug_mode"),
            [DEBUG_EXPIRES_AT]: expiresAt,
            [DEBUG_UNDO]: JSON.stringify(undo),
          },
        },
      },
      { type: "strategic" },
    );
    return {
      changes: [`${describeTarget(t)} container ${c.name}: ${p.env}=${p.value} until ${expiresAt}`],
      specHashBefore: specHash(obj),
      specHashAfter: specHash(after),
      undo: { ...undo, expiresAt },
    };
  },
  async verify(ctx, t, p, result) {
    const obj = await readTarget(ctx, t);
    if (!obj) return { ok: false, detail: `${describeTarget(t)} is gone` };
    const name = String(result.undo?.container ?? p.container);
    const env = (findContainer(obj, name)?.env as EnvEntry[] | undefined)?.find((e) => e.name === p.env);
    if (env?.value !== p.value)
      return { ok: false, detail: `container ${name} has ${p.env}=${env?.value ?? "unset"}` };
    const rollout = rolloutStatus(obj);
    return { ok: rollout.ok, detail: `${p.env}=${p.value} on ${name}; ${rollout.detail}` };
  },
  async undo(ctx, t, result) {
    const u = result.undo as unknown as DebugUndo;
    const entry = u.previous
      ? { ...u.previous, value: u.previous.value ?? null, valueFrom: u.previous.valueFrom ?? null }
      : { name: u.env, $patch: "delete" };
    await ctx.cluster.patch!(
      t.kind,
      t.namespace,
      t.name,
      {
        ...envPatch(u.container, entry),
        metadata: { annotations: { [DEBUG_EXPIRES_AT]: null, [DEBUG_UNDO]: null } },
      },
      { type: "strategic" },
    );
    return {
      changes: [
        `${describeTarget(t)} container ${u.container}: ${u.env} ${u.previous ? "restored" : "removed"}, debug mode off`,
      ],
    };
  },
});

export interface ExpiredDebugMode {
  target: ActionTarget;
  expiredAt: string;
  /** Pass to enableDebugMode.undo(ctx, target, result). */
  result: ExecutionResult;
}

/** Workloads whose debug mode (set by enable_debug_mode) is past its expiry, oldest first. */
export async function expiredDebugModes(ctx: ActionContext, namespace?: string): Promise<ExpiredDebugMode[]> {
  const now = ctx.clock.now().getTime();
  const out: ExpiredDebugMode[] = [];
  for (const kind of workloadKinds)
    for (const obj of await ctx.cluster.list(kind, namespace)) {
      const expiredAt = obj.metadata.annotations?.[DEBUG_EXPIRES_AT];
      const undo = obj.metadata.annotations?.[DEBUG_UNDO];
      if (!expiredAt || !undo || Date.parse(expiredAt) > now) continue;
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(undo) as Record<string, unknown>;
      } catch {
        continue; // hand-edited annotation: nothing safe to undo
      }
      out.push({
        target: { kind, namespace: obj.metadata.namespace ?? "", name: obj.metadata.name },
        expiredAt,
        result: { changes: [], undo: parsed },
      });
    }
  return out.sort((a, b) => a.expiredAt.localeCompare(b.expiredAt));
}
