// The remediation pipeline behind llm-remediation and remediation-assessor:
//   diagnosis → decision (LLM agent when configured, rule planner otherwise or on any LLM failure)
//   → policy gate → execute | propose | record (dry-run) | block → audit → verify
//   review (a human's approve/reject) → gate re-check → execute
//   tick → expire unanswered proposals; assess actions whose stabilization window has passed.
// Every step appends to the hash-chained audit log with its actor; every status change is a
// conditional update, so a redelivered event or a second replica never repeats an action.
import { createHash } from "node:crypto";
import { makeEvent } from "../events/emit.js";
import type { ProphetEvent } from "../events/envelope.js";
import type { EventDefinition } from "../events/catalog.js";
import {
  RemediationApproved,
  RemediationAssessed,
  RemediationBlocked,
  RemediationExecuted,
  RemediationFailed,
  RemediationProposed,
  RemediationRejected,
} from "../events/catalog.js";
import type { DiagnosisCompletedData } from "../events/schemas/diagnosis.js";
import type { RemediationEventData, RemediationReviewedData } from "../events/schemas/remediation.js";
import { ProphetError } from "../errors.js";
import type { Deps } from "../function.js";
import { appendAudit } from "../store/audit.js";
import { getIncident } from "../store/incidents.js";
import {
  type ActionContext,
  type ActionDefinition,
  type ExecutionResult,
  defaultLimits,
  targetKey,
} from "./action.js";
import { actionNamed } from "./actions/index.js";
import { approvalKey, approvalToken, approvalUrl, checkToken } from "./approvals.js";
import { assessRemediation } from "./assess.js";
import { type Decision, type DecisionInput, parseParent } from "./decision.js";
import { type GateResult, runGate } from "./gate.js";
import { embed, patternOf, similarRemediations } from "./history.js";
import { decideWithLlm, readOnlyTools } from "./llm-decider.js";
import { planWithRules } from "./planner.js";
import type { RemediationPolicy } from "./policy.js";
import { policyForIncident, writePolicyStatus } from "./policy-source.js";
import { defaultRemediationSettings, type RemediationSettings } from "./settings.js";
import {
  type Remediation,
  type RemediationStatus,
  type VerifyRecord,
  getRemediation,
  insertRemediation,
  listRemediations,
  lockTarget,
  recordAssessment,
  releaseLock,
  transition,
  updateResult,
} from "./store.js";

export interface PipelineContext {
  deps: Deps;
  /** The emitting function's CloudEvents source. */
  source: string;
  /** `function:<name>`: the audit actor of automatic steps. */
  actor: string;
}

/** An execution older than this with no result was interrupted (the invocation lease is 5 min). */
const interruptedAfterMs = 5 * 60_000;

const settingsOf = (deps: Deps): RemediationSettings => deps.remediation ?? defaultRemediationSettings;

export function remediationIdOf(event: ProphetEvent): string {
  return `rem-${createHash("sha256").update(`${event.source}\n${event.id}`).digest("hex").slice(0, 16)}`;
}

/**
 * The policy governing an incident: configured policies (files, tests) or the cluster's
 * AutonomousActions; the default policy only when none exists at all (once an operator writes
 * one, remediation is opt-in); undefined = not opted in. Unreadable policies never fall back to
 * the default: nothing is opted in then.
 */
const policyFor = policyForIncident;

function actionContext(ctx: PipelineContext, remediationId: string): ActionContext {
  const { deps } = ctx;
  if (!deps.kube) throw new ProphetError("invalid_config", "no cluster configured");
  return {
    cluster: deps.kube,
    clock: deps.clock,
    log: deps.log,
    limits: { ...defaultLimits, ...settingsOf(deps).limits },
    actor: ctx.actor,
    remediationId,
  };
}

function eventData(
  rem: Remediation,
  extra: Partial<RemediationEventData> & { detail: string },
): RemediationEventData {
  const a = rem.decision.action;
  return {
    remediationId: rem.id,
    incidentId: rem.incidentId,
    action: rem.action,
    target: rem.target,
    params: rem.params,
    decider: rem.decider,
    confidence: rem.confidence,
    mode: rem.mode,
    status: rem.status,
    reason: rem.reason,
    rootCause: rem.decision.rootCause,
    rationale: a?.rationale ?? null,
    policy: rem.policyId,
    ...extra,
  };
}

