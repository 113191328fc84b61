// alert-diagnosis with an LLM: scenario snapshots in the API server emulator, the function driven
// through the invocation pipeline, and an OpenAI-compatible server on loopback that answers with
// recorded response shapes. Specifies: the grounded answer is used and unmasked; no name of the
// snapshot reaches the server; every failure (timeout, 500, bad JSON, ungrounded) falls back to
// the rule-based text and says why; the API key never reaches a log line.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { alertDiagnosis } from "../../functions/alert-diagnosis/index.js";
import { startApiServer, type ApiServer } from "../../infra/sandbox/apiserver/index.js";
import { llmPort } from "../../infra/runtime/deps.js";
import { createLogger } from "../../infra/runtime/logger.js";
import { loadConfig } from "../../shared/config.js";
import { parseEnvelope, type ProphetEvent } from "../../shared/events/envelope.js";
import type { DiagnosisCompletedData } from "../../shared/events/schemas/diagnosis.js";
import type { IncidentEventData } from "../../shared/events/schemas/incident.js";
import { invokeFunction } from "../../shared/invocation/invoke.js";
import { kubeClusterPort } from "../../shared/kube/cluster-port.js";
import type { ClusterPort } from "../../shared/ports/cluster.js";
import type { LlmPort } from "../../shared/ports/llm.js";
import type { Logger } from "../../shared/ports/log.js";
import { CollectingSink } from "../../shared/ports/sink.js";
import type { Store } from "../../shared/ports/store.js";
import { loadScenarios } from "../diagnosis/pass-rule.js";
import { seedSnapshot } from "../diagnosis/seed.js";
import { sample } from "../support/samples.js";
import { freshPgliteStore, testDeps } from "../support/stores.js";
import {
  answerFor,
  completion,
  fixture,
  startFakeOpenAi,
  type FakeOpenAi,
  type Reply,
} from "./fake-openai.js";
import { namesInSnapshot } from "./snapshot-names.js";

const maskKey = "test-mask-key-0123456789abcdef";
const apiKey = "sk-test-4f8Qz7LmN2pR9sT1vW3xY5zA";
const scenarios = loadScenarios();
let store: Store;
let cleanupStore: () => Promise<void>;
let dir: string;
const apis: ApiServer[] = [];
let fake: FakeOpenAi | undefined;
let seq = 0;

beforeAll(async () => {
  ({ store, cleanup: cleanupStore } = await freshPgliteStore());
  dir = mkdtempSync(join(tmpdir(), "prophet-llm-"));
});
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});
afterAll(async () => {
  for (const a of apis) await a.close();
  await cleanupStore();
  rmSync(dir, { recursive: true, force: true });
});

const clusters = new Map<string, Promise<ClusterPort>>();
function clusterFrom(id: string): Promise<ClusterPort> {
  let c = clusters.get(id);
  if (!c) {
    c = (async () => {
      const api = await startApiServer({ port: 0 });
      apis.push(api);
      seedSnapshot(api, scenarios.find((s) => s.id === id)!.snapshot);
      const kubeconfig = join(dir, `${id}.kubeconfig`);
      api.writeKubeconfig(kubeconfig);
      return kubeClusterPort({ kubeconfig });
    })();
    clusters.set(id, c);
  }
  return c;
}

const targets = {
  S07: {
    alertname: "KubeDeploymentReplicasMismatch",
    namespace: "quant",
    kind: "Deployment",
    name: "risk-engine",
  },
  S18: { alertname: "IngressUnavailable", namespace: "intranet", kind: "Ingress", name: "wiki" },
} as const;

function incident(id: keyof typeof targets): ProphetEvent {
  const base = parseEnvelope(
    sample("catalog/io.prophet.incident.opened.json"),
  ) as ProphetEvent<IncidentEventData>;
  const { alertname, ...target } = targets[id];
  const n = ++seq;
  return {
    ...base,
    id: `${base.id}-llm-${n}`,
    data: { ...base.data, incidentId: `inc-llm-${n}`, alertname, target },
  };
}

