// What a decider (the rule planner or the LLM agent) hands to the policy gate: one chosen action
// on one target with typed parameters, alternatives, a confidence and the reasoning. A decision is
// data; only the gate turns it into a proposal or an execution.
import { z } from "zod";
import type { Finding } from "../diagnosis/finding.js";
import type { ActionTarget } from "./action.js";

export const actionTargetSchema = z.strictObject({
  kind: z.string().min(1).max(64),
  /** "" for cluster-scoped objects (Node). */
  namespace: z.string().max(253),
  name: z.string().min(1).max(253),
});

export interface ChosenAction {
  name: string;
  target: ActionTarget;
  /** Parsed with the action's own schema (defaults applied). */
  params: Record<string, unknown>;
  rationale: string;
}

export interface Decision {
  /** "rules" or "llm:<model>". */
  decider: string;
  rootCause: string;
  /** 0..1; the gate asks a human below the policy's minimum (default 0.8). */
  confidence: number;
  /** null: nothing to do (not actionable, or no action fits). */
  action: ChosenAction | null;
  alternatives: ChosenAction[];
  actionable: boolean;
  /** LLM only: why its answer was not used and the rule planner decided instead. */
  fallback?: string;
  /** LLM only: the read-only tool calls it made, for the audit log. */
  toolCalls?: { tool: string; args: Record<string, unknown>; ok: boolean }[];
}

/**
 * The structured answer the LLM must give (snake_case, as the prompt describes it). Parameters
 * are free-form JSON here and parsed with the chosen action's schema afterwards: a hallucinated
 * action name or out-of-schema parameters reject the whole answer.
 */
const llmActionSchema = z.object({
  name: z.string().min(1).max(64),
  target: actionTargetSchema,
  params: z.record(z.string(), z.unknown()),
  rationale: z.string().min(1).max(2000),
});

export const llmDecisionSchema = z.object({
  root_cause: z.string().min(1).max(2000),
  confidence: z.number().min(0).max(1),
  selected_action: llmActionSchema.nullable(),
  alternatives: z.array(llmActionSchema).max(5),
  actionable: z.boolean(),
});
export type LlmDecision = z.infer<typeof llmDecisionSchema>;

/** What every decider reads: the incident, its diagnosis, and what worked before. */
export interface DecisionInput {
  incidentId: string;
  alertname: string;
  severity: string;
  /** The alert's labels (no annotations: they are free text an attacker may control). */
  labels: Record<string, string>;
  rootCause: Finding | null;
  findings: Finding[];
  /** Past remediations of similar incidents, most similar first (see history.ts). */
  history: HistoryEntry[];
}

export interface HistoryEntry {
  incidentId: string;
  /** 0..1 similarity to this incident. */
  similarity: number;
  pattern: string;
  action: string;
  outcome: "executed" | "failed" | "rejected" | "blocked";
  /** Effectiveness 0..1 when assessed. */
  score?: number;
}

/** The objects a decision may act on: the findings' objects and their owners (parents). */
export function targetsInScope(input: Pick<DecisionInput, "findings" | "rootCause">): ActionTarget[] {
  const out = new Map<string, ActionTarget>();
  const add = (t: ActionTarget) => out.set(`${t.kind}/${t.namespace}/${t.name}`, t);
  for (const f of [...(input.rootCause ? [input.rootCause] : []), ...input.findings]) {
    add({ kind: f.kind, namespace: f.namespace, name: f.name });
    const p = parseParent(f.parent);
    if (p) add(p);
    // A pod's node is in scope for node actions (the finding names it in its evidence only).
  }
  return [...out.values()];
}

/** "Deployment/shop/cart" or "Node/ip-10-0-1-5" → a target. */
export function parseParent(parent: string | undefined): ActionTarget | undefined {
  if (!parent) return undefined;
  const parts = parent.split("/");
  if (parts.length === 3) return { kind: parts[0]!, namespace: parts[1]!, name: parts[2]! };
  if (parts.length === 2) return { kind: parts[0]!, namespace: "", name: parts[1]! };
  return undefined;
}
