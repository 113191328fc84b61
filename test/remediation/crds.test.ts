// The CRDs in manifests/crds/ are well-formed, the examples in manifests/examples/ conform to them,
// the CRD defaults are the ones policy-source.ts applies, and kubectl installs both on the sandbox.
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actionNamed } from "../../shared/remediation/actions/index.js";
import {
  anomalyActionSpecSchema,
  autonomousActionSpecSchema,
} from "../../shared/remediation/policy-source.js";
import { requireKubectl } from "../sandbox/apiserver-harness.js";
import { schemaProblems, validate, type Schema } from "./openapi-subset.js";
import { startActionSandbox, type ActionSandbox } from "./support.js";

const crdDir = join(import.meta.dirname, "../../manifests/crds");
const exampleDir = join(import.meta.dirname, "../../manifests/examples");

interface Crd {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: { plural: string; singular: string; kind: string; listKind: string; shortNames?: string[] };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources?: { status?: object };
      additionalPrinterColumns?: { name: string; type: string; jsonPath: string }[];
      schema: { openAPIV3Schema: Schema };
    }[];
  };
}

function yamlDocs(dir: string): { file: string; doc: Record<string, unknown> }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(dir, file), "utf8")).map((d) => {
        expect(d.errors, file).toEqual([]);
        return { file, doc: d.toJS() as Record<string, unknown> };
      }),
    );
}

const crds = yamlDocs(crdDir).map(({ file, doc }) => ({ file, crd: doc as unknown as Crd }));
const schemaOf = (kind: string) =>
  crds.find((c) => c.crd.spec.names.kind === kind)!.crd.spec.versions[0]!.schema.openAPIV3Schema;

/** The object a structural-schema API server would default an absent value to. */
function defaults(schema: Schema): unknown {
  if (schema.type !== "object" || !schema.properties) return schema.default;
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(schema.properties)) {
    const d = s.type === "object" && s.default !== undefined ? defaults(s) : s.default;
    if (d !== undefined) out[k] = d;
  }
  return out;
}

