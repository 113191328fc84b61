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
    console.log(after.score, after.assessment);
    expect(after.score).toBeGreaterThan(0.5);
  });
});
