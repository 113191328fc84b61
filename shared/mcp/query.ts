// Natural-language questions (POST /query, `prophet ask`): "Why is latency high in shop?",
// "What changed?", "Is capacity enough?", "Are we burning budget?". With an LLM, an agent loop
// over the MCP tools (read-only ones: a question never proposes anything), bounded in steps,
// tokens and tool output, answering with the evidence it used. Without one — or when the model
// fails — a rule-based router maps the question to the tools an SRE would open and answers from
// their results. Every answer names the tools it called and what they returned (bounded).
import { z } from "zod";
import { asProphetError } from "../errors.js";
import type { Finding } from "../diagnosis/finding.js";
import type { LlmPort } from "../ports/llm.js";
import { boundJson } from "./bound.js";
import type { ToolContext } from "./context.js";
import { tools } from "./tools/index.js";

export interface QueryStep {
  tool: string;
  args: Record<string, unknown>;
  /** The tool's answer (bounded), or its error. */
  result?: unknown;
  error?: string;
}

export interface QueryAnswer {
  question: string;
  answer: string;
  /** Who answered: the rule-based router, or the model (named). */
  answeredBy: "rules" | { llm: string };
  /** Why the model's answer was not used, when it was tried. */
  fallback?: string;
  steps: QueryStep[];
}

export interface QueryOptions {
  llm?: LlmPort;
  /** Tool calls the model may make (default 4). */
  maxSteps?: number;
  /** Characters of one tool result shown to the model and kept as evidence (default 6,000). */
  maxResultChars?: number;
  /** Completion tokens per model call (default 600). */
  maxTokens?: number;
}

/** What a question may use: everything that only reads. */
const readTools = tools.filter((t) => t.readOnly);

/** A read-only tool's step (its result bounded for the evidence) and its whole output. */
async function run(
  ctx: ToolContext,
  tool: string,
  args: Record<string, unknown>,
  max: number,
): Promise<{ step: QueryStep; out?: unknown }> {
  const t = readTools.find((x) => x.name === tool);
  if (!t) return { step: { tool, args, error: `no read-only tool ${tool}` } };
  try {
    const out = await t.call(ctx, args);
    const b = boundJson(out, max);
    return { step: { tool, args, result: b.truncated ? { truncated: true, text: b.text } : out }, out };
  } catch (err) {
    const e = asProphetError(err);
    return { step: { tool, args, error: `${e.code}: ${e.message}` } };
  }
}

export async function answerQuestion(
  ctx: ToolContext,
  question: string,
  opts: QueryOptions = {},
): Promise<QueryAnswer> {
  const q = question.trim();
  if (opts.llm) {
    const viaLlm = await agentLoop(ctx, q, opts.llm, opts).catch((err: unknown) => ({
      fallback: asProphetError(err).message,
    }));
    if ("answer" in viaLlm) return viaLlm;
    const rules = await ruleAnswer(ctx, q, opts);
    return { ...rules, fallback: viaLlm.fallback };
  }
  return ruleAnswer(ctx, q, opts);
}

// ---- the rule-based router --------------------------------------------------------------------

type Topic = "failing" | "changes" | "capacity" | "budget" | "network" | "approvals" | "overview";

const topics: [Topic, RegExp][] = [
  ["approvals", /\b(approv\w*|pending|proposal|proposed|waiting for)\b/i],
  ["budget", /\b(budget|slo|slos|burn\w*|error rate|availability)\b/i],
  ["capacity", /\b(capacity|enough|node|nodes|scale|scaling|headroom|karpenter|forecast)\b/i],
  ["network", /\b(network|traffic|flow|flows|quarantin\w*|suspicious|intrusion|egress|scan)\b/i],
  ["changes", /\b(what changed|changed|changes|recent|deploy\w*|rollout|happened)\b/i],
  [
    "failing",
    /\b(why|failing|fail\w*|crash\w*|down|broken|latency|slow|error\w*|wrong|unhealthy|alert\w*|incident\w*)\b/i,
  ],
];

