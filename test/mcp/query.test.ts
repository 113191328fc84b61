// Natural-language questions (POST /query, `prophet ask`): the rule-based router answers common
// questions from the MCP tools' results on a live sandbox; with an LLM, the agent loop calls only
// read-only tools, is bounded in steps, and falls back to the rules when the model fails. Every
// question is audited; bad input is a 400 naming the field; with tokens configured, a token is
// required.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { register as registerAsk } from "../../infra/cli/commands/ask.js";
import { answerQuestion, classify } from "../../shared/mcp/query.js";
import type { ToolContext } from "../../shared/mcp/context.js";
import { LlmError, type LlmPort, type LlmRequest } from "../../shared/ports/llm.js";
import { listAudit } from "../../shared/store/audit.js";
import { listIncidents } from "../../shared/store/incidents.js";
import { defaultPolicy } from "../../shared/remediation/policy.js";
import { startPipeline, type Pipeline } from "../remediation/pipeline-harness.js";
import { runCommand } from "../support/cli.js";

describe("classify", () => {
  it("finds the topic and the namespace or object a question names", () => {
    expect(classify("Why is latency high in shop?")).toEqual({ topic: "failing", namespace: "shop" });
    expect(classify("why is shop/cart crashing? look in shop/cart")).toEqual({
      topic: "failing",
      namespace: "shop",
      name: "cart",
    });
    expect(classify("What changed in the last hour?").topic).toBe("changes");
    expect(classify("Is capacity enough for tomorrow?").topic).toBe("capacity");
    expect(classify("Are we burning budget?").topic).toBe("budget");
    expect(classify("any suspicious traffic?").topic).toBe("network");
    expect(classify("what is waiting for approval?").topic).toBe("approvals");
    expect(classify("hello").topic).toBe("overview");
    expect(classify("what is wrong in the cluster").namespace).toBeUndefined();
  });
});

const TOKEN = "q-token-0123456789abcdef";

