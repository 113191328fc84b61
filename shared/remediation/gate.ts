// The policy gate: the only door between a decision and the cluster. Whoever decided (rules or an
// LLM), the checks run in this order and the first that fails blocks the decision with its own
// reason, which lands in the audit log:
//   policy (opted in, forbidden namespace, allowed action) → alert still firing → no other
//   remediation in flight for the owner → target not locked → cooldown → failure chain (3
//   consecutive failures block the owner for 1 h) → effectiveness (the same action ineffective 3
//   times in 4 h goes to a human instead) → concurrency → the action's own preconditions and
//   blast-radius limits, read from the live object.
// A decision that passes is executed, proposed for approval, or only recorded (dry-run).
import type { Sql } from "../ports/store.js";
import { type ActionContext, type ActionTarget, targetKey } from "./action.js";
import { actionNamed } from "./actions/index.js";
import type { Decision } from "./decision.js";
import type { RemediationPolicy } from "./policy.js";
import { countActive, listRemediations, lockHolder, recentForOwner } from "./store.js";

export type GateVerdict = "execute" | "propose" | "dry_run" | "block" | "none";

export type GateReason =
  | "ok"
  | "no_action"
  | "unknown_action"
  | "not_opted_in"
  | "forbidden_namespace"
  | "action_not_allowed"
  | "alert_not_firing"
  | "duplicate_in_progress"
  | "resource_locked"
  | "cooldown"
  | "blocked_after_failures"
  | "max_concurrent"
  | "target_missing"
  | "precondition"
  | "blast_radius"
  | "unsupported";

export interface GateCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface GateResult {
  verdict: GateVerdict;
  reason: GateReason;
  detail: string;
  checks: GateCheck[];
  /** Why a human must approve (empty when the verdict is not "propose" for these reasons). */
  approvalReasons: string[];
}

export interface GateInput {
  db: Sql;
  cluster: string;
  now: Date;
  /** The matching policy; undefined: the incident is not opted in. */
  policy: RemediationPolicy | undefined;
  incident: {
    id: string;
    status: "firing" | "resolved";
    namespace: string | null;
    /** The alert's labels: SLO alerts (sloth_id) get proposals, not executions, for rollbacks. */
    labels?: Record<string, string>;
  };
  decision: Decision;
  ownerKey: string;
  /** The remediation being gated (excluded from the in-flight and lock checks). */
  remediationId: string;
  actionCtx: ActionContext;
  /** "decide": a fresh decision; "approve": the re-check when a human approves a proposal. */
  stage: "decide" | "approve";
}

export const failureChain = { count: 3, blockMs: 60 * 60_000 };
export const ineffectiveChain = { count: 3, windowMs: 4 * 60 * 60_000, below: 0.5 };

/** Owner identity for "one remediation in flight": namespace + owner kind + owner name. */
export function ownerKeyOf(target: ActionTarget): string {
  return targetKey(target);
}

