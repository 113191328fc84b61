// The LLM's explanation of a diagnosis, grounded in its findings: the prompt holds only the
// findings and their evidence (truncated to a budget), the answer must cite findings by index,
// and an answer that cites a finding the prompt did not contain is rejected. Any failure yields
// the rule-based explanation and the reason, never an error: the diagnosis must not be lost.
import { z } from "zod";
import { LlmError, type LlmPort, type NameHint } from "../ports/llm.js";
import type { Finding } from "./finding.js";
import { cacheOf, explanationKey } from "./llm-cache.js";

export const llmExplanationSchema = z.object({
  /** Two or three plain sentences. */
  summary: z.string().min(1).max(2000),
  rootCause: z.object({
    finding: z.number().int().min(0).max(9999),
    reasoning: z.string().min(1).max(1500),
  }),
  nextChecks: z
    .array(
      z.object({
        check: z.string().min(1).max(600),
        findings: z.array(z.number().int().min(0).max(9999)).min(1),
      }),
    )
    .min(1)
    .max(5),
});
export type LlmExplanation = z.infer<typeof llmExplanationSchema>;

export interface Explained {
  summary: string;
  nextSteps: string[];
  /** "rule-based" or "llm:<model>". */
  explainer: string;
  /** Why the rule-based text is used although an LLM is configured. */
  fallback?: string;
  likelyCause?: { finding: number; reasoning: string };
  citations?: number[][];
}

export interface ExplainInput {
  alertname: string;
  target: { namespace?: string; kind?: string; name?: string; node?: string; instance?: string };
  findings: readonly Finding[];
  /** Index of the rule-based root cause in `findings`. */
  rootCause: number;
  ruleBased: { summary: string; nextSteps: string[] };
}

/** How much evidence goes into the prompt (tokens and time are the port's limits). */
export interface ExplainBudget {
  maxFindings?: number;
  maxEvents?: number;
  maxLogLines?: number;
  maxLineChars?: number;
  maxPromptChars?: number;
}

