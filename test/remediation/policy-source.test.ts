// Remediation policies from AutonomousAction/AnomalyAction objects: parsing with defaults and
// reasons, loading from YAML files and from the sandbox cluster, choosing the policy for an
// incident, and writing status back through the status subresource.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../shared/diagnosis/objects.js";
import type { ClusterPort } from "../../shared/ports/cluster.js";
import { silentLogger, type Logger } from "../../shared/ports/log.js";
import { defaultPolicy, type RemediationPolicy } from "../../shared/remediation/policy.js";
import {
  isInvalid,
  loadPolicies,
  parseAnomalyAction,
  parseAutonomousAction,
  resolvePolicy,
  selectPolicy,
  writePolicyStatus,
  type Incident,
  type PolicySet,
} from "../../shared/remediation/policy-source.js";
import { startActionSandbox, type ActionSandbox } from "./support.js";

const root = join(import.meta.dirname, "../..");
const examples = join(root, "manifests/examples");

function aa(name: string, spec: unknown, namespace = "shop"): KubeObject {
  return {
    apiVersion: "aiops.prophet.io/v1alpha1",
    kind: "AutonomousAction",
    metadata: { name, namespace },
    spec,
  } as KubeObject;
}

function policy(name: string, spec: unknown, namespace = "shop"): RemediationPolicy {
  const p = parseAutonomousAction(aa(name, spec, namespace));
  if (isInvalid(p)) throw new Error(p.invalid);
  return p;
}

const crashInShop: Incident = {
  alertname: "KubePodCrashLooping",
  severity: "critical",
  namespace: "shop",
  findingReasons: ["CrashLoopBackOff"],
};

describe("parseAutonomousAction", () => {
  it("maps the spec onto a RemediationPolicy and fills every default the CRD declares", () => {
    expect(parseAutonomousAction(aa("minimal", {}))).toEqual({
      id: "shop/minimal",
      source: "cluster",
      trigger: { alertnames: [], severities: [], namespaces: [], findingReasons: [] },
      approvalMode: "human-in-loop",
      allowedActions: [],
      forbiddenNamespaces: [],
      cooldownSeconds: 300,
      maxConcurrent: 3,
      minConfidence: 0.8,
      requireApprovalFor: [],
      approvalTtlSeconds: 3600,
      context: { includeLogs: true, includeEvents: true, includeMetrics: true, includeHistory: true },
    });
    const full = parseAutonomousAction(
      aa("full", {
        trigger: { alertNames: ["KubePodCrashLooping"], severities: ["critical"], namespaces: ["shop"] },
        llm: { provider: "ollama", model: "llama3.1", endpoint: "http://ollama:11434", temperature: 0.2 },
        context: { includeLogs: false },
        approvalMode: "dry-run",
        constraints: { allowedActions: ["*"], minConfidence: 0.95, requireApprovalFor: ["delete_pod"] },
      }),
      "file",
    );
    expect(full).toMatchObject({
      id: "shop/full",
      source: "file",
      trigger: { alertnames: ["KubePodCrashLooping"], severities: ["critical"], namespaces: ["shop"] },
      llm: { provider: "ollama", model: "llama3.1", endpoint: "http://ollama:11434", temperature: 0.2 },
      context: { includeLogs: false, includeEvents: true },
      approvalMode: "dry-run",
      allowedActions: ["*"],
      minConfidence: 0.95,
      requireApprovalFor: ["delete_pod"],
      cooldownSeconds: 300,
    });
  });

  it.each([
    [
      { approvalMode: "yolo" },
      /spec\.approvalMode: Invalid option: expected one of "autonomous"\|"human-in-loop"\|"dry-run"/,
    ],
    [{ constraints: { minConfidence: 1.5 } }, /spec\.constraints\.minConfidence: Too big/],
    [
      { constraints: { cooldownSeconds: 2.5 } },
      /spec\.constraints\.cooldownSeconds: expected a whole number$/,
    ],
    [
      { constraints: { allowedActions: ["Restart Pod"] } },
      /spec\.constraints\.allowedActions\[0\]: an action name/,
    ],
    [{ approvalmode: "autonomous" }, /spec: Unrecognized key: "approvalmode"/],
    [{ llm: { provider: "anthropic-on-a-napkin" } }, /spec\.llm\.provider/],
    ["autonomous", /spec: Invalid input: expected object, received string/],
  ])("names the field when the spec is bad: %j", (spec, reason) => {
    const r = parseAutonomousAction(aa("bad", spec));
    expect(isInvalid(r) && r.invalid).toMatch(/^shop\/bad: /);
    expect(isInvalid(r) && r.invalid).toMatch(reason);
  });

  it("never throws, whatever it is given", () => {
    const junk: unknown[] = [
      null,
      undefined,
      42,
      [],
      "AutonomousAction",
      { kind: "AutonomousAction" },
      { kind: "AutonomousAction", metadata: { name: "" } },
      { kind: "AnomalyAction", metadata: { name: "x" } },
      { kind: "AutonomousAction", apiVersion: "aiops.prophet.io/v2", metadata: { name: "x" } },
      { kind: "AutonomousAction", metadata: { name: "x" }, spec: { trigger: null, constraints: [] } },
    ];
    const reasons = junk.map((j) => {
      const r = parseAutonomousAction(j);
      return isInvalid(r) ? r.invalid : "valid";
    });
    expect(reasons).toEqual([
      "not an AutonomousAction object",
      "not an AutonomousAction object",
      "not an AutonomousAction object",
      "not an AutonomousAction object",
      "not an AutonomousAction object",
      "metadata.name is missing",
      "metadata.name is missing",
      "kind is AnomalyAction, expected AutonomousAction",
      "apiVersion aiops.prophet.io/v2 is not aiops.prophet.io/v1alpha1",
      expect.stringMatching(/^default\/x: spec\.trigger: .*; spec\.constraints: /),
    ]);
  });
});