function emit(
  ctx: PipelineContext,
  def: EventDefinition,
  cause: ProphetEvent,
  data: RemediationEventData,
  key = "",
): ProphetEvent {
  return makeEvent(def, data, {
    cause,
    source: ctx.source,
    subject: cause.subject ?? data.incidentId,
    time: ctx.deps.clock.now(),
    key,
  });
}

async function audit(
  ctx: PipelineContext,
  cluster: string,
  rem: { id: string; ownerKey: string },
  step: string,
  details: Record<string, unknown>,
  actor = ctx.actor,
): Promise<void> {
  await appendAudit(ctx.deps.store, {
    at: ctx.deps.clock.now(),
    cluster,
    actor,
    action: `remediation.${step}`,
    subject: rem.ownerKey,
    details: { remediationId: rem.id, ...details },
    dedupeKey: `remediation:${rem.id}:${step}`,
  });
}

/** The owner whose remediations must not overlap: the root cause's owner, else the action target. */
function ownerKeyOf(data: DiagnosisCompletedData, decision: Decision): string {
  const f = data.rootCause;
  const owner = f
    ? (parseParent(f.parent) ?? { kind: f.kind, namespace: f.namespace, name: f.name })
    : undefined;
  if (owner) return targetKey(owner);
  if (decision.action) return targetKey(decision.action.target);
  const t = data.target;
  return `${t.kind ?? "Alert"}/${t.namespace ?? ""}/${t.name ?? data.alertname}`;
}

const statusOfVerdict: Record<GateResult["verdict"], RemediationStatus> = {
  execute: "executing",
  propose: "proposed",
  dry_run: "dry_run",
  block: "blocked",
  none: "no_action",
};

