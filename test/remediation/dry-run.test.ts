// Policies read from the cluster: an AutonomousAction in dry-run mode makes the pipeline record
// what it would do, change nothing, and report on the object's status.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { llmRemediation } from "../../functions/llm-remediation/index.js";
import type { KubeObject } from "../../shared/diagnosis/objects.js";
import type { ProphetEvent } from "../../shared/events/envelope.js";
import type { Deps } from "../../shared/function.js";
import { silentLogger } from "../../shared/ports/log.js";
import { getRemediation } from "../../shared/remediation/store.js";
import { freshPgliteStore } from "../support/stores.js";
import { diagnosisFor } from "./support-events.js";
import { startActionSandbox, type ActionSandbox } from "./support.js";

let s: ActionSandbox;
let deps: Deps;
let cleanup: () => Promise<void> = async () => {};

beforeAll(async () => {
  s = await startActionSandbox({ seed: 4 });
  const crd = parse(
    readFileSync(new URL("../../manifests/crds/autonomousaction.yaml", import.meta.url), "utf8"),
  ) as KubeObject;
  await s.port.create!("CustomResourceDefinition", undefined, crd);
  await s.port.create!("AutonomousAction", "shop", {
    apiVersion: "aiops.prophet.io/v1alpha1",
    kind: "AutonomousAction",
    metadata: { name: "shop-dry-run", namespace: "shop" },
    spec: {
      trigger: { namespaces: ["shop"] },
      approvalMode: "dry-run",
      constraints: { allowedActions: ["*"] },
    },
  });
  s.sb.inject({ kind: "bad-image", target: "shop/cart" });
  s.advance(120);
  const lite = await freshPgliteStore();
  cleanup = lite.cleanup;
  deps = {
    store: lite.store,
    clock: s.sb.clock,
    log: silentLogger,
    cluster: "test",
    kube: s.port,
    remediation: { defaultMode: "autonomous", stabilizationSeconds: 120 },
  };
});
afterAll(async () => {
  await cleanup();
  await s?.close();
});

describe("dry-run from an AutonomousAction in the cluster", () => {
  it("records the rollback it would do, executes nothing, and writes the policy's status", async () => {
    const image = async () =>
      (
        (await s.port.get("Deployment", "shop", "cart"))!.spec as {
          template: { spec: { containers: { image: string }[] } };
        }
      ).template.spec.containers[0]!.image;
    const before = await image();
    const pod = (await s.port.list("Pod", "shop")).find(
      (p) => p.metadata.name.startsWith("cart-") && (p.status as { phase?: string }).phase === "Pending",
    )!;
    const diag = await diagnosisFor(deps, {
      alertname: "KubePodNotReady",
      namespace: "shop",
      pod: pod.metadata.name,
    });
    const out = await llmRemediation.handle(diag as ProphetEvent, deps);
    expect(out.map((e) => e.type)).toEqual(["io.prophet.remediation.proposed"]);
    const data = out[0]!.data as { remediationId: string; status: string; detail: string; policy: string };
    expect(data).toMatchObject({ status: "dry_run", policy: "shop/shop-dry-run" });
    expect(data.detail).toContain("would run rollback_deployment");
    expect(await image()).toBe(before);
    expect(await getRemediation(deps.store, data.remediationId)).toMatchObject({
      status: "dry_run",
      mode: "dry-run",
      executedAt: null,
    });
    const policy = await s.port.get("AutonomousAction", "shop", "shop-dry-run");
    expect(policy?.status).toMatchObject({ phase: "Detected", remediationCount: 0 });
  });
});
