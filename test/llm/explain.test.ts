// The grounded explanation through the masked port, against a loopback server: credentials in
// logs and events never leave, the evidence is cut to its budget, and an answer citing a finding
// that was cut (or never existed) is rejected in favour of the rule-based text.
import { afterEach, describe, expect, it } from "vitest";
import { explainWithLlm, type ExplainInput } from "../../shared/diagnosis/llm-explain.js";
import type { Finding } from "../../shared/diagnosis/finding.js";
import { maskedLlm } from "../../shared/llm/masked.js";
import { openAiCompatible } from "../../shared/llm/openai.js";
import { completion, startFakeOpenAi, tokenIn, type FakeOpenAi, type Recorded } from "./fake-openai.js";

const key = "test-mask-key-0123456789abcdef";
let fake: FakeOpenAi | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function crashingPod(i: number): Finding {
  return {
    kind: "Pod",
    namespace: "payments",
    name: `ledger-6f7c9d8b5-${String(i).padStart(5, "0")}`,
    reason: "CrashLoopBackOff",
    message: "container ledger exited with code 1; CrashLoopBackOff, restarted 9 times",
    evidence: {
      events: ["BackOff: Back-off restarting failed container ledger (x40)"],
      logs: [
        "connecting to postgres://ledger:Tr0ub4dor&3@ledger-db.payments.svc:5432/ledger",
        "using STRIPE_API_KEY=sk_live_51HxYzAbCdEfGhIjKlMnOpQr",
        "FATAL: password authentication failed for user ledger",
      ],
    },
    parent: "Deployment/payments/ledger",
  };
}

function input(n: number): ExplainInput {
  return {
    alertname: "KubePodCrashLooping",
    target: { namespace: "payments", kind: "Deployment", name: "ledger" },
    findings: Array.from({ length: n }, (_, i) => crashingPod(i)),
    rootCause: 0,
    ruleBased: { summary: "rule-based summary", nextSteps: ["rule-based step"] },
  };
}

async function explainAgainst(answer: (req: Recorded) => object, n: number, budget = {}) {
  fake = await startFakeOpenAi((req) => ({
    json: completion("openai-chat-completion.json", JSON.stringify(answer(req))),
  }));
  const llm = maskedLlm(openAiCompatible({ baseURL: fake.url, model: "gpt-4o-mini", retryDelayMs: 5 }), key);
  return explainWithLlm(llm, input(n), budget);
}

const answer = (findings: number[]) => (req: Recorded) => ({
  summary: `Pods of ${tokenIn(req.body, key, "ledger")} cannot log in to their database.`,
  rootCause: { finding: 0, reasoning: "password authentication failed" },
  nextChecks: [{ check: `Check the credentials of ${tokenIn(req.body, key, "ledger")}.`, findings }],
});

describe("explainWithLlm", () => {
  it("never sends credentials from logs, and unmasks the answer", async () => {
    const ex = await explainAgainst(answer([0]), 1);
    expect(ex).toMatchObject({
      explainer: "llm:gpt-4o-mini",
      summary: "Pods of ledger cannot log in to their database.",
      nextSteps: ["Check the credentials of ledger."],
      likelyCause: { finding: 0 },
      citations: [[0]],
    });
    const body = fake!.requests[0]!.body;
    for (const secret of ["Tr0ub4dor", "sk_live_51HxYzAbCdEfGhIjKlMnOpQr", "payments", "ledger-db"])
      expect(body).not.toContain(secret);
    expect(body).toContain("password authentication failed");
  });

  it("cuts the evidence to its budget, and rejects citations of findings it cut", async () => {
    const ex = await explainAgainst(answer([0, 3]), 6, { maxFindings: 3 });
    const prompt = (JSON.parse(fake!.requests[0]!.body) as { messages: Array<{ content: string }> })
      .messages[1]!.content;
    expect(prompt.match(/^\[\d+\] Pod/gm)).toEqual(["[0] Pod", "[1] Pod", "[2] Pod"]);
    expect(ex).toMatchObject({
      explainer: "rule-based",
      summary: "rule-based summary",
      fallback: "ungrounded: the answer cites finding [3], which the prompt did not contain",
    });
  });

  it("keeps the finding lines when evidence would overflow the prompt", async () => {
    await explainAgainst(answer([0]), 4, { maxPromptChars: 900 });
    const prompt = (JSON.parse(fake!.requests[0]!.body) as { messages: Array<{ content: string }> })
      .messages[1]!.content;
    expect(prompt.length).toBeLessThan(1200);
    expect(prompt).toContain("[0] Pod");
    expect(prompt).toContain("log: ");
  });
});