/** The topic of a question, and the namespace or object it names (`in shop`, `of shop/cart`). */
export function classify(question: string): { topic: Topic; namespace?: string; name?: string } {
  const topic = topics.find(([, re]) => re.test(question))?.[0] ?? "overview";
  const where =
    /\b(?:in|of|for|on)\s+(?:the\s+)?(?:namespace\s+)?([a-z0-9][-a-z0-9]{0,62})(?:\/([a-z0-9][-a-z0-9.]{0,252}))?\b/i.exec(
      question,
    );
  const stop = new Set([
    "the",
    "a",
    "an",
    "my",
    "our",
    "this",
    "that",
    "production",
    "prod",
    "cluster",
    "general",
  ]);
  if (!where || stop.has(where[1]!.toLowerCase())) return { topic };
  return { topic, namespace: where[1]!.toLowerCase(), ...(where[2] ? { name: where[2] } : {}) };
}

interface IncidentRow {
  id: string;
  cluster: string;
  severity: string;
  alertname: string;
  namespace: string | null;
  summary: string;
  openedAt: string | Date;
}

async function ruleAnswer(ctx: ToolContext, question: string, opts: QueryOptions): Promise<QueryAnswer> {
  const max = opts.maxResultChars ?? 6_000;
  const { topic, namespace, name } = classify(question);
  const steps: QueryStep[] = [];
  const call = async (tool: string, args: Record<string, unknown>) => {
    const r = await run(ctx, tool, args, max);
    steps.push(r.step);
    return r.out as Record<string, unknown> | undefined;
  };

  const where = namespace ? ` in ${namespace}${name ? `/${name}` : ""}` : "";
  const lines: string[] = [];

  if (topic === "failing" || topic === "overview") {
    if (!namespace) {
      // "Why is shop failing?": a word of the question that is a namespace with incidents.
      const words = new Set(question.toLowerCase().match(/[a-z0-9][-a-z0-9]*/g) ?? []);
      const named = (await incidentNamespaces(ctx)).find((n) => words.has(n));
      if (named)
        return ruleAnswer(ctx, question.replace(new RegExp(`\\b${named}\\b`, "i"), `in ${named}`), opts);
    }
    const list = await call("list_incidents", {
      status: "firing",
      ...(namespace ? { namespace } : {}),
      limit: 20,
    });
    const items = ((list?.items as IncidentRow[] | undefined) ?? []).filter(
      (i) => !name || i.summary.includes(name) || JSON.stringify(i).includes(`"${name}"`),
    );
    if (items.length > 0) {
      const rank = (s: string) => (s === "critical" ? 0 : s === "warning" ? 1 : 2);
      const top = [...items].sort((a, b) => rank(a.severity) - rank(b.severity))[0]!;
      lines.push(
        `${items.length} incident${items.length === 1 ? " is" : "s are"} firing${where}. The most severe: ${top.alertname} (${top.severity}) — ${top.summary}.`,
      );
      const detail = await call("get_incident", { incidentId: top.id, cluster: top.cluster });
      const diag = detail?.diagnosis as { summary?: string; rootCause?: Finding | null } | null | undefined;
      if (diag?.rootCause)
        lines.push(
          `Root cause: ${diag.rootCause.kind} ${diag.rootCause.namespace}/${diag.rootCause.name} — ${diag.rootCause.message}`,
        );
      if (diag?.summary) lines.push(diag.summary);
      const rems = (detail?.remediations as { action?: string; status?: string }[] | undefined) ?? [];
      if (rems.length)
        lines.push(`Remediation: ${rems.map((r) => `${r.action ?? "no action"} (${r.status})`).join(", ")}.`);
      if (items.length > 1)
        lines.push(
          `Also firing: ${items
            .filter((i) => i !== top)
            .slice(0, 4)
            .map((i) => i.alertname)
            .join(", ")}.`,
        );
    } else if (namespace) {
      // Nothing alerting: look at the objects themselves.
      const d = await call("diagnose", { namespace, ...(name ? { kind: "Deployment", name } : {}) });
      if (d && d.status === "ProblemDetected") {
        const rc = d.rootCause as Finding | null;
        lines.push(
          `No incident is firing${where}, but the live analysis finds ${String(d.problems)} problem(s)` +
            (rc ? `; the likely cause: ${rc.kind} ${rc.namespace}/${rc.name} — ${rc.message}` : "") +
            ".",
        );
        if (d.summary) lines.push(String(d.summary));
      } else if (d) lines.push(`No incident is firing${where} and the live analysis finds nothing wrong.`);
      else lines.push(`No incident is firing${where}; the live analysis could not run (see the steps).`);
    } else lines.push("No incident is firing.");
    if (topic === "failing" && /\b(latency|slow|error|availability)\b/i.test(question)) {
      const slo = await call("slo_status", { violatedOnly: true });
      const violated = ((slo?.items as { slo: string; phase: string }[] | undefined) ?? []).filter(
        (s) => !namespace || s.slo.includes(namespace),
      );
      if (violated.length)
        lines.push(`SLOs violated: ${violated.map((s) => `${s.slo} (${s.phase})`).join(", ")}.`);
    }
  }

  if (topic === "changes") {
    const audit = await call("get_audit", { limit: 30 });
    const rows = (
      (audit?.items as { at: string; action: string; subject: string; actor: string }[] | undefined) ?? []
    )
      .filter((r) => !r.action.startsWith("mcp.") && !r.action.startsWith("query."))
      .filter((r) => !namespace || r.subject.includes(namespace));
    const interesting = rows.filter((r) =>
      /^(remediation\.(executed|approved|rejected|failed)|quarantine\.|incident\.|alert\.firing|slo\.|capacity\.)/.test(
        r.action,
      ),
    );
    const shown = (interesting.length ? interesting : rows).slice(0, 8);
    lines.push(
      shown.length
        ? `Latest changes${where}, newest first:\n${shown.map((r) => `- ${new Date(r.at).toISOString()} ${r.action} ${r.subject} (${r.actor})`).join("\n")}`
        : `Nothing recorded${where} in the audit log yet.`,
    );
  }

  if (topic === "capacity" || topic === "overview") {
    const c = await call("list_clusters", {});
    const items =
      (c?.items as
        | { cluster: string; capacity: { scales: number; bufferPods: number }; status: string }[]
        | undefined) ?? [];
    if (topic === "capacity")
      lines.push(
        items.length
          ? items
              .map((h) =>
                h.capacity.scales
                  ? `${h.cluster}: ${h.capacity.scales} PredictiveScale(s) hold ${h.capacity.bufferPods} pod(s) of capacity in reserve ahead of the forecast.`
                  : `${h.cluster}: no PredictiveScale configured, so no capacity is provisioned ahead of demand.`,
              )
              .join("\n")
          : "No cluster data yet.",
      );
    else if (items.length)
      lines.push(`Clusters: ${items.map((h) => `${h.cluster} ${h.status}`).join(", ")}.`);
  }

  if (topic === "budget") {
    const slo = await call("slo_status", {});
    const items =
      (slo?.items as {
        slo: string;
        phase: string;
        evaluation?: { budgetRemaining?: number | null; currentBurnRate?: number | null } | null;
      }[]) ?? [];
    const mine = items.filter((s) => !namespace || s.slo.includes(namespace));
    const burning = mine.filter((s) => s.phase === "Violated" || s.phase === "Remediating");
    const pct = (v: number | null | undefined) =>
      v === null || v === undefined ? "?" : `${Math.round(v * 100)} %`;
    lines.push(
      mine.length === 0
        ? `No SLO is evaluated${where} yet.`
        : burning.length
          ? `Yes: ${burning.length} of ${mine.length} SLOs${where} are burning their error budget too fast: ${burning
              .map(
                (s) =>
                  `${s.slo} (${pct(s.evaluation?.budgetRemaining)} of the budget left, burn ${s.evaluation?.currentBurnRate?.toFixed(1) ?? "?"}×)`,
              )
              .join("; ")}.`
          : `No: none of the ${mine.length} SLOs${where} is burning too fast; the lowest budget left is ${pct(
              Math.min(...mine.map((s) => s.evaluation?.budgetRemaining ?? 1)),
            )}.`,
    );
  }

  if (topic === "network") {
    const map = await call("network_map", namespace ? { namespace } : {});
    // Novel edges: first seen after learning ended (what the detectors look at).
    const edges = (map?.edges as { from: string; to: string; novel?: boolean }[] | undefined) ?? [];
    const anomalous = edges.filter((e) => e.novel);
    lines.push(
      map?.learned === false
        ? "No Hubble flows have been analysed yet, so there is no service map."
        : anomalous.length
          ? `${anomalous.length} traffic edge(s)${where} are new since the map was learned: ${anomalous
              .slice(0, 5)
              .map((e) => `${e.from} → ${e.to}`)
              .join(", ")}.`
          : `The service map${where} has ${edges.length} edge(s), none new since it was learned.`,
    );
  }

  if (topic === "approvals") {
    const p = await call("list_proposals", {});
    const items =
      (p?.items as { id: string; action: string | null; target?: { name?: string } | null }[] | undefined) ??
      [];
    lines.push(
      items.length
        ? `${items.length} proposal(s) wait for a person: ${items
            .slice(0, 5)
            .map((r) => `${r.action ?? "?"} on ${r.target?.name ?? "?"} (${r.id})`)
            .join(", ")}. Approve with \`prophet approvals approve <id>\`.`
        : "No proposal is waiting for approval.",
    );
  }

  if (topic === "overview")
    lines.push(
      "I can answer: why something is failing (name a namespace: “in shop”), what changed, whether capacity is enough, whether SLO budgets are burning, suspicious network traffic, and pending approvals.",
    );
  return { question, answer: lines.join("\n"), answeredBy: "rules", steps };
}