describe("POST /query on the sandbox", () => {
  let p: Pipeline;
  let ctx: ToolContext;
  const ask = (question: unknown, token: string | null = TOKEN) =>
    fetch(`${p.host.url}/query`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ question }),
    });

  beforeAll(async () => {
    // Human-in-loop: the crash loop's rollback waits for approval, so there is a proposal to ask about.
    p = await startPipeline({
      seed: 31,
      policies: [{ ...defaultPolicy("human-in-loop"), id: "test/hil", source: "file" }],
      env: { PROPHET_MCP_TOKENS: `asker:${TOKEN}=*` },
    });
    p.sb.inject({ kind: "crash-loop", target: "shop/cart" });
    const took = await p.advanceUntil(900, async () => {
      const firing = await listIncidents(p.host.deps.store, { status: "firing" });
      const { rows } = await p.host.deps.store.query("SELECT 1 FROM remediations WHERE status = 'proposed'");
      return firing.some((i) => i.namespace === "shop") && rows.length > 0;
    });
    expect(took, "incident and proposal").toBeDefined();
    ctx = {
      deps: p.host.deps,
      principal: { id: "spec", clusters: "*" },
      options: { readOnly: true, maxOutputChars: 50_000 },
    };
  }, 240_000);
  afterAll(async () => {
    await p?.close();
  });

  it("answers why shop is failing with the incident, its root cause and the tools it used", async () => {
    const res = await ask("Why is shop failing?");
    expect(res.status).toBe(200);
    const a = (await res.json()) as { answer: string; answeredBy: string; steps: { tool: string }[] };
    expect(a.answeredBy).toBe("rules");
    expect(a.answer).toMatch(/firing in shop/);
    expect(a.answer).toMatch(/cart/);
    expect(a.answer).toMatch(/Root cause: .*CrashLoopBackOff|Root cause: .*crash/i);
    expect(a.steps.map((s) => s.tool)).toEqual(["list_incidents", "get_incident"]);
  });

  it("answers what changed, pending approvals, budgets and capacity from the store", async () => {
    const changed = (await (await ask("What changed?")).json()) as { answer: string };
    expect(changed.answer).toMatch(/incident\.opened|alert\.firing/);
    const pending = (await (await ask("What is waiting for approval?")).json()) as { answer: string };
    expect(pending.answer).toMatch(/1 proposal\(s\) wait for a person: rollback_deployment on cart/);
    const budget = (await (await ask("Are we burning budget?")).json()) as { answer: string };
    expect(budget.answer).toBe("No SLO is evaluated yet.");
    const capacity = (await (await ask("Is capacity enough?")).json()) as { answer: string };
    expect(capacity.answer).toMatch(/no PredictiveScale configured/);
  });

  it("prophet ask prints the answer and where it came from", async () => {
    const r = await runCommand(registerAsk, [
      "ask",
      "why",
      "is",
      "shop",
      "failing?",
      "--url",
      p.host.url,
      "--token",
      TOKEN,
    ]);
    expect(r.code).toBeUndefined();
    expect(r.out).toMatch(/firing in shop/);
    expect(r.out).toMatch(/— answered by rules from list_incidents, get_incident/);
  });

  it("requires the token, refuses bad input with the field, and audits every question", async () => {
    expect((await ask("Why is shop failing?", null)).status).toBe(403);
    expect((await ask("Why is shop failing?", "wrong-token-0123456789")).status).toBe(403);
    const bad = await ask(42);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/question/);
    expect((await ask("x".repeat(1_001))).status).toBe(400);
    const audit = await listAudit(p.host.deps.store, { limit: 1000 });
    const asked = audit.filter((r) => r.action === "query.answered");
    expect(asked.length).toBeGreaterThanOrEqual(6);
    expect(asked.every((r) => r.actor === "query:asker")).toBe(true);
    expect(JSON.stringify(asked)).not.toContain(TOKEN);
  });

  /** A model that follows a script, validating each answer with the request's schema as the port does. */
  function scriptedLlm(turns: unknown[]): LlmPort & { requests: LlmRequest<unknown>[] } {
    const requests: LlmRequest<unknown>[] = [];
    return {
      model: "scripted",
      requests,
      async complete<T>(req: LlmRequest<T>) {
        requests.push(req as LlmRequest<unknown>);
        const next = turns.shift();
        if (next instanceof Error) throw next;
        const parsed = req.schema.safeParse(next);
        if (!parsed.success) throw new LlmError("schema_mismatch", "the answer does not match the schema");
        return { value: parsed.data, model: "scripted" };
      },
    };
  }

  it("with an LLM: calls tools, answers with them, and never gets a tool that changes anything", async () => {
    const llm = scriptedLlm([
      { action: "call_tool", tool: "list_incidents", arguments: { status: "firing", namespace: "shop" } },
      { action: "answer", answer: "shop/cart is crash looping (incident from list_incidents)." },
    ]);
    const a = await answerQuestion(ctx, "Why is shop failing?", { llm });
    expect(a.answeredBy).toEqual({ llm: "scripted" });
    expect(a.answer).toBe("shop/cart is crash looping (incident from list_incidents).");
    expect(a.steps.map((s) => s.tool)).toEqual(["list_incidents"]);
    // The second request carried the tool's result; no request offered propose_remediation.
    expect(llm.requests[1]!.messages.at(-1)!.content).toMatch(/list_incidents\(.*\) →/);
    for (const r of llm.requests) expect(r.messages[0]!.content).not.toMatch(/^- propose_remediation:/m);
    expect(llm.requests[0]!.messages[0]!.content).toMatch(/^- list_incidents:/m);
    const proposing = scriptedLlm([{ action: "call_tool", tool: "propose_remediation", arguments: {} }]);
    const b = await answerQuestion(ctx, "Fix shop", { llm: proposing });
    expect(b.answeredBy).toBe("rules");
    expect(b.fallback).toMatch(/schema/);
  });

  it("with an LLM that fails or never answers: the rules answer, saying why", async () => {
    const down = await answerQuestion(ctx, "Why is shop failing?", {
      llm: scriptedLlm([new LlmError("timeout", "the model did not answer in 20 s")]),
    });
    expect(down.answeredBy).toBe("rules");
    expect(down.fallback).toMatch(/did not answer/);
    expect(down.answer).toMatch(/firing in shop/);
    const looping = scriptedLlm(
      Array.from({ length: 10 }, () => ({ action: "call_tool", tool: "list_clusters", arguments: {} })),
    );
    const bounded = await answerQuestion(ctx, "Why is shop failing?", { llm: looping, maxSteps: 2 });
    expect(looping.requests).toHaveLength(3);
    expect(bounded.answeredBy).toBe("rules");
    expect(bounded.fallback).toMatch(/within 2 tool calls/);
  });
});
