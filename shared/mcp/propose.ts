// An agent's proposal: the same decision → gate → row → audit path llm-remediation takes
// (shared/remediation/pipeline.ts), with one difference that is the point of it: whatever the
// gate and the policy's mode say, the row is `proposed`, waiting for a human. An agent never
// executes; a person approves (`prophet approvals approve <id>`, POST /approvals/<id>), and the
// approval re-runs the gate and executes as for any proposal. The approval token is not returned:
// an agent holding it could approve its own proposal.
import { createHash } from "node:crypto";
import { ProphetError } from "../errors.js";
import type { Deps } from "../function.js";
import type { Finding } from "../diagnosis/finding.js";
import { defaultLimits, targetKey, type ActionTarget } from "../remediation/action.js";
import { actionNamed } from "../remediation/actions/index.js";
import { parseParent, targetsInScope, type Decision } from "../remediation/decision.js";
import { runGate, type GateResult } from "../remediation/gate.js";
import { embed, patternOf } from "../remediation/history.js";
import type { RemediationPolicy } from "../remediation/policy.js";
import { policyForIncident } from "../remediation/policy-source.js";
import { defaultRemediationSettings } from "../remediation/settings.js";
import { getRemediation, insertRemediation, type Remediation } from "../remediation/store.js";
import { canonicalJson, recordAudit } from "../store/audit.js";
import type { Incident } from "../store/incidents.js";

export interface AgentProposal {
  incident: Incident;
  diagnosisId: string | null;
  rootCause: Finding | null;
  findings: Finding[];
  action: string;
  target: ActionTarget;
  params: Record<string, unknown>;
  rationale: string;
  confidence: number;
  /** `mcp:<token id>`. */
  actor: string;
}

export type ProposalOutcome =
  | { status: "proposed" | "dry_run"; remediation: Remediation; gate: GateResult }
  | { status: "blocked"; gate: GateResult };

/** The policy governing the incident, as llm-remediation picks it. */
function policyFor(
  deps: Deps,
  incident: Incident,
  findings: Finding[],
): Promise<RemediationPolicy | undefined> {
  return policyForIncident(deps, {
    alertname: incident.alertname,
    severity: incident.severity,
    namespace: incident.namespace ?? "",
    findingReasons: findings.map((f) => f.reason),
  });
}

/** Validates the agent's choice as the LLM decider does: registered, in scope, right kind, params. */
function chosen(p: AgentProposal) {
  const def = actionNamed(p.action);
  if (!def)
    throw new ProphetError("bad_request", `${p.action} is not a registered action; see list_actions`, [
      { path: "action", message: "not a registered action" },
    ]);
  const scope = targetsInScope({ rootCause: p.rootCause, findings: p.findings });
  const target = scope.find(
    (t) => t.kind === p.target.kind && t.namespace === p.target.namespace && t.name === p.target.name,
  );
  if (!target)
    throw new ProphetError(
      "bad_request",
      `${targetKey(p.target)} is not one of incident ${p.incident.id}'s objects or their owners (${scope.map(targetKey).join(", ") || "the incident has no findings"})`,
      [{ path: "target", message: "outside the incident" }],
    );
  if (!def.targetKinds.includes("*") && !def.targetKinds.includes(target.kind))
    throw new ProphetError(
      "bad_request",
      `${def.name} acts on ${def.targetKinds.join(", ")}, not ${target.kind}`,
      [{ path: "target.kind", message: `expected ${def.targetKinds.join(" or ")}` }],
    );
  const params = def.params.safeParse(p.params);
  if (!params.success)
    throw new ProphetError(
      "bad_request",
      `invalid params for ${def.name}: ${params.error.issues.map((i) => `params.${i.path.join(".")}: ${i.message}`).join("; ")}`,
      params.error.issues.map((i) => ({ path: `params.${i.path.join(".")}`, message: i.message })),
    );
  return { def, target, params: params.data as Record<string, unknown> };
}

