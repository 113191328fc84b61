// Sandbox alert → incident → diagnosis → decision → gate → action → assessment, on real parts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshPostgresUrl } from "../support/stores.js";
import { startPipeline, type Pipeline } from "./pipeline-harness.js";

describe("a bad rollout is rolled back autonomously", () => {
  let p: Pipeline;
  beforeAll(async () => {
    const url = await freshPostgresUrl();
    p = await startPipeline({ seed: 11, ...(url ? { databaseUrl: url } : {}) });
  });
  afterAll(async () => {
    await p?.close();
  });

  it("detects, rolls back, recovers and scores the action", async () => {
    p.sb.inject({ kind: "bad-image", target: "shop/cart" });
    const took = await p.advanceUntil(900, async () =>
      (await p.remediations()).some((r) => r.status === "executed" || r.status === "failed"),
    );
    const rems = await p.remediations();
    console.log(
      took,
      JSON.stringify(
        rems.map((r) => [r.status, r.action, r.reason, r.gate.detail, r.decision.rootCause]),
        null,
        1,
      ),
    );
    expect(took).toBeDefined();
    const done = rems.find((r) => r.status === "executed")!;
    expect(done.action).toBe("rollback_deployment");
    await p.advance(240);
    const after = (await p.remediations()).find((r) => r.id === done.id)!;
    expect(after.score).toBeGreaterThan(0.5);
    expect(after.assessment).toMatchObject({ drift: "none", health: 1, alertResolved: 1 });
    expect(after.result?.verify).toMatchObject({ ok: true });
    const image = (
      (await p.host.deps.kube!.get("Deployment", "shop", "cart"))!.spec as {
        template: { spec: { containers: { image: string }[] } };
      }
    ).template.spec.containers[0]!.image;
    expect(image).not.toContain("does-not-exist");
    // The audit chain holds every step and still verifies.
    const audit = await p.host.deps.store.query<{ action: string }>(
      "SELECT action FROM audit_log WHERE details->>'remediationId' = $1 ORDER BY seq",
      [done.id],
    );
    expect(audit.rows.map((r) => r.action)).toEqual([
      "remediation.decided",
      "remediation.gated",
      "remediation.executed",
      ...(audit.rows.some((r) => r.action === "remediation.verified") ? ["remediation.verified"] : []),
      "remediation.assessed",
    ]);
    const verify = (await (await fetch(`${p.host.url}/api/audit/verify`)).json()) as { ok: boolean };
    expect(verify.ok).toBe(true);
  });
});

describe("a crash-looping rollout is rolled back and the restarts stop", () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline({ seed: 12 });
  });
  afterAll(async () => {
    await p?.close();
  });

  it("scores the metric part from the sandbox's Prometheus API: restarts before, none after", async () => {
    p.sb.inject({ kind: "crash-loop", target: "shop/catalog" });
    const took = await p.advanceUntil(900, async () =>
      (await p.remediations()).some((r) => r.status === "executed" && r.action === "rollback_deployment"),
    );
    expect(took).toBeDefined();
    const done = (await p.remediations()).find((r) => r.status === "executed")!;
    await p.advance(240);
    const after = (await p.remediations()).find((r) => r.id === done.id)!;
    expect(after.assessment).toMatchObject({ metricImprovement: 1, health: 1 });
    expect((after.assessment as { notes: string[] }).notes.join()).toMatch(
      /restarts in \d+ s: [1-9]\d* before, 0 after/,
    );
  });
});