export async function runGate(input: GateInput): Promise<GateResult> {
  const checks: GateCheck[] = [];
  const pass = (name: string, detail: string) => checks.push({ name, ok: true, detail });
  const block = (name: string, reason: GateReason, detail: string): GateResult => {
    checks.push({ name, ok: false, detail });
    return { verdict: "block", reason, detail, checks, approvalReasons: [] };
  };
  const { decision, policy, now } = input;
  const chosen = decision.action;
  if (!chosen) {
    return {
      verdict: "none",
      reason: "no_action",
      detail: decision.actionable ? "no registered action fits" : "the decider found nothing to act on",
      checks,
      approvalReasons: [],
    };
  }
  const action = actionNamed(chosen.name);
  if (!action) return block("registry", "unknown_action", `${chosen.name} is not a registered action`);
  const ns = chosen.target.namespace;

  // 1. Policy: opted in, namespace, allowed action.
  if (!policy) return block("policy", "not_opted_in", "no AutonomousAction policy covers this incident");
  const forbidden = [ns, input.incident.namespace ?? ""].find(
    (n) => n !== "" && policy.forbiddenNamespaces.includes(n),
  );
  if (forbidden)
    return block(
      "policy",
      "forbidden_namespace",
      `namespace ${forbidden} is forbidden by policy ${policy.id}`,
    );
  if (!policy.allowedActions.includes("*") && !policy.allowedActions.includes(action.name))
    return block("policy", "action_not_allowed", `policy ${policy.id} does not allow ${action.name}`);
  pass("policy", `policy ${policy.id} (${policy.approvalMode}) allows ${action.name}`);

  // 2. The alert must still be firing.
  if (input.incident.status !== "firing")
    return block("alert", "alert_not_firing", `incident ${input.incident.id} is no longer firing`);
  pass("alert", "still firing");

  // 3. One remediation in flight per owner.
  const others = (
    await listRemediations(input.db, {
      cluster: input.cluster,
      ownerKey: input.ownerKey,
      status: ["proposed", "approved", "executing"],
    })
  ).filter((r) => r.id !== input.remediationId);
  if (others.length > 0)
    return block(
      "in_flight",
      "duplicate_in_progress",
      `remediation ${others[0]!.id} (${others[0]!.action ?? "none"}, ${others[0]!.status}) is in flight for ${input.ownerKey}`,
    );
  pass("in_flight", "no other remediation in flight for the owner");

  // 4. Locks on the target object.
  const tKey = targetKey(chosen.target);
  const holder = await lockHolder(input.db, input.cluster, tKey, now);
  if (holder && holder !== input.remediationId)
    return block("lock", "resource_locked", `${tKey} is locked by remediation ${holder}`);
  pass("lock", `${tKey} is not locked`);

  // 5–7. History of this owner: cooldown, failure chain, ineffective chain.
  const recent = await recentForOwner(
    input.db,
    input.cluster,
    input.ownerKey,
    new Date(now.getTime() - Math.max(ineffectiveChain.windowMs, policy.cooldownSeconds * 1000)),
  );
  const acted = recent.filter((r) => r.id !== input.remediationId && r.executedAt);
  const last = acted[0];
  if (last && now.getTime() - last.executedAt!.getTime() < policy.cooldownSeconds * 1000) {
    const until = new Date(last.executedAt!.getTime() + policy.cooldownSeconds * 1000);
    return block(
      "cooldown",
      "cooldown",
      `${last.action} ran on ${input.ownerKey} at ${last.executedAt!.toISOString()}; cooldown until ${until.toISOString()}`,
    );
  }
  pass("cooldown", `no action within ${policy.cooldownSeconds} s`);

  const chain = acted.slice(0, failureChain.count);
  if (
    chain.length === failureChain.count &&
    chain.every((r) => r.status === "failed") &&
    now.getTime() - chain[0]!.executedAt!.getTime() < failureChain.blockMs
  )
    return block(
      "failures",
      "blocked_after_failures",
      `the last ${failureChain.count} remediations of ${input.ownerKey} failed; blocked until ${new Date(chain[0]!.executedAt!.getTime() + failureChain.blockMs).toISOString()}`,
    );
  pass("failures", "no failure chain");

  const approvalReasons: string[] = [];
  const ineffective = acted.filter(
    (r) =>
      r.action === action.name &&
      now.getTime() - r.executedAt!.getTime() < ineffectiveChain.windowMs &&
      (r.status === "failed" || (r.score !== null && r.score < ineffectiveChain.below)),
  );
  if (ineffective.length >= ineffectiveChain.count) {
    approvalReasons.push(
      `${action.name} was ineffective ${ineffective.length} times on ${input.ownerKey} in 4 h: escalated to a human`,
    );
    checks.push({ name: "effectiveness", ok: false, detail: approvalReasons[0]! });
  } else pass("effectiveness", "no ineffective chain");

  // 8. Concurrency (read-only actions do not count: they change nothing).
  if (!action.readOnly) {
    const active = await countActive(input.db, input.cluster);
    if (active >= policy.maxConcurrent)
      return block(
        "concurrency",
        "max_concurrent",
        `${active} remediations are executing or stabilising (max ${policy.maxConcurrent})`,
      );
  }
  pass("concurrency", `under the limit of ${policy.maxConcurrent}`);

  // 9. The action's preconditions and blast radius, on the live object.
  const params = action.params.parse(chosen.params);
  const check = await action.check(input.actionCtx, chosen.target, params).catch((err: unknown) => ({
    ok: false as const,
    failure: "unsupported" as const,
    detail: `the check could not read the cluster: ${(err as Error).message}`,
  }));
  if (!check.ok) return block("action_check", check.failure, check.detail);
  pass("action_check", check.detail ?? "preconditions hold");

  // Approval.
  if (policy.approvalMode === "dry-run")
    return {
      verdict: "dry_run",
      reason: "ok",
      detail: "dry-run: recorded, not executed",
      checks,
      approvalReasons,
    };
  if (input.stage === "approve")
    return { verdict: "execute", reason: "ok", detail: "approved", checks, approvalReasons };
  // Read-only actions (notify_only, collect_diagnostics, audit_logs) change nothing: they run.
  if (!action.readOnly) {
    if (policy.approvalMode === "human-in-loop") approvalReasons.push(`policy ${policy.id} is human-in-loop`);
    if (action.requiresApproval)
      approvalReasons.push(`${action.name} needs approval (${action.scope} action)`);
    if (chosen.target.kind === "StatefulSet" && !action.requiresApproval)
      approvalReasons.push("StatefulSet actions need approval");
    if (policy.requireApprovalFor.includes(action.name))
      approvalReasons.push(`policy ${policy.id} requires approval for ${action.name}`);
    if (input.incident.labels?.prophet_require_approval === "true")
      approvalReasons.push(
        `AnomalyAction ${input.incident.labels.prophet_anomaly_action ?? ""} requires approval`.replace(
          "  ",
          " ",
        ),
      );
    if (input.incident.labels?.sloth_id && action.name === "rollback_deployment")
      approvalReasons.push("a rollback inferred from an SLO burn is proposed, not executed");
    if (decision.confidence < policy.minConfidence)
      approvalReasons.push(`confidence ${decision.confidence} is below ${policy.minConfidence}`);
  }
  if (approvalReasons.length > 0)
    return { verdict: "propose", reason: "ok", detail: approvalReasons.join("; "), checks, approvalReasons };
  return { verdict: "execute", reason: "ok", detail: "autonomous", checks, approvalReasons };
}