describe("parseAnomalyAction", () => {
  const an = (spec: unknown): unknown => ({
    apiVersion: "aiops.prophet.io/v1alpha1",
    kind: "AnomalyAction",
    metadata: { name: "cart-cpu", namespace: "shop" },
    spec,
  });

  it("gives a typed rule with the defaults: gt, for 2m, approval required, 600 s cooldown", () => {
    expect(
      parseAnomalyAction(an({ metric: "rate(x[5m])", threshold: 3, action: "restart", podSelector: {} })),
    ).toEqual({
      id: "shop/cart-cpu",
      namespace: "shop",
      source: "cluster",
      metric: "rate(x[5m])",
      threshold: 3,
      operator: "gt",
      for: "2m",
      action: "restart",
      podSelector: {},
      requireApproval: true,
      cooldownSeconds: 600,
    });
  });

  it.each([
    [{ threshold: 1, action: "alert" }, /spec\.metric: /],
    [{ metric: "up", threshold: "high", action: "alert" }, /spec\.threshold: .*number/],
    [{ metric: "up", threshold: 1, action: "alert", for: "two minutes" }, /spec\.for: a Prometheus duration/],
    [{ metric: "up", threshold: 1, action: "scale", podSelector: {} }, /spec\.scale: action scale needs/],
    [
      { metric: "up", threshold: 1, action: "restart" },
      /spec\.podSelector: action restart needs a podSelector/,
    ],
  ])("reports why a rule is unusable: %j", (spec, reason) => {
    const r = parseAnomalyAction(an(spec));
    expect(isInvalid(r) && r.invalid).toMatch(reason);
  });
});