/** The LLM port exactly as a deployment builds it from its environment. */
async function llmFrom(url: string, log: Logger, env: Record<string, string> = {}): Promise<LlmPort> {
  const cfg = loadConfig({
    OPENAI_BASE_URL: url,
    OPENAI_API_KEY: apiKey,
    OPENAI_MODEL: "gpt-4o-mini",
    PROPHET_MASK_KEY: maskKey,
    PROPHET_LLM_TIMEOUT_MS: "5000",
    ...env,
  });
  return (await llmPort(cfg, log))!;
}

async function diagnoseWith(
  id: keyof typeof targets,
  respond: (req: Parameters<Parameters<typeof startFakeOpenAi>[0]>[0], n: number) => Reply,
  opts: { env?: Record<string, string>; log?: Logger } = {},
): Promise<DiagnosisCompletedData> {
  fake = await startFakeOpenAi(respond);
  const log = opts.log ?? testDeps(store).log;
  const sink = new CollectingSink();
  const out = await invokeFunction(alertDiagnosis, incident(id), {
    deps: {
      ...testDeps(store),
      log,
      kube: await clusterFrom(id),
      llm: await llmFrom(fake.url, log, opts.env),
    },
    sink,
  });
  expect(out.status).toBe("handled");
  return sink.events[0]!.data as DiagnosisCompletedData;
}

const openAiAnswer = (file: string) => (req: Parameters<typeof answerFor>[1]) =>
  ({ json: completion("openai-chat-completion.json", answerFor(file, req, maskKey)) }) as const;

