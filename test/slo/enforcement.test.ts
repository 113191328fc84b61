// slo-check's own enforcement on the sandbox: the chaos trigger while the budget is healthy, the
// deploy freeze while it is spent (annotation on the namespace, audited) and its release once the
// budget is back above the threshold; SLOs from files (PROPHET_SLO_FILES) beside the cluster's;
// the budget and time-to-exhaustion gauges on the host's /metrics.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { KubeObject } from "../../shared/diagnosis/objects.js";
import { FREEZE_ANNOTATION_PREFIX } from "../../shared/slo/check.js";
import { listSloStates } from "../../shared/slo/state.js";
import { listIncidents } from "../../shared/store/incidents.js";
import { autonomousPolicy, startPipeline, type Pipeline } from "../remediation/pipeline-harness.js";

let p: Pipeline;
const dir = mkdtempSync(join(tmpdir(), "prophet-slo-files-"));
const freezeKey = `${FREEZE_ANNOTATION_PREFIX}frontend-availability`;

const slothFile = `version: prometheus/v1
service: checkout
slos:
  - name: requests-availability
    objective: 99.5
    sli:
      events:
        error_query: sum(rate(http_requests_total{namespace="payments",service="checkout",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{namespace="payments",service="checkout"}[{{.window}}]))
    alerting:
      name: CheckoutAvailability
`;

const podChaosCrd: KubeObject = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "podchaos.chaos-mesh.org" },
  spec: {
    group: "chaos-mesh.org",
    scope: "Namespaced",
    names: { plural: "podchaos", singular: "podchaos", kind: "PodChaos", listKind: "PodChaosList" },
    versions: [
      {
        name: "v1alpha1",
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
      },
    ],
  },
};

beforeAll(async () => {
  writeFileSync(join(dir, "checkout.yml"), slothFile);
  p = await startPipeline({
    seed: 5,
    policies: [autonomousPolicy()],
    ticks: ["remediation-assess", "slo-check"],
    env: { PROPHET_SLO_FILES: join(dir, "checkout.yml") },
  });
  const kube = p.host.deps.kube!;
  const crd = parse(readFileSync(new URL("../../manifests/crds/sloviolation.yaml", import.meta.url), "utf8"));
  await kube.create!("CustomResourceDefinition", undefined, crd as KubeObject);
  await kube.create!("CustomResourceDefinition", undefined, podChaosCrd);
  await kube.create!("SLOViolation", "shop", {
    apiVersion: "aiops.prophet.io/v1alpha1",
    kind: "SLOViolation",
    metadata: { name: "frontend-availability", namespace: "shop" },
    spec: {
      service: "frontend",
      sloName: "availability",
      sloTarget: 99.9,
      sli: {
        errorQuery:
          'sum(rate(http_requests_total{namespace="shop",service="frontend",code="500"}[{{.window}}]))',
        totalQuery: 'sum(rate(http_requests_total{namespace="shop",service="frontend"}[{{.window}}]))',
      },
      errorBudgetThreshold: 20,
      actions: ["alert", "freeze"],
      targetRef: { kind: "Deployment", name: "frontend" },
      enableChaos: true,
    },
  });
}, 60_000);
afterAll(async () => {
  await p?.close();
  rmSync(dir, { recursive: true, force: true });
});

const audit = async (action: string) =>
  (
    await p.host.deps.store.query<{ subject: string; details: Record<string, unknown> }>(
      "SELECT subject, details FROM audit_log WHERE action = $1 ORDER BY seq",
      [action],
    )
  ).rows;
const annotations = async () =>
  (await p.host.deps.kube!.get("Namespace", undefined, "shop"))?.metadata.annotations ?? {};