const system = [
  "You explain Kubernetes problems to an engineer on call.",
  "Use ONLY the findings and evidence in the user message. Do not invent objects, causes, numbers or facts they do not state; if the evidence does not say why, say that it does not.",
  "Names are masked as tokens such as ns-3f9a1c or pod-b72e04. Copy tokens exactly; never guess what they stand for.",
  "Cite findings by their index in brackets, as given. Answer in JSON with: summary (two or three plain sentences), rootCause (finding: the index of the finding most likely causing the others; reasoning: why, from the evidence), nextChecks (one to five concrete checks or fixes, each with findings: the indexes it follows from).",
].join("\n");

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…` : s);

/** The findings in the prompt: the root cause first, then the others in order, within a budget. */
function promptOf(input: ExplainInput, b: Required<ExplainBudget>): { text: string; sent: Set<number> } {
  const order = [input.rootCause, ...input.findings.keys()].filter((v, i, a) => a.indexOf(v) === i);
  const t = input.target;
  const about = [t.kind, t.namespace && t.name ? `${t.namespace}/${t.name}` : (t.name ?? t.namespace)]
    .filter(Boolean)
    .join(" ");
  const head = [
    `Alert ${input.alertname}${about ? ` about ${about}` : ""}${t.node ? ` on node ${t.node}` : ""}.`,
    `Rules rank finding [${input.rootCause}] as the most likely cause.`,
    "Findings:",
  ].join("\n");
  let text = head;
  const sent = new Set<number>();
  for (const i of order.slice(0, b.maxFindings)) {
    const f = input.findings[i]!;
    const lines = [
      `[${i}] ${f.kind} ${f.namespace ? `${f.namespace}/` : ""}${f.name}${f.parent ? ` (part of ${f.parent})` : ""}`,
      `  reason: ${f.reason}`,
      `  message: ${clip(f.message, b.maxLineChars)}`,
      ...f.evidence.events.slice(-b.maxEvents).map((e) => `  event: ${clip(e, b.maxLineChars)}`),
      ...(f.evidence.logs ?? []).slice(-b.maxLogLines).map((l) => `  log: ${clip(l, b.maxLineChars)}`),
      ...(f.evidence.metrics
        ? [
            `  metrics: ${Object.entries(f.evidence.metrics)
              .map(([k, v]) => `${k}=${v}`)
              .join(", ")}`,
          ]
        : []),
      // Readings hold numbers and times only; like every line, they are masked by the port.
      ...(f.evidence.readings ?? []).map((r) => `  metric: ${clip(r.summary, b.maxLineChars)}`),
    ];
    // Evidence past the budget is dropped; the finding itself (first three lines) is kept.
    let block = lines.join("\n");
    if (text.length + block.length > b.maxPromptChars) block = lines.slice(0, 3).join("\n");
    if (text.length + block.length > b.maxPromptChars && sent.size > 0) break;
    text += `\n${block}`;
    sent.add(i);
  }
  return { text, sent };
}

/** Every user-defined name the findings hold, so plain-word names are masked too. */
function namesOf(input: ExplainInput): NameHint[] {
  const names: NameHint[] = [];
  const t = input.target;
  if (t.namespace) names.push({ kind: "Namespace", value: t.namespace });
  if (t.name) names.push({ kind: t.kind ?? "id", value: t.name });
  if (t.node) names.push({ kind: "Node", value: t.node });
  if (t.instance) names.push({ kind: "host", value: t.instance });
  for (const f of input.findings) {
    if (f.namespace) names.push({ kind: "Namespace", value: f.namespace });
    names.push({ kind: f.kind, value: f.name });
    const [kind, ...rest] = (f.parent ?? "").split("/");
    const name = rest.pop();
    if (kind && name) names.push({ kind, value: name });
    if (kind && rest[0]) names.push({ kind: "Namespace", value: rest[0] });
  }
  // Longer names first, so that a name's token is chosen before a shorter name inside it.
  return names.sort((a, b) => b.value.length - a.value.length);
}

function ungrounded(answer: LlmExplanation, sent: Set<number>): number[] {
  const cited = [answer.rootCause.finding, ...answer.nextChecks.flatMap((c) => c.findings)];
  return [...new Set(cited.filter((i) => !sent.has(i)))];
}

export async function explainWithLlm(
  llm: LlmPort,
  input: ExplainInput,
  budget: ExplainBudget = {},
): Promise<Explained> {
  const b: Required<ExplainBudget> = {
    maxFindings: 20,
    maxEvents: 5,
    maxLogLines: 10,
    maxLineChars: 300,
    maxPromptChars: 12_000,
    ...budget,
  };
  const ruleBased = (fallback: string): Explained => ({
    ...input.ruleBased,
    explainer: "rule-based",
    fallback,
  });
  const { text, sent } = promptOf(input, b);
  const names = namesOf(input);
  const schemaName = "diagnosis_explanation";
  // The same findings on a re-alert get the same answer without another call (llm-cache.ts).
  const cache = cacheOf<Explained>(llm);
  const key = explanationKey({ model: llm.model, schemaName, system, prompt: text, names });
  const cached = cache.get(key);
  if (cached) return structuredClone(cached);
  try {
    const res = await llm.complete({
      messages: [
        { role: "system", content: system },
        { role: "user", content: text },
      ],
      schema: llmExplanationSchema,
      schemaName,
      names,
    });
    const missing = ungrounded(res.value, sent);
    if (missing.length > 0)
      throw new LlmError(
        "ungrounded",
        `the answer cites finding${missing.length === 1 ? "" : "s"} ${missing.map((i) => `[${i}]`).join(", ")}, which the prompt did not contain`,
      );
    const a = res.value;
    const explained: Explained = {
      summary: a.summary,
      nextSteps: a.nextChecks.map((c) => c.check),
      explainer: `llm:${llm.model}`,
      likelyCause: a.rootCause,
      citations: a.nextChecks.map((c) => c.findings),
    };
    cache.set(key, structuredClone(explained));
    return explained;
  } catch (err) {
    const reason = err instanceof LlmError ? `${err.code}: ${err.message}` : `error: ${String(err)}`;
    return ruleBased(clip(reason, 500));
  }
}