/** diagnosis.completed → decision → gate → outcome events. */
export async function remediateDiagnosis(
  ctx: PipelineContext,
  event: ProphetEvent<DiagnosisCompletedData>,
): Promise<ProphetEvent[]> {
  const { deps } = ctx;
  const data = event.data;
  // Unavailable: nothing was read, so nothing is known. OK: no finding, but an alert-level
  // runbook (a volume filling up, an autoscaler at its maximum) may still apply.
  if (data.status === "Unavailable") return [];
  const cluster = event.cluster ?? deps.cluster;
  const id = remediationIdOf(event);
  const existing = await getRemediation(deps.store, id);
  if (existing) return resumeInterrupted(ctx, event, existing);

  const now = deps.clock.now();
  const incident = await getIncident(deps.store, data.incidentId);
  const namespace = data.rootCause?.namespace || data.target.namespace || incident?.namespace || "";
  const policy = await policyFor(deps, {
    alertname: data.alertname,
    severity: incident?.severity ?? "",
    namespace,
    findingReasons: data.findings.map((f) => f.reason),
  });

  const base: Omit<DecisionInput, "history"> = {
    incidentId: data.incidentId,
    alertname: data.alertname,
    severity: incident?.severity ?? "",
    labels: incident?.labels ?? {},
    rootCause: data.rootCause,
    findings: data.findings,
  };
  const pattern = patternOf(base);
  const embedding = embed(pattern);
  const history =
    policy?.context.includeHistory === false
      ? []
      : await similarRemediations(deps.store, cluster, embedding, { excludeIncident: data.incidentId });
  const input: DecisionInput = { ...base, history };

  let decision: Decision | undefined;
  let fallback: string | undefined;
  let toolCalls: Decision["toolCalls"];
  if (deps.llm && data.rootCause && policy?.llm?.provider !== "none") {
    const r = await decideWithLlm(deps.llm, input, {
      ...(deps.kube
        ? { tools: readOnlyTools(deps.kube, deps.metrics ? (q) => deps.metrics!.instant(q) : undefined) }
        : {}),
    }).catch((err: unknown) => ({ fallback: `error: ${(err as Error).message}`, toolCalls: [] }));
    if ("decision" in r) decision = r.decision;
    else {
      fallback = r.fallback;
      toolCalls = r.toolCalls as Decision["toolCalls"];
      deps.log.warn(
        { incident: data.incidentId, fallback },
        "LLM decision not used; the rule planner decides",
      );
    }
  }
  decision ??= {
    ...(await planWithRules(input, deps.kube)),
    ...(fallback ? { fallback } : {}),
    ...(toolCalls?.length ? { toolCalls } : {}),
  };

  const ownerKey = ownerKeyOf(data, decision);
  const actionCtx = deps.kube ? actionContext(ctx, id) : undefined;
  let gate: GateResult;
  if (!actionCtx && decision.action && !actionNamed(decision.action.name)?.readOnly) {
    gate = {
      verdict: "block",
      reason: "unsupported",
      detail: "no cluster configured to act on",
      checks: [],
      approvalReasons: [],
    };
  } else {
    gate = await runGate({
      db: deps.store,
      cluster,
      now,
      policy,
      incident: {
        id: data.incidentId,
        status: incident?.status ?? "resolved",
        namespace: incident?.namespace ?? null,
        labels: incident?.labels ?? {},
      },
      decision,
      ownerKey,
      remediationId: id,
      actionCtx: actionCtx ?? actionContextReadOnly(ctx, id),
      stage: "decide",
    });
    if (!incident && gate.reason === "alert_not_firing")
      gate.detail = `incident ${data.incidentId} is unknown`;
  }
  const mode = policy?.approvalMode ?? settingsOf(deps).defaultMode;
  const ttl = (policy?.approvalTtlSeconds ?? 3600) * 1000;
  let status = statusOfVerdict[gate.verdict];
  const expiresAt = status === "proposed" ? new Date(now.getTime() + ttl) : null;
  const row = {
    id,
    cluster,
    incidentId: data.incidentId,
    diagnosisId: event.id,
    ownerKey,
    targetKey: decision.action ? targetKey(decision.action.target) : null,
    decision,
    policyId: policy?.id ?? "none",
    mode,
    status,
    reason: gate.verdict === "block" ? gate.reason : null,
    gate,
    expiresAt,
    pattern,
    embedding,
    at: now,
  };
  let inserted = await insertRemediation(deps.store, row);
  if (inserted === "in_flight") {
    // Another replica (or incident) put a remediation in flight for this owner in the meantime.
    status = "blocked";
    gate = {
      ...gate,
      verdict: "block",
      reason: "duplicate_in_progress",
      detail: `another remediation is in flight for ${ownerKey}`,
    };
    inserted = await insertRemediation(deps.store, {
      ...row,
      status,
      reason: gate.reason,
      gate,
      expiresAt: null,
    });
  }
  const rem = (await getRemediation(deps.store, id))!;
  if (inserted === "exists") return resumeInterrupted(ctx, event, rem);

  await audit(ctx, cluster, rem, "decided", {
    incidentId: data.incidentId,
    diagnosisId: event.id,
    decider: decision.decider,
    confidence: decision.confidence,
    rootCause: decision.rootCause,
    action: decision.action,
    alternatives: decision.alternatives,
    actionable: decision.actionable,
    ...(decision.fallback ? { fallback: decision.fallback } : {}),
    ...(decision.toolCalls ? { toolCalls: decision.toolCalls } : {}),
    history: history.slice(0, 5),
  });
  await audit(ctx, cluster, rem, "gated", {
    policy: rem.policyId,
    mode,
    verdict: gate.verdict,
    reason: gate.reason,
    detail: gate.detail,
    checks: gate.checks,
    approvalReasons: gate.approvalReasons,
  });
  await statusToPolicy(ctx, rem, policy, now);

  switch (gate.verdict) {
    case "none":
      return [];
    case "block":
      return [emit(ctx, RemediationBlocked, event, eventData(rem, { detail: gate.detail }))];
    case "dry_run":
      return [
        emit(
          ctx,
          RemediationProposed,
          event,
          eventData(rem, {
            detail: `dry-run: would run ${rem.action} on ${rem.targetKey} (${decision.action?.rationale ?? ""})`,
          }),
        ),
      ];
    case "propose": {
      const key = await approvalKey(deps.store, settingsOf(deps).approvalKey);
      const token = approvalToken(key, rem.id, expiresAt!);
      const base = settingsOf(deps).publicUrl;
      await audit(ctx, cluster, rem, "proposed", {
        expiresAt: expiresAt!.toISOString(),
        reasons: gate.approvalReasons,
      });
      return [
        emit(
          ctx,
          RemediationProposed,
          event,
          eventData(rem, {
            detail: `${rem.action} on ${rem.targetKey} waits for approval: ${gate.approvalReasons.join("; ")}`,
            approval: {
              ...(base ? { url: approvalUrl(base, rem.id, token) } : {}),
              expiresAt: expiresAt!.toISOString(),
              reasons: gate.approvalReasons,
            },
          }),
        ),
      ];
    }
    case "execute":
      return executeRemediation(ctx, event, rem);
  }
}