describe("selectPolicy", () => {
  const wildcardAuto = policy(
    "everywhere",
    { trigger: { namespaces: ["*"] }, approvalMode: "autonomous" },
    "ops",
  );
  const shopHuman = policy("shop-human", { trigger: { namespaces: ["shop"] } });
  const shopDryRun = policy("shop-dry", { trigger: { namespaces: ["shop"] }, approvalMode: "dry-run" });
  const shopCrashAuto = policy("shop-crash", {
    trigger: { namespaces: ["shop"], findingReasons: ["CrashLoopBackOff"] },
    approvalMode: "autonomous",
  });
  const warningsOnly = policy("warnings", { trigger: { severities: ["Warning"] }, approvalMode: "dry-run" });

  it("prefers an explicit namespace over a wildcard, even a more permissive one", () => {
    expect(selectPolicy([wildcardAuto, shopHuman], crashInShop)?.id).toBe("shop/shop-human");
    expect(selectPolicy([wildcardAuto, shopHuman], { ...crashInShop, namespace: "web" })?.id).toBe(
      "ops/everywhere",
    );
  });

  it("on a tie takes the most restrictive mode: dry-run > human-in-loop > autonomous, in any order", () => {
    const tied = policy("shop-auto", { trigger: { namespaces: ["shop"] }, approvalMode: "autonomous" });
    for (const order of [
      [tied, shopHuman, shopDryRun],
      [shopDryRun, shopHuman, tied],
      [shopHuman, tied, shopDryRun],
    ])
      expect(selectPolicy(order, crashInShop)?.id).toBe("shop/shop-dry");
    expect(selectPolicy([tied, shopHuman], crashInShop)?.id).toBe("shop/shop-human");
  });

  it("prefers the policy that also names the finding reason, alert or severity", () => {
    expect(selectPolicy([shopDryRun, shopCrashAuto], crashInShop)?.id).toBe("shop/shop-crash");
    expect(
      selectPolicy([shopDryRun, shopCrashAuto], { ...crashInShop, findingReasons: ["OOMKilled"] })?.id,
    ).toBe("shop/shop-dry");
  });

  it("matches severities case-insensitively and requires every non-empty list to match", () => {
    expect(selectPolicy([warningsOnly], { ...crashInShop, severity: "warning" })?.id).toBe("shop/warnings");
    expect(selectPolicy([warningsOnly], crashInShop)).toBeUndefined();
  });

  it("is undefined when nothing matches: the incident is not opted in", () => {
    expect(
      selectPolicy([shopHuman, shopCrashAuto], { ...crashInShop, namespace: "payments" }),
    ).toBeUndefined();
    expect(selectPolicy([], crashInShop)).toBeUndefined();
  });
});

describe("resolvePolicy", () => {
  const empty: PolicySet = { policies: [], anomalyRules: [], objects: [] };

  it("uses the built-in default only when no AutonomousAction exists at all", () => {
    expect(resolvePolicy(empty, crashInShop)).toEqual(defaultPolicy());
    const onlyInvalid: PolicySet = {
      ...empty,
      objects: [{ kind: "AutonomousAction", id: "shop/bad", source: "file", invalid: "bad" }],
    };
    expect(resolvePolicy(onlyInvalid, crashInShop)).toBeUndefined();
    const onlyAnomaly: PolicySet = {
      ...empty,
      objects: [{ kind: "AnomalyAction", id: "shop/a", source: "file" }],
    };
    expect(resolvePolicy(onlyAnomaly, crashInShop)?.id).toBe("default");
  });
});

