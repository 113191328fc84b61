// llm-remediation: a diagnosis becomes a decision (an LLM agent when one is configured, the rule
// planner otherwise or whenever the model's answer is unusable), the policy gate decides whether
// it runs, waits for a human, is only recorded (dry-run) or is blocked, and every step lands in
// the audit log. A human's review (remediation.reviewed) re-checks the gate and executes.
import {
  DiagnosisCompleted,
  RemediationReviewed,
  isEvent,
  remediationEvents,
} from "../../shared/events/catalog.js";
import { defineFunction, functionSource } from "../../shared/function.js";
import { remediateDiagnosis, reviewRemediation } from "../../shared/remediation/pipeline.js";

const name = "llm-remediation";

export const llmRemediation = defineFunction({
  name,
  description:
    "Decides and applies (or proposes) a typed remediation for a diagnosis, behind the policy gate, with approvals and an audit trail.",
  accepts: [DiagnosisCompleted.type, RemediationReviewed.type],
  emits: remediationEvents.filter((e) => e.type !== "io.prophet.remediation.assessed").map((e) => e.type),
  async handle(event, deps) {
    const ctx = { deps, source: functionSource(name), actor: `function:${name}` };
    if (isEvent(event, DiagnosisCompleted)) return remediateDiagnosis(ctx, event);
    if (isEvent(event, RemediationReviewed)) return reviewRemediation(ctx, event);
    return [];
  },
});