/** A read-only action (notify_only, …) may run without a cluster that can be written. */
function actionContextReadOnly(ctx: PipelineContext, remediationId: string): ActionContext {
  const none = async () => {
    throw new ProphetError("invalid_config", "no cluster configured");
  };
  return {
    cluster: { name: "none", list: none, get: none, podLogs: none, events: none },
    clock: ctx.deps.clock,
    log: ctx.deps.log,
    limits: defaultLimits,
    actor: ctx.actor,
    remediationId,
  };
}

/**
 * A redelivered diagnosis whose remediation exists: nothing is decided or executed again. A row
 * left in "executing" means the attempt that ran it died mid-way; the action is not repeated
 * (it may have happened) and the row is marked failed for a human to look at.
 */
async function resumeInterrupted(
  ctx: PipelineContext,
  cause: ProphetEvent,
  rem: Remediation,
): Promise<ProphetEvent[]> {
  const now = ctx.deps.clock.now();
  // A row that is executing right now (a concurrent attempt) is left alone; only one that has
  // not moved for longer than an attempt can take is presumed orphaned.
  if (rem.status !== "executing" || now.getTime() - rem.updatedAt.getTime() < interruptedAfterMs) return [];
  const ok = await transition(ctx.deps.store, rem.id, ["executing"], "failed", now, {
    reason: "interrupted",
    executedAt: now,
    result: {
      changes: [],
      error: "the attempt that executed this action stopped before recording its result",
    },
  });
  if (!ok) return [];
  const after = (await getRemediation(ctx.deps.store, rem.id))!;
  await audit(ctx, rem.cluster, rem, "failed", { reason: "interrupted" });
  return [
    emit(
      ctx,
      RemediationFailed,
      cause,
      eventData(after, { detail: `${rem.action} was interrupted; it is not repeated automatically` }),
    ),
  ];
}

