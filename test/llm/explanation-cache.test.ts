// The LLM explanation is cached by the findings' content: the same problem alerting again (a new
// incident, a new event) is explained without a second request to the model; different findings,
// or a first answer that failed, still ask.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { alertDiagnosis } from "../../functions/alert-diagnosis/index.js";
import { startApiServer, type ApiServer } from "../../infra/sandbox/apiserver/index.js";
import { llmPort } from "../../infra/runtime/deps.js";
import { loadConfig } from "../../shared/config.js";
import { ExplanationCache } from "../../shared/diagnosis/llm-cache.js";
import { parseEnvelope, type ProphetEvent } from "../../shared/events/envelope.js";
import type { DiagnosisCompletedData } from "../../shared/events/schemas/diagnosis.js";
import type { IncidentEventData } from "../../shared/events/schemas/incident.js";
import { invokeFunction } from "../../shared/invocation/invoke.js";
import { kubeClusterPort } from "../../shared/kube/cluster-port.js";
import type { ClusterPort } from "../../shared/ports/cluster.js";
import type { LlmPort } from "../../shared/ports/llm.js";
import { silentLogger } from "../../shared/ports/log.js";
import { CollectingSink } from "../../shared/ports/sink.js";
import type { Store } from "../../shared/ports/store.js";
import { loadScenarios } from "../diagnosis/pass-rule.js";
import { seedSnapshot } from "../diagnosis/seed.js";
import { sample } from "../support/samples.js";
import { freshPgliteStore, testDeps } from "../support/stores.js";
import { answerFor, completion, startFakeOpenAi, type FakeOpenAi, type Recorded } from "./fake-openai.js";

const maskKey = "test-mask-key-0123456789abcdef";
const scenarios = loadScenarios();
let store: Store;
let cleanupStore: () => Promise<void>;
let dir: string;
const apis: ApiServer[] = [];
let fake: FakeOpenAi | undefined;
let seq = 0;

beforeAll(async () => {
  ({ store, cleanup: cleanupStore } = await freshPgliteStore());
  dir = mkdtempSync(join(tmpdir(), "prophet-llm-cache-"));
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

const targets = {
  S07: {
    alertname: "KubeDeploymentReplicasMismatch",
    namespace: "quant",
    kind: "Deployment",
    name: "risk-engine",
  },
  S18: { alertname: "IngressUnavailable", namespace: "intranet", kind: "Ingress", name: "wiki" },
} as const;
type Id = keyof typeof targets;

async function clusterFrom(id: Id): Promise<ClusterPort> {
  const api = await startApiServer({ port: 0 });
  apis.push(api);
  seedSnapshot(api, scenarios.find((s) => s.id === id)!.snapshot);
  const kubeconfig = join(dir, `${id}-${++seq}.kubeconfig`);
  api.writeKubeconfig(kubeconfig);
  return kubeClusterPort({ kubeconfig });
}

/** A new incident (new event id, new incident id) for the same alert target. */
function incident(id: Id): ProphetEvent {
  const base = parseEnvelope(
    sample("catalog/io.prophet.incident.opened.json"),
  ) as ProphetEvent<IncidentEventData>;
  const { alertname, ...target } = targets[id];
  const n = ++seq;
  return {
    ...base,
    id: `${base.id}-cache-${n}`,
    data: { ...base.data, incidentId: `inc-cache-${n}`, alertname, target },
  };
}

async function llmFrom(url: string): Promise<LlmPort> {
  const cfg = loadConfig({
    OPENAI_BASE_URL: url,
    OPENAI_API_KEY: "sk-test-cache",
    OPENAI_MODEL: "gpt-4o-mini",
    PROPHET_MASK_KEY: maskKey,
    PROPHET_LLM_TIMEOUT_MS: "5000",
  });
  return (await llmPort(cfg, silentLogger))!;
}

async function diagnose(id: Id, kube: ClusterPort, llm: LlmPort): Promise<DiagnosisCompletedData> {
  const sink = new CollectingSink();
  const out = await invokeFunction(alertDiagnosis, incident(id), {
    deps: { ...testDeps(store), kube, llm },
    sink,
  });
  expect(out.status).toBe("handled");
  return sink.events[0]!.data as DiagnosisCompletedData;
}

const answers = (req: Recorded) => {
  const file = req.body.includes("IngressUnavailable") ? "answer-s18.json" : "answer-s07.json";
  return { json: completion("openai-chat-completion.json", answerFor(file, req, maskKey)) };
};

describe("LLM explanation cache", () => {
  it("explains the same findings on a second incident without a second request", async () => {
    fake = await startFakeOpenAi(answers);
    const llm = await llmFrom(fake.url);
    const kube = await clusterFrom("S07");
    const first = await diagnose("S07", kube, llm);
    const second = await diagnose("S07", kube, llm);
    expect(first.explanation.explainer).toBe("llm:gpt-4o-mini");
    expect(second.incidentId).not.toBe(first.incidentId);
    expect(second.explanation).toEqual(first.explanation);
    expect(fake.requests).toHaveLength(1);
  });

  it("asks again when the findings differ", async () => {
    fake = await startFakeOpenAi(answers);
    const llm = await llmFrom(fake.url);
    await diagnose("S07", await clusterFrom("S07"), llm);
    const other = await diagnose("S18", await clusterFrom("S18"), llm);
    expect(other.explanation.explainer).toBe("llm:gpt-4o-mini");
    expect(fake.requests).toHaveLength(2);
  });

  it("does not cache a failed answer: the next identical diagnosis asks again", async () => {
    fake = await startFakeOpenAi((req, n) =>
      n === 1 ? { json: completion("openai-chat-completion.json", "not json {") } : answers(req),
    );
    const llm = await llmFrom(fake.url);
    const kube = await clusterFrom("S07");
    const failed = await diagnose("S07", kube, llm);
    expect(failed.explanation.fallback).toMatch(/^invalid_json/);
    const retried = await diagnose("S07", kube, llm);
    expect(retried.explanation.explainer).toBe("llm:gpt-4o-mini");
    expect(fake.requests).toHaveLength(2);
    await diagnose("S07", kube, llm);
    expect(fake.requests).toHaveLength(2);
  });
});

describe("ExplanationCache", () => {
  it("keeps the most recently used entries within its bound", () => {
    const c = new ExplanationCache<number>(2);
    c.set("a", 1);
    c.set("b", 2);
    expect(c.get("a")).toBe(1); // a is now the most recent
    c.set("c", 3);
    expect([c.get("a"), c.get("b"), c.get("c")]).toEqual([1, undefined, 3]);
    expect(c.size).toBe(2);
  });
});