describe("loadPolicies from YAML files", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "prophet-policies-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads manifests/examples/: two policies and one anomaly rule, other kinds skipped", async () => {
    const set = await loadPolicies(examples);
    expect(set.objects.map((o) => [o.kind, o.id, o.invalid])).toEqual([
      ["AnomalyAction", "shop/cart-latency", undefined],
      ["AutonomousAction", "prophet-system/cluster-proposals", undefined],
      ["AutonomousAction", "shop/shop-autopilot", undefined],
    ]);
    expect(set.policies.map((p) => [p.id, p.source, p.approvalMode, p.allowedActions.length])).toEqual([
      ["prophet-system/cluster-proposals", "file", "human-in-loop", 1],
      ["shop/shop-autopilot", "file", "autonomous", 5],
    ]);
    expect(set.anomalyRules[0]).toMatchObject({ action: "restart", for: "5m", threshold: 0.5 });
    expect(selectPolicy(set.policies, crashInShop)?.id).toBe("shop/shop-autopilot");
    expect(selectPolicy(set.policies, { ...crashInShop, namespace: "web" })?.id).toBe(
      "prophet-system/cluster-proposals",
    );
  });

  it("reads multi-document files and Lists, reports invalid and duplicate objects with their file", async () => {
    const a = join(dir, "a.yaml");
    const b = join(dir, "b.yml");
    writeFileSync(
      a,
      [
        "apiVersion: aiops.prophet.io/v1alpha1\nkind: AutonomousAction\nmetadata: {name: p1, namespace: shop}\nspec: {approvalMode: dry-run}",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: unrelated}",
        "apiVersion: aiops.prophet.io/v1alpha1\nkind: AutonomousAction\nmetadata: {name: p2}\nspec: {approvalMode: maybe}",
      ].join("\n---\n"),
    );
    writeFileSync(
      b,
      "apiVersion: v1\nkind: List\nitems:\n" +
        "- {apiVersion: aiops.prophet.io/v1alpha1, kind: AutonomousAction, metadata: {name: p1, namespace: shop}, spec: {}}\n" +
        "- {apiVersion: aiops.prophet.io/v1alpha1, kind: AutonomousAction, metadata: {name: p3, namespace: web}, spec: {}}\n",
    );
    writeFileSync(join(dir, "notes.txt"), "not yaml: [");
    const set = await loadPolicies(dir);
    expect(set.policies.map((p) => [p.id, p.approvalMode])).toEqual([
      ["shop/p1", "dry-run"],
      ["web/p3", "human-in-loop"],
    ]);
    expect(set.objects.filter((o) => o.invalid).map((o) => o.invalid)).toEqual([
      expect.stringMatching(/^default\/p2: spec\.approvalMode: .*\(in .*a\.yaml#3\)$/),
      expect.stringMatching(/^shop\/p1: a second AutonomousAction .*\(in .*b\.yml#1\); the first is used$/),
    ]);
    const onlyB = await loadPolicies([b]);
    expect(onlyB.policies.map((p) => p.id)).toEqual(["shop/p1", "web/p3"]);
  });

  it("fails loudly on a missing path or broken YAML, naming the file", async () => {
    await expect(loadPolicies(join(dir, "missing"))).rejects.toMatchObject({
      code: "invalid_config",
      message: expect.stringContaining("missing cannot be read"),
    });
    const broken = join(dir, "broken.yaml");
    writeFileSync(broken, "kind: AutonomousAction\nspec: {approvalMode: [\n");
    await expect(loadPolicies([broken])).rejects.toMatchObject({
      code: "invalid_config",
      message: expect.stringContaining("broken.yaml#1"),
    });
  });
});

describe("policies in the sandbox cluster", () => {
  let env: ActionSandbox;
  const warnings: object[] = [];
  const log: Logger = { ...silentLogger, warn: (obj) => void warnings.push(obj) };

  beforeAll(async () => {
    env = await startActionSandbox();
  });
  afterAll(async () => {
    await env?.close();
  });

  function installCrds(): void {
    const { store } = env.sb.api;
    const rt = store.resource({ apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition" });
    for (const file of ["autonomousaction.yaml", "anomalyaction.yaml"]) {
      const [doc] = parseAllDocuments(readFileSync(join(root, "manifests/crds", file), "utf8"));
      store.create(rt, doc!.toJS() as Parameters<typeof store.create>[1]);
    }
  }

  it("loads nothing, without error, from a cluster that does not serve the CRDs", async () => {
    const set = await loadPolicies(env.port);
    expect(set).toEqual({ policies: [], anomalyRules: [], objects: [] });
    expect(resolvePolicy(set, crashInShop)?.id).toBe("default");
  });

  it("loads AutonomousActions from all namespaces, selects one, and writes its status back", async () => {
    installCrds();
    const port = env.port;
    await port.create!("Namespace", undefined, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "prophet-system" },
    } as KubeObject);
    const fromFiles = await loadPolicies(examples);
    for (const file of [
      "autonomousaction-shop.yaml",
      "autonomousaction-cluster.yaml",
      "anomalyaction-cart-latency.yaml",
    ]) {
      for (const doc of parseAllDocuments(readFileSync(join(examples, file), "utf8"))) {
        const obj = doc.toJS() as KubeObject;
        if (obj.kind === "Namespace") continue;
        await port.create!(obj.kind, obj.metadata.namespace, obj);
      }
    }
    await port.create!("AutonomousAction", "shop", aa("typo", { approvalMode: "autonomus" }));

    const set = await loadPolicies(port);
    expect(set.objects.map((o) => [o.kind, o.id, o.generation, o.invalid !== undefined])).toEqual([
      ["AutonomousAction", "prophet-system/cluster-proposals", 1, false],
      ["AutonomousAction", "shop/shop-autopilot", 1, false],
      ["AutonomousAction", "shop/typo", 1, true],
      ["AnomalyAction", "shop/cart-latency", 1, false],
    ]);
    expect(set.objects[2]!.invalid).toMatch(/^shop\/typo: spec\.approvalMode: /);
    // The same objects mean the same policies, whether read from files or from the cluster.
    expect(set.policies).toEqual(fromFiles.policies.map((p) => ({ ...p, source: "cluster" })));
    expect(set.anomalyRules).toEqual(fromFiles.anomalyRules.map((r) => ({ ...r, source: "cluster" })));

    const chosen = selectPolicy(set.policies, crashInShop)!;
    expect(chosen.id).toBe("shop/shop-autopilot");
    expect(resolvePolicy(set, { ...crashInShop, namespace: "web" })?.id).toBe(
      "prophet-system/cluster-proposals",
    );

    const written = await writePolicyStatus(port, chosen.id, {
      phase: "Remediating",
      lastDetected: "2025-01-01T00:00:00Z",
      remediationCount: 1,
      observedGeneration: 1,
      conditions: [{ type: "Ready", status: "True", reason: "Valid" }],
    });
    expect(written.ok).toBe(true);
    await writePolicyStatus(port, chosen.id, { phase: "Idle", lastRemediated: "2025-01-01T00:01:00Z" });
    const back = (await port.get("AutonomousAction", "shop", "shop-autopilot")) as KubeObject & {
      status?: unknown;
      spec?: unknown;
    };
    expect(back.status).toEqual({
      phase: "Idle",
      lastDetected: "2025-01-01T00:00:00Z",
      lastRemediated: "2025-01-01T00:01:00Z",
      remediationCount: 1,
      observedGeneration: 1,
      conditions: [{ type: "Ready", status: "True", reason: "Valid" }],
    });
    // The status subresource touches status only: spec and generation stay as they were.
    expect((back.metadata as { generation?: number }).generation).toBe(1);
    expect(parseAutonomousAction(back)).toEqual(chosen);

    const invalid = set.objects.find((o) => o.invalid)!;
    const marked = await writePolicyStatus(port, invalid.id, { phase: "Invalid", message: invalid.invalid });
    expect(marked.ok).toBe(true);
    const anomaly = await writePolicyStatus(
      port,
      "shop/cart-latency",
      { phase: "Active" },
      { kind: "AnomalyAction" },
    );
    expect(anomaly.ok && (anomaly.object as { status?: unknown }).status).toEqual({ phase: "Active" });
  });

  it("returns status write failures as values and logs them, never throws", async () => {
    warnings.length = 0;
    const missing = await writePolicyStatus(env.port, "shop/nope", { phase: "Idle" }, { log });
    expect(missing).toMatchObject({ ok: false, reason: expect.stringContaining("404") });
    expect(await writePolicyStatus(env.port, "default", { phase: "Idle" }, { log })).toEqual({
      ok: false,
      reason: 'default is not "namespace/name" (the default and file policies have no status)',
    });
    const readOnly: ClusterPort = {
      name: "snapshot",
      list: env.port.list.bind(env.port),
      get: env.port.get.bind(env.port),
      podLogs: env.port.podLogs.bind(env.port),
      events: env.port.events.bind(env.port),
    };
    expect(await writePolicyStatus(readOnly, "shop/shop-autopilot", { phase: "Idle" }, { log })).toEqual({
      ok: false,
      reason: "cluster snapshot is read-only",
    });
    const throwing: ClusterPort = {
      ...readOnly,
      patch: () => Promise.reject(new TypeError("socket hang up")),
    };
    expect(await writePolicyStatus(throwing, "shop/shop-autopilot", { phase: "Idle" })).toEqual({
      ok: false,
      reason: "socket hang up",
    });
    expect(warnings.map((w) => (w as { policyId: string }).policyId)).toEqual([
      "shop/nope",
      "default",
      "shop/shop-autopilot",
    ]);
  });
});