describe("slo-check enforcement", () => {
  it(
    "evaluates the file's SLO and the cluster's, and exports their budgets on /metrics",
    { timeout: 120_000 },
    async () => {
      await p.advance(300);
      const ids = (await listSloStates(p.host.deps.store)).map((s) => s.sloId).sort();
      expect(ids).toEqual(["checkout-requests-availability", "frontend-availability"]);
      const text = await (await fetch(`${p.host.url}/metrics`)).text();
      const line = text
        .split("\n")
        .find(
          (l) =>
            l.startsWith("prophet_slo_error_budget_remaining_ratio{") &&
            l.includes('sloth_id="frontend-availability"'),
        );
      expect(line).toMatch(/sloth_service="frontend",sloth_slo="availability"\} 0\.[5-9]/);
    },
  );

  it(
    "with a healthy budget, kills one pod through Chaos Mesh — once a day",
    { timeout: 120_000 },
    async () => {
      const chaos = await p.host.deps.kube!.list("PodChaos", "shop");
      expect(chaos).toHaveLength(1);
      expect(chaos[0]!.spec).toMatchObject({
        action: "pod-kill",
        mode: "one",
        selector: { namespaces: ["shop"], labelSelectors: { app: "frontend" } },
      });
      expect(await audit("slo.chaos")).toHaveLength(1);
      await p.advance(600);
      expect(await p.host.deps.kube!.list("PodChaos", "shop")).toHaveLength(1);
    },
  );

  it(
    "freezes deploys to the namespace while the budget is spent, and says why",
    { timeout: 120_000 },
    async () => {
      p.sb.inject({ kind: "bad-rollout", target: "shop/frontend" });
      const took = await p.advanceUntil(3600, async () => freezeKey in (await annotations()));
      expect(took, "frozen").toBeDefined();
      expect((await annotations())[freezeKey]).toMatch(/error budget of SLO frontend-availability exhausted/);
      const frozen = await audit("slo.freeze");
      expect(frozen.map((r) => r.subject)).toEqual(["Namespace/shop"]);
      const s = (await listSloStates(p.host.deps.store)).find((x) => x.sloId === "frontend-availability")!;
      expect(s.evaluation!.budgetRemaining!).toBeLessThanOrEqual(0);
      expect(s.frozen).toEqual([{ kind: "Namespace", namespace: "", name: "shop" }]);
    },
  );

  it(
    "lifts the freeze only once the budget is back above the threshold (no flapping)",
    { timeout: 240_000 },
    async () => {
      // The cause goes away (the fault's image is no longer bad); the budget recovers as the burn
      // leaves the window. While it is between 0 and the threshold the freeze stays.
      const fault = p.sb.faults().find((f) => f.kind === "bad-rollout")!;
      p.sb.revert(fault.id);
      let sawBetween = false;
      const took = await p.advanceUntil(12 * 3600, async () => {
        const s = (await listSloStates(p.host.deps.store)).find((x) => x.sloId === "frontend-availability")!;
        const b = s.evaluation?.budgetRemaining ?? -1;
        const frozen = freezeKey in (await annotations());
        if (b > 0 && b <= 0.2) {
          sawBetween = true;
          expect(frozen).toBe(true);
        }
        return !frozen;
      });
      expect(took, "unfrozen").toBeDefined();
      expect(sawBetween).toBe(true);
      expect((await audit("slo.unfreeze")).map((r) => r.subject)).toEqual(["Namespace/shop"]);
      expect((await audit("slo.freeze")).length).toBe(1);
    },
  );
});

describe("removing an SLO", () => {
  it("resolves its alerts, lifts its freeze and forgets it", { timeout: 240_000 }, async () => {
    p.sb.inject({ kind: "bad-rollout", target: "shop/frontend" });
    expect(await p.advanceUntil(3600, async () => freezeKey in (await annotations()))).toBeDefined();
    const firing = async () =>
      (await listIncidents(p.host.deps.store, { status: "firing" })).filter(
        (i) => i.labels.sloth_id === "frontend-availability",
      );
    expect((await firing()).length).toBeGreaterThan(0);
    await p.host.deps.kube!.delete!("SLOViolation", "shop", "frontend-availability");
    await p.advance(120);
    expect(freezeKey in (await annotations())).toBe(false);
    expect(await firing()).toEqual([]);
    const ids = (await listSloStates(p.host.deps.store)).map((x) => x.sloId);
    expect(ids).toEqual(["checkout-requests-availability"]);
    expect((await audit("slo.removed")).map((r) => r.subject)).toEqual(["frontend-availability"]);
  });
});

describe("the deploy-freeze admission policy", () => {
  it("matches the annotation slo-check writes and exempts Prophet's own rollbacks", () => {
    const docs = readFileSync(new URL("../../manifests/policies/deploy-freeze.yaml", import.meta.url), "utf8")
      .split(/^---$/m)
      .map((d) => parse(d) as { kind: string; spec: Record<string, unknown> });
    expect(docs.map((d) => d.kind)).toEqual([
      "ValidatingAdmissionPolicy",
      "ValidatingAdmissionPolicyBinding",
    ]);
    const text = JSON.stringify(docs[0]!.spec);
    expect(text).toContain(`k.startsWith('${FREEZE_ANNOTATION_PREFIX}')`);
    expect(text).toContain("system:serviceaccount:prophet:prophet");
  });
});