/** Runs an action whose row is in "executing": lock, execute, verify, record, announce. */
async function executeRemediation(
  ctx: PipelineContext,
  cause: ProphetEvent,
  rem: Remediation,
): Promise<ProphetEvent[]> {
  const { deps } = ctx;
  const action = actionNamed(rem.action ?? "") as ActionDefinition<unknown>;
  const target = rem.target!;
  const now = deps.clock.now();
  const window = settingsOf(deps).stabilizationSeconds * 1000;
  const tKey = targetKey(target);
  if (!action.readOnly) {
    const locked = await lockTarget(
      deps.store,
      rem.cluster,
      tKey,
      rem.id,
      new Date(now.getTime() + window),
      now,
    );
    if (!locked) {
      await transition(deps.store, rem.id, ["executing"], "blocked", now, { reason: "resource_locked" });
      const after = (await getRemediation(deps.store, rem.id))!;
      await audit(ctx, rem.cluster, rem, "blocked", { reason: "resource_locked" });
      return [
        emit(
          ctx,
          RemediationBlocked,
          cause,
          eventData(after, { detail: `${tKey} is locked by another remediation` }),
        ),
      ];
    }
  }
  const actx =
    action.readOnly && !deps.kube ? actionContextReadOnly(ctx, rem.id) : actionContext(ctx, rem.id);
  const params = action.params.parse(rem.params ?? {});
  let result: ExecutionResult | undefined;
  let error: string | undefined;
  let verify: VerifyRecord | undefined;
  try {
    result = await action.execute(actx, target, params);
    // Many changes converge over time (a rollout, a resize): a first verification now, and
    // the assessor's tick re-verifies until the stabilization window ends.
    const v = await action.verify(actx, target, params, result);
    verify = v.ok ? { ...v, at: deps.clock.now().toISOString() } : { ...v, pending: true };
  } catch (err) {
    error = (err as Error).message;
  }
  const done = deps.clock.now();
  const ok = !error;
  const stored = {
    ...(result ?? { changes: [] }),
    ...(verify ? { verify } : {}),
    ...(error ? { error } : {}),
  };
  await transition(deps.store, rem.id, ["executing"], ok ? "executed" : "failed", done, {
    reason: ok ? null : "execution_error",
    result: stored,
    specHashBefore: result?.specHashBefore ?? null,
    specHashAfter: result?.specHashAfter ?? null,
    executedAt: done,
  });
  if (!ok && !action.readOnly) await releaseLock(deps.store, rem.cluster, tKey, rem.id);
  const after = (await getRemediation(deps.store, rem.id))!;
  await audit(ctx, rem.cluster, rem, ok ? "executed" : "failed", {
    action: rem.action,
    target,
    params,
    changes: result?.changes ?? [],
    ...(result?.created ? { created: result.created } : {}),
    specHashBefore: result?.specHashBefore ?? null,
    specHashAfter: result?.specHashAfter ?? null,
    verify: verify ?? null,
    ...(error ? { error } : {}),
  });
  deps.log.info(
    { remediation: rem.id, action: rem.action, target: tKey, ok },
    `remediation ${ok ? "executed" : "failed"}`,
  );
  return [
    emit(
      ctx,
      ok ? RemediationExecuted : RemediationFailed,
      cause,
      eventData(after, {
        detail: ok
          ? `${rem.action} ran on ${tKey}: ${(result?.changes ?? []).join("; ")}`
          : `${rem.action} on ${tKey} failed: ${error}`,
        changes: result?.changes ?? [],
        ...(verify ? { verify: { ok: verify.ok, detail: verify.detail } } : {}),
      }),
      "outcome",
    ),
  ];
}

/**
 * Re-verifies an executed action whose change was still converging. Verified: recorded and
 * audited. Still not verified when the stabilization window ends: the remediation failed.
 */
async function reverify(ctx: PipelineContext, tick: ProphetEvent, rem: Remediation): Promise<ProphetEvent[]> {
  const { deps } = ctx;
  const action = actionNamed(rem.action ?? "");
  if (!action || !rem.target || !rem.result || !deps.kube) return [];
  const now = deps.clock.now();
  const actx = actionContext(ctx, rem.id);
  const v = await action
    .verify(actx, rem.target, action.params.parse(rem.params ?? {}), rem.result)
    .catch((err: unknown) => ({
      ok: false,
      detail: `verification failed to read: ${(err as Error).message}`,
    }));
  if (v.ok) {
    await updateResult(deps.store, rem.id, { ...rem.result, verify: { ...v, at: now.toISOString() } }, now);
    await audit(ctx, rem.cluster, rem, "verified", { verify: v });
    return [];
  }
  const window = settingsOf(deps).stabilizationSeconds * 1000;
  if (now.getTime() < rem.executedAt!.getTime() + window) {
    await updateResult(deps.store, rem.id, { ...rem.result, verify: { ...v, pending: true } }, now);
    return [];
  }
  const verify = { ...v, at: now.toISOString() };
  if (
    !(await transition(deps.store, rem.id, ["executed"], "failed", now, {
      reason: "verify_failed",
      result: { ...rem.result, verify },
    }))
  )
    return [];
  await releaseLock(deps.store, rem.cluster, rem.targetKey ?? "", rem.id);
  await audit(ctx, rem.cluster, rem, "failed", { reason: "verify_failed", verify });
  const after = (await getRemediation(deps.store, rem.id))!;
  return [
    emit(
      ctx,
      RemediationFailed,
      tick,
      eventData(after, {
        detail: `${rem.action} on ${rem.targetKey} was not verified within ${Math.round(window / 1000)} s: ${v.detail}`,
        verify: { ok: false, detail: v.detail },
      }),
      `verify:${rem.id}`,
    ),
  ];
}

