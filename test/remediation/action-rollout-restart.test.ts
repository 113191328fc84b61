import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rolloutRestart } from "../../shared/remediation/actions/rollout-restart.js";
import { startActionSandbox, type ActionSandbox } from "./support.js";

describe("rollout_restart on the sandbox", () => {
  let s: ActionSandbox;
  beforeAll(async () => {
    s = await startActionSandbox();
  });
  afterAll(async () => {
    await s?.close();
  });

  it("refuses a missing target, a kind it does not restart, a paused or empty Deployment", async () => {
    expect(rolloutRestart.params.safeParse({ force: true }).success).toBe(false);
    expect(
      await rolloutRestart.check(s.ctx, { kind: "Deployment", namespace: "shop", name: "nope" }, {}),
    ).toMatchObject({
      ok: false,
      failure: "target_missing",
    });
    expect(
      await rolloutRestart.check(s.ctx, { kind: "CronJob", namespace: "shop", name: "report-generator" }, {}),
    ).toMatchObject({
      ok: false,
      failure: "target_missing",
    });
    await s.port.patch!("Deployment", "shop", "recommender", { spec: { paused: true } });
    expect(
      await rolloutRestart.check(s.ctx, { kind: "Deployment", namespace: "shop", name: "recommender" }, {}),
    ).toMatchObject({
      ok: false,
      failure: "precondition",
    });
  });

  it("replaces every catalog pod and verifies when the rollout is complete", async () => {
    const t = { kind: "Deployment", namespace: "shop", name: "catalog" };
    const names = async () =>
      (await s.port.list("Pod", "shop"))
        .filter((p) => p.metadata.labels?.app === "catalog")
        .map((p) => p.metadata.name);
    const before = await names();
    const result = await rolloutRestart.execute(s.ctx, t, {});
    expect(result.specHashBefore).not.toBe(result.specHashAfter);
    expect(rolloutRestart.undo).toBeUndefined();
    expect(await rolloutRestart.verify(s.ctx, t, {}, result)).toMatchObject({ ok: false });
    s.advance(60);
    expect(await rolloutRestart.verify(s.ctx, t, {}, result)).toMatchObject({ ok: true });
    const after = await names();
    expect(after).toHaveLength(2);
    expect(after.filter((n) => before.includes(n))).toEqual([]);
  });

  it("restarts a StatefulSet one ordinal at a time", async () => {
    const t = { kind: "StatefulSet", namespace: "payments", name: "postgres" };
    const uids = async () =>
      (await s.port.list("Pod", "payments"))
        .filter((p) => p.metadata.labels?.app === "postgres")
        .map((p) => p.metadata.uid);
    const before = await uids();
    const result = await rolloutRestart.execute(s.ctx, t, {});
    s.advance(120);
    expect(await rolloutRestart.verify(s.ctx, t, {}, result)).toMatchObject({ ok: true });
    expect((await uids()).filter((u) => before.includes(u))).toEqual([]);
  });
});