describe("the CRDs", () => {
  it("are one file per kind: AutonomousAction, AnomalyAction, PredictiveScale, SLOViolation", () => {
    expect(crds.map((c) => c.crd.spec.names.kind).sort()).toEqual([
      "AnomalyAction",
      "AutonomousAction",
      "PredictiveScale",
      "SLOViolation",
    ]);
    expect(new Set(crds.map((c) => c.file)).size).toBe(crds.length);
  });

  it.each(crds.map((c) => [c.crd.spec.names.kind, c.crd] as const))(
    "%s is a structurally valid, namespaced v1alpha1 CRD with status, printer columns and short names",
    (_kind, crd) => {
      expect(crd.apiVersion).toBe("apiextensions.k8s.io/v1");
      expect(crd.kind).toBe("CustomResourceDefinition");
      const { group, scope, names, versions } = crd.spec;
      expect(group).toBe("aiops.prophet.io");
      expect(crd.metadata.name).toBe(`${names.plural}.${group}`);
      expect(scope).toBe("Namespaced");
      expect(names.singular).toBe(names.kind.toLowerCase());
      expect(names.listKind).toBe(`${names.kind}List`);
      expect(names.shortNames?.length).toBeGreaterThan(0);
      expect(versions.filter((v) => v.storage)).toHaveLength(1);
      expect(versions.map((v) => [v.name, v.served])).toEqual([["v1alpha1", true]]);
      const v = versions[0]!;
      expect(v.subresources?.status).toEqual({});
      const columns = v.additionalPrinterColumns ?? [];
      expect(columns[0]).toMatchObject({ name: "Phase", jsonPath: ".status.phase" });
      expect(columns.at(-1)).toEqual({ name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" });
      for (const c of columns) expect(c.jsonPath).toMatch(/^\.(spec|status|metadata)\./);
      expect(schemaProblems(v.schema.openAPIV3Schema)).toEqual([]);
      const status = v.schema.openAPIV3Schema.properties?.status?.properties ?? {};
      expect(Object.keys(status)).toEqual(
        expect.arrayContaining(["phase", "message", "conditions", "observedGeneration"]),
      );
    },
  );

  it("give AutonomousAction and AnomalyAction the defaults policy-source.ts applies", () => {
    const aa = schemaOf("AutonomousAction").properties!.spec!;
    const parsed = autonomousActionSpecSchema.parse({});
    expect(defaults(aa)).toEqual({
      approvalMode: parsed.approvalMode,
      context: parsed.context,
      constraints: {
        cooldownSeconds: parsed.constraints.cooldownSeconds,
        maxConcurrent: parsed.constraints.maxConcurrent,
        minConfidence: parsed.constraints.minConfidence,
        approvalTtlSeconds: parsed.constraints.approvalTtlSeconds,
      },
    });
    expect(parsed).toMatchObject({
      approvalMode: "human-in-loop",
      constraints: { cooldownSeconds: 300, maxConcurrent: 3, minConfidence: 0.8, approvalTtlSeconds: 3600 },
    });

    const an = schemaOf("AnomalyAction").properties!.spec!;
    const rule = anomalyActionSpecSchema.parse({ metric: "up", threshold: 1, action: "alert" });
    expect(defaults(an)).toEqual({
      operator: rule.operator,
      for: rule.for,
      requireApproval: rule.requireApproval,
      cooldownSeconds: rule.cooldownSeconds,
    });
    expect(rule).toMatchObject({ operator: "gt", for: "2m", requireApproval: true, cooldownSeconds: 600 });
  });

  it("reject what the zod schemas reject: a bad approval mode, a negative cooldown, an unknown field", () => {
    const spec = schemaOf("AutonomousAction").properties!.spec!;
    expect(validate(spec, { approvalMode: "yolo" }, "spec")).toEqual([
      'spec.approvalMode: "yolo" is not one of ["autonomous","human-in-loop","dry-run"]',
    ]);
    expect(validate(spec, { constraints: { cooldownSeconds: -1 } }, "spec")).toEqual([
      "spec.constraints.cooldownSeconds: below the minimum 0",
    ]);
    expect(validate(spec, { approvalmode: "autonomous" }, "spec")).toEqual([
      "spec.approvalmode: unknown field",
    ]);
  });
});

describe("the examples", () => {
  const examples = yamlDocs(exampleDir).filter(({ doc }) => doc.apiVersion === "aiops.prophet.io/v1alpha1");

  it("are two AutonomousActions (autonomous for shop, human-in-loop cluster-wide), an AnomalyAction, a PredictiveScale and an SLOViolation", () => {
    const summary = examples.map(({ doc }) => {
      const spec = doc.spec as {
        approvalMode?: string;
        trigger?: { namespaces?: string[] };
        action?: string;
      };
      return [doc.kind, spec.approvalMode ?? spec.action, spec.trigger?.namespaces];
    });
    expect(summary).toEqual([
      ["AnomalyAction", "restart", undefined],
      ["AutonomousAction", "human-in-loop", ["*"]],
      ["AutonomousAction", "autonomous", ["shop"]],
      ["PredictiveScale", "provision", undefined],
      ["SLOViolation", undefined, undefined],
    ]);
  });

  it("name only actions the registry knows", () => {
    const named = examples.flatMap(({ doc }) => {
      const c = (doc.spec as { constraints?: { allowedActions?: string[]; requireApprovalFor?: string[] } })
        .constraints;
      return [...(c?.allowedActions ?? []), ...(c?.requireApprovalFor ?? [])].filter((n) => n !== "*");
    });
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((n) => !actionNamed(n))).toEqual([]);
  });

  it.each(examples.map(({ file, doc }) => [file, doc] as const))(
    "%s conforms to its CRD schema",
    (_f, doc) => {
      const schema = schemaOf(doc.kind as string);
      expect(validate(schema, doc)).toEqual([]);
    },
  );
});

const kubectlPath = requireKubectl();

describe.skipIf(!kubectlPath)("kubectl apply on the sandbox", () => {
  let env: ActionSandbox;
  let cacheDir: string;

  const kubectl = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        kubectlPath!,
        ["--kubeconfig", env.sb.kubeconfigPath, "--cache-dir", cacheDir, ...args],
        { timeout: 20_000 },
        (err, stdout, stderr) =>
          resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
      ),
    );

  beforeAll(async () => {
    env = await startActionSandbox();
    cacheDir = mkdtempSync(join(tmpdir(), "prophet-crds-kubectl-"));
  });
  afterAll(async () => {
    await env?.close();
    if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
  });

  it("installs the CRDs, then the examples, and lists them with the printer columns", async () => {
    const crdsApplied = await kubectl(["apply", "-f", crdDir]);
    expect(crdsApplied.stderr).toBe("");
    expect(crdsApplied.stdout.trim().split("\n").sort()).toEqual([
      "customresourcedefinition.apiextensions.k8s.io/anomalyactions.aiops.prophet.io created",
      "customresourcedefinition.apiextensions.k8s.io/autonomousactions.aiops.prophet.io created",
      "customresourcedefinition.apiextensions.k8s.io/predictivescales.aiops.prophet.io created",
      "customresourcedefinition.apiextensions.k8s.io/sloviolations.aiops.prophet.io created",
    ]);

    const examplesApplied = await kubectl(["apply", "-f", exampleDir]);
    expect(examplesApplied.stderr).toBe("");
    expect(examplesApplied.stdout).toContain("autonomousaction.aiops.prophet.io/shop-autopilot created");
    expect(examplesApplied.stdout).toContain("autonomousaction.aiops.prophet.io/cluster-proposals created");
    expect(examplesApplied.stdout).toContain("anomalyaction.aiops.prophet.io/cart-latency created");

    const listed = await kubectl(["get", "autonomousactions", "-A"]);
    expect(listed.code).toBe(0);
    const [header, ...rows] = listed.stdout
      .trim()
      .split("\n")
      .map((l) => l.trim().split(/\s+/));
    expect(header).toEqual(["NAMESPACE", "NAME", "PHASE", "MODE", "REMEDIATIONS", "AGE"]);
    expect(rows.map((r) => [r[0], r[1], r[3]])).toEqual([
      ["prophet-system", "cluster-proposals", "human-in-loop"],
      ["shop", "shop-autopilot", "autonomous"],
    ]);

    const short = await kubectl(["get", "aa", "-n", "shop", "-o", "jsonpath={.items[*].metadata.name}"]);
    expect(short.stdout).toBe("shop-autopilot");
    const anomalies = await kubectl(["get", "anoma", "-A", "--no-headers"]);
    expect(anomalies.stdout).toMatch(/^shop\s+cart-latency\s+<none>\s+restart\s+<none>\s+\S+\n$/);

    // Applying again changes nothing: the manifests are idempotent, as kubectl apply expects.
    const again = await kubectl(["apply", "-f", crdDir, "-f", exampleDir]);
    expect(again.stdout).not.toMatch(/created|configured/);
    expect(again.stdout).toContain("autonomousaction.aiops.prophet.io/shop-autopilot unchanged");
  });
});
