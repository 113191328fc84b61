// The typed action contract. An action is the only way remediation changes a cluster: its
// parameters are a zod schema (an LLM's choice that does not parse is rejected), its description
// tells a planner when to use it and when not, `check` reads the live object and enforces the
// blast-radius limits, `execute` writes through the cluster port, `verify` reads back, and `undo`
// reverses it where that is possible. One file per action under actions/, one registry (index.ts).
import { createHash } from "node:crypto";
import type { z } from "zod";
import type { KubeObject } from "../diagnosis/objects.js";
import type { Clock } from "../ports/clock.js";
import type { ClusterPort } from "../ports/cluster.js";
import type { Logger } from "../ports/log.js";
import { canonicalJson } from "../store/audit.js";

/** The object an action works on. Cluster-scoped objects (Node) have namespace "". */
export interface ActionTarget {
  kind: string;
  namespace: string;
  name: string;
}

export function targetKey(t: ActionTarget): string {
  return t.namespace ? `${t.kind}/${t.namespace}/${t.name}` : `${t.kind}/${t.name}`;
}

/** Limits no action may cross, whatever the planner, the model or the policy says. */
export interface BlastRadiusLimits {
  /** drain_node/cordon_node: at most this many nodes unschedulable because of Prophet at once. */
  maxNodesDrained: number;
  /** Scaling down never goes below this many replicas unless the parameters ask for zero. */
  minHealthyReplicas: number;
  /** scale_* and update_hpa: never above this many replicas. */
  maxReplicas: number;
  /** increase_resources: never more than this factor over the current value in one step. */
  maxResourceFactor: number;
  /** increase_resources: never above these absolute limits. */
  maxCpuMillis: number;
  maxMemoryBytes: number;
  /** expand_pvc: never more than this factor over the current request in one step. */
  maxPvcGrowthFactor: number;
}

export const defaultLimits: BlastRadiusLimits = {
  maxNodesDrained: 1,
  minHealthyReplicas: 1,
  maxReplicas: 50,
  maxResourceFactor: 2,
  maxCpuMillis: 8_000,
  maxMemoryBytes: 16 * 1024 ** 3,
  maxPvcGrowthFactor: 2,
};

export interface ActionContext {
  cluster: ClusterPort;
  clock: Clock;
  log: Logger;
  limits: BlastRadiusLimits;
  /** Who acts, for annotations written on changed objects (`prophet.io/remediated-by`). */
  actor: string;
  /** The remediation's id, written as an annotation so a change can be traced to its audit rows. */
  remediationId: string;
}

export type CheckFailure =
  /** The target does not exist (any more). */
  | "target_missing"
  /** The target is not the kind or state this action is for (already scaled, not crashing…). */
  | "precondition"
  /** The action would cross a blast-radius limit. */
  | "blast_radius"
  /** The cluster port cannot write, or lacks what the action needs (exec, a template). */
  | "unsupported";

export type CheckResult =
  { ok: true; detail?: string } | { ok: false; failure: CheckFailure; detail: string };

export interface ExecutionResult {
  /** One line per change, for the audit log and the approval message. */
  changes: string[];
  /** Hash of the target's spec before and after (drift/revert detection by the assessor). */
  specHashBefore?: string;
  specHashAfter?: string;
  /** What undo needs (previous replicas, previous image, the created Job's name…). JSON only. */
  undo?: Record<string, unknown>;
  /** Objects created (Jobs, snapshots, policies), as "Kind/namespace/name". */
  created?: string[];
  /** Gathered text (collect_diagnostics, audit_logs), stored with the remediation. Bounded. */
  artifacts?: { name: string; content: string }[];
}

export interface VerifyResult {
  ok: boolean;
  detail: string;
}

export type ActionScope = "workload" | "pod" | "node" | "storage" | "network" | "data" | "observe";

export interface ActionDefinition<P = unknown> {
  /** snake_case, Kubernaut's name. */
  name: string;
  /** What it does, in one sentence. */
  description: string;
  whenToUse: string;
  whenNotToUse: string;
  /** Kinds it accepts as target; the planner maps a finding's object/owner to one of them. */
  targetKinds: readonly string[];
  scope: ActionScope;
  /** Default approval rule: node-level, StatefulSet and data actions need a human unless the
   * policy says otherwise. */
  requiresApproval: boolean;
  /** Changes nothing in the cluster (notify_only, audit_logs, collect_diagnostics). */
  readOnly: boolean;
  params: z.ZodType<P>;
  /** Reads the live target: preconditions and blast radius. Never writes. */
  check(ctx: ActionContext, target: ActionTarget, params: P): Promise<CheckResult>;
  execute(ctx: ActionContext, target: ActionTarget, params: P): Promise<ExecutionResult>;
  verify(ctx: ActionContext, target: ActionTarget, params: P, result: ExecutionResult): Promise<VerifyResult>;
  /** Reverses execute using result.undo; absent when there is nothing to reverse. */
  undo?(ctx: ActionContext, target: ActionTarget, result: ExecutionResult): Promise<ExecutionResult>;
}

export function defineAction<P>(def: ActionDefinition<P>): ActionDefinition<P> {
  return def;
}

/** sha256 of the canonical JSON of an object's spec (or the whole object without status/metadata). */
export function specHash(obj: KubeObject | undefined): string | undefined {
  if (!obj) return undefined;
  const { metadata: _m, status: _s, ...rest } = obj as KubeObject & { status?: unknown };
  const body = "spec" in rest ? rest.spec : rest;
  return createHash("sha256").update(canonicalJson(body)).digest("hex").slice(0, 16);
}

/** The annotations every changed object gets, so `kubectl describe` shows who changed it and why. */
export function remediationAnnotations(ctx: ActionContext, action: string): Record<string, string> {
  return {
    "aiops.prophet.io/remediated-by": ctx.actor,
    "aiops.prophet.io/remediation-id": ctx.remediationId,
    "aiops.prophet.io/remediation-action": action,
    "aiops.prophet.io/remediated-at": ctx.clock.now().toISOString(),
  };
}