describe("alert-diagnosis with an LLM", () => {
  it("uses the grounded answer, unmasked, and records the model that wrote it", async () => {
    const d = await diagnoseWith("S18", openAiAnswer("answer-s18.json"));
    expect(d.status).toBe("ProblemDetected");
    expect(d.explanation.explainer).toBe("llm:gpt-4o-mini");
    expect(d.explanation.fallback).toBeUndefined();
    expect(d.explanation.summary).toContain("Ingress intranet/wiki cannot be served");
    expect(d.explanation.summary).toContain("wiki-files");
    expect(d.explanation.summary).toContain("wiki.intranet.lan");
    expect(d.explanation.nextSteps[2]).toBe(
      "Create the TLS Secret wiki-tls in intranet (or let cert-manager issue it).",
    );
    expect(d.explanation.likelyCause).toMatchObject({ finding: 0 });
    expect(d.explanation.citations).toEqual([[0], [1], [2]]);
    // The rule-based root cause and the findings are untouched.
    expect(d.rootCause).toMatchObject({ kind: "Ingress", name: "wiki" });
    const req = fake!.requests[0]!;
    expect(req.url).toBe("/v1/chat/completions");
    expect(req.headers.authorization).toBe(`Bearer ${apiKey}`);
    const body = JSON.parse(req.body) as { model: string; response_format: { type: string } };
    expect(body.model).toBe("gpt-4o-mini");
    expect(body.response_format.type).toBe("json_schema");
  });

  it.each(["S07", "S18"] as const)(
    "%s: no name of the snapshot reaches the server, and the answer has them back",
    async (id) => {
      const d = await diagnoseWith(id, openAiAnswer(`answer-${id.toLowerCase()}.json`));
      expect(d.explanation.explainer).toBe("llm:gpt-4o-mini");
      const sent = fake!.requests.map((r) => r.body).join("\n");
      if (process.env.SHOW_PROMPT) console.log(JSON.parse(fake!.requests[0]!.body).messages[1].content);
      // Built-in vocabulary, not anyone's names (the default namespace, kubernetes.io keys, os/arch).
      const builtIn = new Set(["default", "kubernetes", "linux", "amd64", "helm", "deployed", "apiserver"]);
      const names = namesInSnapshot(scenarios.find((s) => s.id === id)!.snapshot).filter(
        (n) => !builtIn.has(n),
      );
      expect(names.length).toBeGreaterThan(30);
      const leaked = names.filter((n) =>
        new RegExp(`(?<![A-Za-z0-9_-])${n.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}(?![A-Za-z0-9_-])`).test(
          sent,
        ),
      );
      expect(leaked).toEqual([]);
      // The findings themselves were in the prompt (masked), not left out.
      for (const f of d.findings) expect(sent).toContain(f.reason);
      const text = [d.explanation.summary, ...d.explanation.nextSteps].join("\n");
      if (id === "S07") {
        expect(text).toContain("risk-engine-ttdd9zj96-fqxln");
        expect(text).toContain("prom/statsd-exporter:v0.27.1");
        expect(text).toContain("container pricing-core");
        expect(d.explanation.likelyCause?.reasoning).toContain("Deployment risk-engine");
      } else {
        expect(text).toContain("wiki-tls");
        expect(text).toContain("namespace intranet");
      }
    },
  );

  it("speaks to Ollama's /v1/chat/completions and its json_object mode", async () => {
    const d = await diagnoseWith("S18", (req, n) =>
      n === 1
        ? { status: 400, json: fixture("openai-error-json-schema-unsupported.json") }
        : { json: completion("ollama-chat-completion.json", answerFor("answer-s18.json", req, maskKey)) },
    );
    expect(d.explanation.explainer).toBe("llm:gpt-4o-mini");
    expect(d.explanation.summary).toContain("wiki-tls");
    const second = JSON.parse(fake!.requests[1]!.body) as {
      response_format: { type: string };
      messages: Array<{ content: string }>;
    };
    expect(second.response_format.type).toBe("json_object");
    expect(second.messages.at(-1)!.content).toContain("JSON schema");
  });

  it("falls back to the rule-based text when the model does not answer in time", async () => {
    const started = performance.now();
    const d = await diagnoseWith("S18", () => "hang", { env: { PROPHET_LLM_TIMEOUT_MS: "200" } });
    expect(performance.now() - started).toBeLessThan(4000);
    expect(d.explanation.explainer).toBe("rule-based");
    expect(d.explanation.fallback).toMatch(/^timeout: .*200 ms/);
    expect(d.explanation.summary).toMatch(/^Most likely cause: Ingress intranet\/wiki/);
  });

  it("falls back after a bounded number of attempts when the server answers 500", async () => {
    const d = await diagnoseWith("S18", () => ({ status: 500, json: fixture("openai-error-500.json") }));
    expect(fake!.requests).toHaveLength(3);
    expect(d.explanation.explainer).toBe("rule-based");
    expect(d.explanation.fallback).toMatch(/^unavailable: .*500.*gave up after 3 attempts/);
  });

  it("falls back when the content is not JSON", async () => {
    const d = await diagnoseWith("S18", () => ({
      json: completion("openai-chat-completion.json", '{"summary": "The ingress is broken because'),
    }));
    expect(fake!.requests).toHaveLength(1);
    expect(d.explanation.explainer).toBe("rule-based");
    expect(d.explanation.fallback).toMatch(/^invalid_json: /);
  });

  it("rejects an answer that cites a finding that does not exist", async () => {
    const d = await diagnoseWith("S18", (req) => {
      const answer = JSON.parse(answerFor("answer-s18.json", req, maskKey)) as {
        nextChecks: Array<{ findings: number[] }>;
      };
      answer.nextChecks[0]!.findings = [7];
      return { json: completion("openai-chat-completion.json", JSON.stringify(answer)) };
    });
    expect(d.explanation.explainer).toBe("rule-based");
    expect(d.explanation.fallback).toMatch(/^ungrounded: the answer cites finding \[7\]/);
    expect(d.explanation.likelyCause).toBeUndefined();
  });

  it("never writes the API key to the log, even at trace level and on failures", async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString("utf8"));
        done();
      },
    });
    const log = createLogger("trace", {}, destination);
    await diagnoseWith(
      "S18",
      () => ({
        status: 401,
        json: { error: { message: "Incorrect API key provided: sk-test-4f8Q***************z5zA." } },
      }),
      { log },
    );
    await diagnoseWith("S18", () => "hang", { log, env: { PROPHET_LLM_TIMEOUT_MS: "200" } });
    const all = lines.join("");
    expect(all).toContain("LLM explanation not used");
    expect(all).not.toContain(apiKey);
    expect(fake).toBeDefined();
  });
});
