// Least privilege, derived: the Kubernetes calls each function's code makes (scanned from its
// runtime imports) and the actions it runs (from the action registry) must each be allowed by its
// generated ClusterRole; diagnosis-only functions get no write verb at all.
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { functions } from "../../functions/registry.js";
import { knativeDocuments } from "../../infra/build/manifests.js";
import { clusterCalls, runtimeModules, verbOf, type ClusterCall } from "../../infra/knative/access-scan.js";
import { allows, dynamicKinds, functionAccess, rulesOf, type PolicyRule } from "../../infra/knative/rbac.js";
import { actions } from "../../shared/remediation/actions/index.js";

const actionDir = "shared/remediation/actions/";
const isWrite = (c: ClusterCall) => ["patch", "create", "delete", "evict"].includes(c.method);

/** Kinds a call can touch: its literal kind, an action's targets for `t.kind`, or the declared list. */
function kindsOf(c: ClusterCall, targetKinds: readonly string[] = []): readonly string[] | undefined {
  if (c.kind) return [c.kind];
  if (c.file.startsWith(actionDir) && c.kindExpr === "t.kind") return targetKinds;
  return dynamicKinds[`${c.file} ${c.method}(${c.kindExpr})`];
}

function uncovered(rules: PolicyRule[], calls: ClusterCall[], targetKinds?: readonly string[]): string[] {
  const missing: string[] = [];
  for (const c of calls) {
    const ks = kindsOf(c, targetKinds);
    if (!ks) {
      missing.push(
        `${c.file}:${c.line} ${c.method}(${c.kindExpr}): kind unknown, declare it in dynamicKinds`,
      );
      continue;
    }
    for (const k of ks)
      if (!allows(rules, verbOf(c), k, c.subresource))
        missing.push(`${c.file}:${c.line} ${verbOf(c)} ${k}${c.subresource ? `/${c.subresource}` : ""}`);
  }
  return missing;
}

function roleOf(fn: string): PolicyRule[] {
  const role = knativeDocuments().find((d) => d.kind === "ClusterRole" && metaName(d) === `prophet-${fn}`);
  return ((role?.rules as PolicyRule[] | undefined) ?? []).map((r) => ({ ...r }));
}
const metaName = (d: Record<string, unknown>) => (d.metadata as { name: string }).name;

describe("RBAC per function", () => {
  it("every function has an access declaration", () => {
    expect(Object.keys(functionAccess).sort()).toEqual(functions.map((f) => f.name).sort());
  });

  for (const fn of functions) {
    it(`${fn.name}: its ClusterRole allows every Kubernetes call its code makes`, () => {
      const access = functionAccess[fn.name]!;
      const rules = roleOf(fn.name);
      expect(rules).toEqual(rulesOf(access.grants));
      const calls = runtimeModules(`functions/${fn.name}/index.ts`).flatMap(clusterCalls);
      // Action code runs only through the action registry, checked per action below.
      expect(
        uncovered(
          rules,
          calls.filter((c) => !c.file.startsWith(actionDir)),
        ),
      ).toEqual([]);
    });
  }

  it("llm-remediation's role allows everything every registered action reads and writes", () => {
    const rules = roleOf("llm-remediation");
    expect(functionAccess["llm-remediation"]!.executes).toEqual(actions.map((a) => a.name));
    const files = readdirSync(actionDir).map((f) => actionDir + f);
    for (const action of actions) {
      const own = files.find((f) => f.endsWith(`/${action.name.replace(/_/g, "-")}.ts`));
      expect(own, `the file of action ${action.name}`).toBeDefined();
      const calls = runtimeModules(own!)
        .filter((f) => f.startsWith(actionDir))
        .flatMap(clusterCalls);
      expect(uncovered(rules, calls, action.targetKinds), action.name).toEqual([]);
      // And at least read access to every kind the registry says the action targets.
      for (const k of action.targetKinds.filter((t) => t !== "*"))
        expect(allows(rules, "get", k), `${action.name} get ${k}`).toBe(true);
    }
  });

  it("functions that only verify actions may read what verify reads, and write nothing of it", () => {
    for (const [fn, access] of Object.entries(functionAccess)) {
      if (!access.verifiesActions || access.executes) continue;
      const rules = roleOf(fn);
      for (const action of actions) {
        const own = `${actionDir}${action.name.replace(/_/g, "-")}.ts`;
        const reads = runtimeModules(own)
          .filter((f) => f.startsWith(actionDir))
          .flatMap(clusterCalls)
          .filter((c) => !isWrite(c));
        expect(uncovered(rules, reads, action.targetKinds), `${fn} verifying ${action.name}`).toEqual([]);
      }
    }
  });

  it("hubble-quarantine may undo quarantine_pod (its release of expired quarantines)", () => {
    const rules = roleOf("hubble-quarantine");
    const calls = runtimeModules(`${actionDir}quarantine-pod.ts`)
      .filter((f) => f.startsWith(actionDir))
      .flatMap(clusterCalls);
    expect(uncovered(rules, calls, ["Pod"])).toEqual([]);
    expect(allows(rules, "create", "CiliumClusterwideNetworkPolicy")).toBe(true);
  });

  it("diagnosis reads only; store-only functions get no role and no token", () => {
    for (const r of roleOf("alert-diagnosis"))
      expect(r.verbs.every((v) => ["get", "list", "watch"].includes(v))).toBe(true);
    for (const fn of ["alert-intake", "audit-verify", "incident-notify"]) {
      expect(roleOf(fn)).toEqual([]);
      const sa = knativeDocuments().find(
        (d) => d.kind === "ServiceAccount" && metaName(d) === `prophet-${fn}`,
      );
      expect(sa?.automountServiceAccountToken).toBe(false);
    }
  });

  it("no rule anywhere grants a wildcard, secrets write, or RBAC/escalation verbs", () => {
    for (const d of knativeDocuments().filter((x) => x.kind === "ClusterRole")) {
      for (const r of d.rules as PolicyRule[]) {
        expect(r.verbs).not.toContain("*");
        expect(r.resources).not.toContain("*");
        expect(r.apiGroups).not.toContain("*");
        expect(r.apiGroups).not.toContain("rbac.authorization.k8s.io");
        expect(r.verbs.some((v) => ["escalate", "bind", "impersonate"].includes(v))).toBe(false);
        if (r.resources.includes("secrets"))
          expect(
            r.verbs.every((v) => ["get", "list", "watch"].includes(v)),
            metaName(d),
          ).toBe(true);
      }
    }
  });

  it("a call the rules do not cover is reported (the check can fail)", () => {
    const rules = rulesOf([{ kinds: ["Pod"], verbs: ["get"] }]);
    const call: ClusterCall = { file: "x.ts", line: 1, method: "delete", kind: "Pod", kindExpr: '"Pod"' };
    expect(uncovered(rules, [call])).toEqual(["x.ts:1 delete Pod"]);
    const dyn: ClusterCall = { file: "x.ts", line: 2, method: "get", kindExpr: "someKind" };
    expect(uncovered(rules, [dyn])[0]).toMatch(/declare it in dynamicKinds/);
  });
});