/** The namespaces of the incidents the principal may see, for naming one by a bare word. */
async function incidentNamespaces(ctx: ToolContext): Promise<string[]> {
  const t = readTools.find((x) => x.name === "list_incidents")!;
  const out = (await t.call(ctx, { limit: 200 }).catch(() => undefined)) as
    { items?: { namespace: string | null }[] } | undefined;
  return [...new Set((out?.items ?? []).map((i) => i.namespace).filter((n): n is string => !!n))];
}

// ---- the LLM agent loop -----------------------------------------------------------------------

const readToolNames = readTools.map((t) => t.name) as [string, ...string[]];
const AgentTurn = z.discriminatedUnion("action", [
  z.object({
    action: z.literal("call_tool"),
    tool: z.enum(readToolNames),
    arguments: z.record(z.string(), z.unknown()),
  }),
  z.object({ action: z.literal("answer"), answer: z.string().min(1).max(4_000) }),
]);

async function agentLoop(
  ctx: ToolContext,
  question: string,
  llm: LlmPort,
  opts: QueryOptions,
): Promise<QueryAnswer> {
  const maxSteps = opts.maxSteps ?? 4;
  const max = opts.maxResultChars ?? 6_000;
  const catalogue = readTools
    .map((t) => `- ${t.name}: ${t.description} Arguments (JSON Schema): ${JSON.stringify(t.inputSchema)}`)
    .join("\n");
  const steps: QueryStep[] = [];
  for (let turn = 0; turn <= maxSteps; turn++) {
    const last = turn === maxSteps;
    const history = steps
      .map(
        (s, i) =>
          `Step ${i + 1}: ${s.tool}(${JSON.stringify(s.args)}) → ${s.error ?? boundJson(s.result, max).text}`,
      )
      .join("\n");
    const res = await llm.complete({
      schemaName: "prophet_query_turn",
      schema: AgentTurn,
      maxTokens: opts.maxTokens ?? 600,
      vocabulary: [...readToolNames, "call_tool"],
      messages: [
        {
          role: "system",
          fixed: true,
          content:
            "You are Prophet, an SRE assistant for Kubernetes. Answer the operator's question from the tools' results only; never guess cluster facts. " +
            'Reply with JSON: {"action":"call_tool","tool":<name>,"arguments":{...}} to read more, or {"action":"answer","answer":<text>} when you can answer. ' +
            "Cite the evidence (incident, object, metric) in the answer. Tools:\n" +
            catalogue,
        },
        {
          role: "user",
          content: `Question: ${question}\n${history ? `What the tools returned so far:\n${history}\n` : ""}${
            last ? "You have no tool calls left: answer now." : ""
          }`,
        },
      ],
    });
    const t = res.value;
    if (t.action === "answer") return { question, answer: t.answer, answeredBy: { llm: res.model }, steps };
    if (last) break;
    steps.push((await run(ctx, t.tool, t.arguments, max)).step);
  }
  throw new Error(`the model did not answer within ${maxSteps} tool calls`);
}
