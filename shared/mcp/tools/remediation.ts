// The remediation catalogue, an agent's proposal (through the gate, never executed) and the
// proposals waiting for a person.
import { z } from "zod";
import { ProphetError } from "../../errors.js";
import { actions } from "../../remediation/actions/index.js";
import { actionTargetSchema } from "../../remediation/decision.js";
import { remediationStatusSchema } from "../../events/schemas/remediation.js";
import { listRemediations, type RemediationStatus } from "../../remediation/store.js";
import { depsFor, rowFilter } from "../context.js";
import { proposeRemediation } from "../propose.js";
import { diagnosisOf, readableIncident, remediationSummary } from "./incidents.js";
import { clusterArg, defineTool } from "./tool.js";

function paramsSchema(schema: z.ZodType): unknown {
  try {
    const s = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
    delete s.$schema;
    return s;
  } catch {
    return undefined;
  }
}

export const listActions = defineTool({
  name: "list_actions",
  description:
    "The remediation actions Prophet can take (the only ones propose_remediation accepts): what each does, when to use it and not, target kinds, whether it needs approval, its parameters' JSON Schema.",
  input: z.strictObject({
    scope: z.enum(["workload", "pod", "node", "storage", "network", "data", "observe"]).optional(),
  }),
  async run(_ctx, args) {
    const items = actions
      .filter((a) => !args.scope || a.scope === args.scope)
      .map((a) => ({
        name: a.name,
        description: a.description,
        whenToUse: a.whenToUse,
        whenNotToUse: a.whenNotToUse,
        targetKinds: a.targetKinds,
        scope: a.scope,
        requiresApproval: a.requiresApproval,
        readOnly: a.readOnly,
        params: paramsSchema(a.params as z.ZodType),
      }));
    return { count: items.length, items };
  },
});

export const proposeRemediationTool = defineTool({
  name: "propose_remediation",
  description:
    "Proposes one action from list_actions on one of an incident's objects (or their owners). The proposal goes through Prophet's policy gate and then waits for a person's approval — whatever the policy's mode, an agent never executes anything. Returns the proposal (status proposed), or why the gate blocked it.",
  readOnly: false,
  input: z.strictObject({
    cluster: clusterArg,
    incidentId: z.string().min(1).max(100),
    action: z.string().regex(/^[a-z][a-z0-9_]{1,63}$/, "expected an action name from list_actions"),
    target: actionTargetSchema.describe(
      "one of the incident's objects or their owners (get_incident's findings)",
    ),
    params: z.record(z.string(), z.unknown()).default({}),
    rationale: z.string().min(10, "say why, in a sentence or more").max(2_000),
    confidence: z.number().min(0).max(1).default(0.5),
  }),
  async run(ctx, args) {
    if (ctx.options.readOnly)
      throw new ProphetError(
        "forbidden",
        "this MCP server is read-only (PROPHET_MCP_READ_ONLY=true): propose_remediation is disabled",
      );
    const incident = await readableIncident(ctx, args.incidentId, args.cluster);
    const deps = depsFor(ctx, incident.cluster);
    const d = await diagnosisOf(ctx.deps.store, incident.id);
    const findings = d.findings.map(({ rootCause: _r, ...f }) => f);
    const outcome = await proposeRemediation(deps, {
      incident,
      diagnosisId: d.diagnosis?.id ?? null,
      rootCause: d.diagnosis?.rootCause ?? null,
      findings,
      action: args.action,
      target: args.target,
      params: args.params,
      rationale: args.rationale,
      confidence: args.confidence,
      actor: `mcp:${ctx.principal.id}`,
    });
    if (outcome.status === "blocked")
      throw new ProphetError(
        "conflict",
        `the policy gate blocked ${args.action} (${outcome.gate.reason}): ${outcome.gate.detail}`,
      );
    return {
      status: outcome.status,
      remediation: remediationSummary(outcome.remediation),
      checks: outcome.gate.checks,
      next:
        outcome.status === "proposed"
          ? `a person approves or rejects it: prophet approvals approve ${outcome.remediation.id} (or the approval page); the gate runs again before anything executes`
          : "the policy is dry-run: recorded, never executed",
    };
  },
});

const statuses = remediationStatusSchema.options satisfies readonly RemediationStatus[];

export const listProposals = defineTool({
  name: "list_proposals",
  description:
    "Remediations by status, newest first: by default the proposals waiting for a person's approval.",
  input: z.strictObject({
    cluster: clusterArg,
    status: z.array(z.enum(statuses)).min(1).default(["proposed"]),
    incidentId: z.string().min(1).max(100).optional(),
    limit: z.number().int().min(1).max(200).default(50),
  }),
  async run(ctx, args) {
    const keep = rowFilter(ctx, args.cluster);
    const rows = await listRemediations(ctx.deps.store, {
      status: [...args.status],
      ...(args.incidentId ? { incidentId: args.incidentId } : {}),
      limit: 1_000,
    });
    const items = rows
      .filter((r) => keep(r.cluster))
      .slice(0, args.limit)
      .map(remediationSummary);
    return { count: items.length, items };
  },
});