/** A human's verdict: verify the token, record it once, re-check the gate, execute. */
export async function reviewRemediation(
  ctx: PipelineContext,
  event: ProphetEvent<RemediationReviewedData>,
): Promise<ProphetEvent[]> {
  const { deps } = ctx;
  const r = event.data;
  const rem = await getRemediation(deps.store, r.remediationId);
  if (!rem) throw new ProphetError("not_found", `no remediation ${r.remediationId}`);
  const now = deps.clock.now();
  const key = await approvalKey(deps.store, settingsOf(deps).approvalKey);
  const token = checkToken(key, rem.id, rem.expiresAt, r.token, now);
  if (token === "invalid")
    throw new ProphetError("forbidden", "the approval token is not valid for this remediation");
  if (rem.status !== "proposed") {
    // Single use: a second click, or a review of something already decided.
    throw new ProphetError("conflict", `remediation ${rem.id} is ${rem.status}, not waiting for approval`);
  }
  if (token === "expired") return expire(ctx, event, rem);
  const actor = r.actor;
  if (r.verdict === "reject") {
    if (
      !(await transition(deps.store, rem.id, ["proposed"], "rejected", now, {
        reason: "rejected",
        decidedBy: actor,
      }))
    )
      throw new ProphetError("conflict", `remediation ${rem.id} was decided concurrently`);
    const after = (await getRemediation(deps.store, rem.id))!;
    await audit(ctx, rem.cluster, rem, "rejected", { comment: r.comment ?? null }, actor);
    return [
      emit(
        ctx,
        RemediationRejected,
        event,
        eventData(after, { detail: `rejected by ${actor}${r.comment ? `: ${r.comment}` : ""}`, actor }),
      ),
    ];
  }
  if (!(await transition(deps.store, rem.id, ["proposed"], "approved", now, { decidedBy: actor })))
    throw new ProphetError("conflict", `remediation ${rem.id} was decided concurrently`);
  await audit(ctx, rem.cluster, rem, "approved", { comment: r.comment ?? null }, actor);
  const approved = (await getRemediation(deps.store, rem.id))!;
  const out = [
    emit(ctx, RemediationApproved, event, eventData(approved, { detail: `approved by ${actor}`, actor })),
  ];

  // The world may have changed since the proposal: the gate decides again.
  const incident = await getIncident(deps.store, rem.incidentId);
  const policy = await policyFor(deps, {
    alertname: incident?.alertname ?? "",
    severity: incident?.severity ?? "",
    namespace: rem.target?.namespace || incident?.namespace || "",
    findingReasons: rem.decision.rootCause ? [] : [],
  });
  const gate = await runGate({
    db: deps.store,
    cluster: rem.cluster,
    now,
    policy,
    incident: {
      id: rem.incidentId,
      status: incident?.status ?? "resolved",
      namespace: incident?.namespace ?? null,
    },
    decision: rem.decision,
    ownerKey: rem.ownerKey,
    remediationId: rem.id,
    actionCtx: deps.kube ? actionContext(ctx, rem.id) : actionContextReadOnly(ctx, rem.id),
    stage: "approve",
  });
  await audit(ctx, rem.cluster, rem, "regated", {
    verdict: gate.verdict,
    reason: gate.reason,
    detail: gate.detail,
    checks: gate.checks,
  });
  if (gate.verdict !== "execute") {
    const reason = gate.verdict === "dry_run" ? "dry_run" : gate.reason;
    await transition(deps.store, rem.id, ["approved"], "blocked", now, { reason, gate });
    const after = (await getRemediation(deps.store, rem.id))!;
    return [
      ...out,
      emit(ctx, RemediationBlocked, event, eventData(after, { detail: gate.detail, actor }), "outcome"),
    ];
  }
  await transition(deps.store, rem.id, ["approved"], "executing", now, { gate });
  const executing = (await getRemediation(deps.store, rem.id))!;
  return [...out, ...(await executeRemediation(ctx, event, executing))];
}