export async function proposeRemediation(deps: Deps, p: AgentProposal): Promise<ProposalOutcome> {
  const { def, target, params } = chosen(p);
  const now = deps.clock.now();
  const cluster = p.incident.cluster;
  const settings = deps.remediation ?? defaultRemediationSettings;
  const policy = await policyFor(deps, p.incident, p.findings);
  const decision: Decision = {
    decider: p.actor,
    rootCause: p.rootCause?.message ?? p.incident.summary,
    confidence: p.confidence,
    action: { name: def.name, target, params, rationale: p.rationale },
    alternatives: [],
    actionable: true,
  };
  // Overlap is judged per owner, as for the pipeline's own decisions (pipeline.ts ownerKeyOf).
  const rc = p.rootCause;
  const owner = rc
    ? (parseParent(rc.parent) ?? { kind: rc.kind, namespace: rc.namespace, name: rc.name })
    : target;
  const ownerKey = targetKey(owner);
  const id = `rem-${createHash("sha256")
    .update(
      `mcp\n${p.actor}\n${p.incident.id}\n${def.name}\n${targetKey(target)}\n${canonicalJson(params)}\n${now.toISOString()}`,
    )
    .digest("hex")
    .slice(0, 16)}`;
  if (!deps.kube)
    throw new ProphetError("invalid_config", `no Kubernetes API is configured for cluster ${cluster}`);
  const gate = await runGate({
    db: deps.store,
    cluster,
    now,
    policy,
    incident: {
      id: p.incident.id,
      status: p.incident.status,
      namespace: p.incident.namespace,
      labels: p.incident.labels,
    },
    decision,
    ownerKey,
    remediationId: id,
    actionCtx: {
      cluster: deps.kube,
      clock: deps.clock,
      log: deps.log,
      limits: { ...defaultLimits, ...settings.limits },
      actor: p.actor,
      remediationId: id,
    },
    stage: "decide",
  });
  if (gate.verdict === "block" || gate.verdict === "none") return { status: "blocked", gate };
  // The one rule an agent's proposal adds: nothing it proposes runs before a person says so.
  const agentRule = `proposed by an agent (${p.actor}): a person approves every agent proposal`;
  const final: GateResult =
    gate.verdict === "dry_run"
      ? gate
      : {
          ...gate,
          verdict: "propose",
          detail: [...gate.approvalReasons, agentRule].join("; "),
          approvalReasons: [...gate.approvalReasons, agentRule],
        };
  const status = final.verdict === "dry_run" ? "dry_run" : "proposed";
  const mode = policy?.approvalMode ?? settings.defaultMode;
  const expiresAt =
    status === "proposed" ? new Date(now.getTime() + (policy?.approvalTtlSeconds ?? 3600) * 1000) : null;
  const pattern = patternOf({ alertname: p.incident.alertname, rootCause: p.rootCause });
  const row = {
    id,
    cluster,
    incidentId: p.incident.id,
    diagnosisId: p.diagnosisId,
    ownerKey,
    targetKey: targetKey(target),
    decision,
    policyId: policy?.id ?? "none",
    mode,
    status,
    reason: null,
    gate: final,
    expiresAt,
    pattern,
    embedding: embed(pattern),
    at: now,
  } as const;
  const inserted = await insertRemediation(deps.store, row);
  if (inserted === "in_flight")
    throw new ProphetError(
      "conflict",
      `another remediation is in flight for ${ownerKey}; see list_proposals`,
    );
  if (inserted === "inserted") {
    const audit = (step: string, details: Record<string, unknown>) =>
      recordAudit(deps.store, {
        at: now,
        cluster,
        actor: p.actor,
        action: `remediation.${step}`,
        subject: ownerKey,
        details: { remediationId: id, ...details },
        dedupeKey: `remediation:${id}:${step}`,
      });
    await audit("decided", {
      incidentId: p.incident.id,
      diagnosisId: p.diagnosisId,
      decider: p.actor,
      confidence: p.confidence,
      rootCause: decision.rootCause,
      action: decision.action,
      alternatives: [],
      actionable: true,
    });
    await audit("gated", {
      policy: row.policyId,
      mode,
      verdict: final.verdict,
      reason: final.reason,
      detail: final.detail,
      checks: final.checks,
      approvalReasons: final.approvalReasons,
      gateVerdict: gate.verdict,
    });
    if (status === "proposed")
      await audit("proposed", { expiresAt: expiresAt!.toISOString(), reasons: final.approvalReasons });
  }
  const remediation = (await getRemediation(deps.store, id))!;
  return { status, remediation, gate: final };
}
