// The LLM decider: the model reads the incident, may read a few more objects through bounded
// read-only tools, and picks at most one catalogued action on one of the incident's targets. Its
// answer is only a proposal for the policy gate, and is validated here first: a hallucinated
// action, out-of-schema params, a target outside the incident or of the wrong kind reject it, and
// the caller falls back to the rule planner. Policy (namespaces, allowed actions, approval) is the
// gate's (gate.ts), not this file's: a valid decision on a forbidden namespace is returned as such.
import { z } from "zod";
import { LlmError, type ChatMessage, type LlmPort } from "../ports/llm.js";
import type { ActionTarget } from "./action.js";
import { actionNamed, actions } from "./actions/index.js";
import {
  llmDecisionSchema,
  targetsInScope,
  type ChosenAction,
  type Decision,
  type DecisionInput,
  type LlmDecision,
} from "./decision.js";
import {
  clip,
  defaultBudget,
  namesOf,
  neutralise,
  plainText,
  sortNames,
  systemPrompt,
  toolNames,
  untrusted,
  userPrompt,
  type DecideBudget,
  type ToolName,
} from "./llm-prompt.js";
import { findTarget, runTool, type ReadOnlyTools } from "./llm-tools.js";

export type { DecideBudget } from "./llm-prompt.js";
export { readOnlyTools, type ReadOnlyTools } from "./llm-tools.js";

const toolCallSchema = z.object({
  type: z.literal("tool_call"),
  tool: z.enum(toolNames),
  args: z.object({
    kind: z.string().optional(),
    namespace: z.string().optional(),
    name: z.string().optional(),
    pod: z.string().optional(),
    container: z.string().optional(),
    previous: z.boolean().optional(),
    promql: z.string().optional(),
  }),
});

/** One answer of the model: read something first, or decide. */
export const llmAnswerSchema = z.discriminatedUnion("type", [
  toolCallSchema,
  llmDecisionSchema.extend({ type: z.literal("decision") }),
]);
export type LlmAnswer = z.infer<typeof llmAnswerSchema>;

export type ToolCallRecord = NonNullable<Decision["toolCalls"]>[number];

export interface LlmDecideOptions {
  /** Without tools the model must decide from the prompt alone. */
  tools?: ReadOnlyTools;
  /** Tool calls before the answer must be a decision (default 4). */
  maxToolCalls?: number;
  budget?: DecideBudget;
}

/** A decision, or why there is none (the caller then asks the rule planner). */
export type LlmDecideResult = { decision: Decision } | { fallback: string; toolCalls: ToolCallRecord[] };

type LlmChoice = NonNullable<LlmDecision["selected_action"]>;

export async function decideWithLlm(
  llm: LlmPort,
  input: DecisionInput,
  opts: LlmDecideOptions = {},
): Promise<LlmDecideResult> {
  const b: Required<DecideBudget> = { ...defaultBudget, ...opts.budget };
  const scope = targetsInScope(input);
  const tools = opts.tools;
  const available: ToolName[] = tools
    ? toolNames.filter((t) => t !== "query_metrics" || tools.queryMetrics)
    : [];
  const maxToolCalls = tools ? Math.max(0, opts.maxToolCalls ?? 4) : 0;
  const messages: ChatMessage[] = [
    {
      role: "system",
      content: systemPrompt(actions, { names: available, maxCalls: maxToolCalls }),
      // The catalogue and the rules: code-built text, no run-time data (see ChatMessage.fixed).
      fixed: true,
    },
    { role: "user", content: userPrompt(input, scope, b) },
  ];
  let names = namesOf(input, scope);
  const vocabulary = [
    ...actions.map((a) => a.name),
    ...toolNames,
    "tool_call",
    ...Object.keys(llmDecisionSchema.shape),
  ];
  const toolCalls: ToolCallRecord[] = [];
  const fallback = (reason: string): LlmDecideResult => ({ fallback: clip(reason, 500), toolCalls });

  for (;;) {
    let answer: LlmAnswer;
    try {
      const res = await llm.complete({
        messages,
        schema: llmAnswerSchema,
        schemaName: "remediation_decision",
        names,
        vocabulary,
        maxTokens: 1500,
      });
      answer = res.value;
    } catch (err) {
      return fallback(err instanceof LlmError ? `${err.code}: ${err.message}` : `error: ${String(err)}`);
    }
    if (answer.type === "decision") return validate(answer, llm.model, scope, toolCalls);

    if (!tools || toolCalls.length >= maxToolCalls)
      return fallback(
        `tool_budget_exhausted: the model asked for ${answer.tool} after ${toolCalls.length} of ${maxToolCalls} tool calls`,
      );
    const out = await runTool(tools, answer.tool, answer.args, scope, b.maxToolResultChars);
    toolCalls.push({ tool: answer.tool, args: out.args, ok: out.ok });
    names = sortNames([...names, ...out.names]);
    const n = toolCalls.length;
    const last =
      n >= maxToolCalls
        ? `\nThat was the last tool call (${n} of ${maxToolCalls}). Answer now with {type: decision, …}; another tool call ends this without a decision.`
        : "";
    messages.push(
      { role: "assistant", content: neutralise(`tool_call ${answer.tool} ${plainArgs(out.args)}`) },
      {
        role: "user",
        content: `Result of ${answer.tool} (tool call ${n} of ${maxToolCalls}):\n${untrusted(out.text)}${last}`,
      },
    );
  }
}

/** `{kind: Pod, namespace: shop, …}`: the call as the model made it, without JSON quotes. */
function plainArgs(args: Record<string, unknown>): string {
  return `{${Object.entries(args)
    .map(([k, v]) => `${k}: ${plainText(v)}`)
    .join(", ")}}`;
}

function validate(
  answer: LlmDecision,
  model: string,
  scope: readonly ActionTarget[],
  toolCalls: ToolCallRecord[],
): LlmDecideResult {
  let action: ChosenAction | null = null;
  if (answer.selected_action) {
    const chosen = chosenAction(answer.selected_action, scope);
    if (typeof chosen === "string") return { fallback: chosen, toolCalls };
    action = chosen;
  }
  // An alternative that does not validate is dropped: it is advice, not the decision.
  const alternatives = answer.alternatives
    .map((a) => chosenAction(a, scope))
    .filter((a): a is ChosenAction => typeof a !== "string");
  return {
    decision: {
      decider: `llm:${model}`,
      rootCause: answer.root_cause,
      confidence: answer.confidence,
      action,
      alternatives,
      actionable: answer.actionable,
      toolCalls,
    },
  };
}

/** The choice with its params parsed by the action's schema, or why it is rejected. */
function chosenAction(choice: LlmChoice, scope: readonly ActionTarget[]): ChosenAction | string {
  // Scope first: whatever the action, a target outside the incident is the answer to reject.
  const target = findTarget(scope, choice.target.kind, choice.target.namespace, choice.target.name);
  if (!target) return "target_out_of_scope";
  const def = actionNamed(choice.name);
  if (!def) return `unknown_action: ${clip(choice.name, 64)}`;
  if (!def.targetKinds.includes("*") && !def.targetKinds.includes(target.kind)) return "wrong_target_kind";
  const params = def.params.safeParse(choice.params);
  if (!params.success)
    return `invalid_params: ${params.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
      .join("; ")}`;
  return {
    name: def.name,
    target,
    params: params.data as Record<string, unknown>,
    rationale: choice.rationale,
  };
}