async function expire(ctx: PipelineContext, cause: ProphetEvent, rem: Remediation): Promise<ProphetEvent[]> {
  const now = ctx.deps.clock.now();
  if (!(await transition(ctx.deps.store, rem.id, ["proposed"], "expired", now, { reason: "expired" })))
    return [];
  const after = (await getRemediation(ctx.deps.store, rem.id))!;
  await audit(ctx, rem.cluster, rem, "expired", { expiresAt: rem.expiresAt?.toISOString() ?? null });
  return [
    emit(
      ctx,
      RemediationRejected,
      cause,
      eventData(after, {
        detail: `nobody approved ${rem.action} on ${rem.targetKey} before ${rem.expiresAt?.toISOString()}`,
      }),
      `expired:${rem.id}`,
    ),
  ];
}

/** The assessor's tick: expire unanswered proposals, score actions past their window. */
export async function assessDue(ctx: PipelineContext, tick: ProphetEvent): Promise<ProphetEvent[]> {
  const { deps } = ctx;
  const now = deps.clock.now();
  const out: ProphetEvent[] = [];
  // Serving several clusters, each tick is one cluster's (the invocation gave us its ports): only
  // its remediations are verified and assessed with them.
  const scope = deps.clusters ? { cluster: deps.cluster } : {};
  for (const rem of await listRemediations(deps.store, { status: ["proposed"], limit: 500, ...scope }))
    if (rem.expiresAt && rem.expiresAt.getTime() <= now.getTime())
      out.push(...(await expire(ctx, tick, rem)));

  const window = settingsOf(deps).stabilizationSeconds * 1000;
  const executed = await listRemediations(deps.store, { status: ["executed"], limit: 500, ...scope });
  for (const rem of executed.filter((r) => r.assessedAt === null && r.result?.verify?.pending))
    out.push(...(await reverify(ctx, tick, rem)));
  const due = (await listRemediations(deps.store, { status: ["executed"], limit: 500, ...scope })).filter(
    (r) => r.assessedAt === null && r.executedAt && r.executedAt.getTime() + window <= now.getTime(),
  );
  for (const rem of due) {
    const incident = await getIncident(deps.store, rem.incidentId);
    const a = await assessRemediation(deps.kube, rem, incident?.status ?? "firing", deps.metrics, now);
    if (!(await recordAssessment(deps.store, rem.id, now, a.score, { ...a }))) continue;
    if (rem.targetKey) await releaseLock(deps.store, rem.cluster, rem.targetKey, rem.id);
    const after = (await getRemediation(deps.store, rem.id))!;
    await audit(ctx, rem.cluster, rem, "assessed", { ...a } as Record<string, unknown>);
    out.push(
      emit(
        ctx,
        RemediationAssessed,
        tick,
        eventData(after, {
          detail: `effectiveness ${a.score === null ? "unknown" : a.score.toFixed(2)} after ${Math.round(window / 1000)} s: ${a.notes.join("; ")}`,
          assessment: a,
        }),
        `assessed:${rem.id}`,
      ),
    );
  }
  return out;
}

/** Best effort: the AutonomousAction's status shows what it did (never blocks the pipeline). */
async function statusToPolicy(
  ctx: PipelineContext,
  rem: Remediation,
  policy: RemediationPolicy | undefined,
  now: Date,
): Promise<void> {
  // A global policy lives in the home cluster: its status goes there.
  const where = policy?.source === "global" ? ctx.deps.home : ctx.deps.kube;
  if (!policy || (policy.source !== "cluster" && policy.source !== "global") || !where) return;
  try {
    const { rows } = await ctx.deps.store.query<{ n: string | number }>(
      "SELECT count(*) AS n FROM remediations WHERE policy_id = $1 AND status IN ('executing', 'executed', 'failed')",
      [policy.id],
    );
    await writePolicyStatus(
      where,
      policy.id,
      {
        lastDetected: now.toISOString(),
        remediationCount: Number(rows[0]?.n ?? 0),
        ...(rem.status === "executing"
          ? { lastRemediated: now.toISOString(), phase: "Remediating" as const }
          : { phase: "Detected" as const }),
      },
      { log: ctx.deps.log },
    );
  } catch (err) {
    ctx.deps.log.warn({ err: (err as Error).message, policy: policy.id }, "policy status not written");
  }
}
