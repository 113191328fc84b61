import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rollbackDeployment } from "../../shared/remediation/actions/rollback-deployment.js";
import { isPodReady } from "../../shared/remediation/actions/workload-helpers.js";
import { startActionSandbox, type ActionSandbox } from "./support.js";

const t = { kind: "Deployment", namespace: "shop", name: "cart" };
const image = async (s: ActionSandbox) =>
  (
    (await s.port.get("Deployment", "shop", "cart"))?.spec as {
      template: { spec: { containers: { image: string }[] } };
    }
  ).template.spec.containers[0]!.image;

describe("rollback_deployment on the sandbox", () => {
  let s: ActionSandbox;
  beforeAll(async () => {
    s = await startActionSandbox();
  });
  afterAll(async () => {
    await s?.close();
  });

  it("refuses a Deployment with a single revision and an unknown revision", async () => {
    expect(rollbackDeployment.params.safeParse({ toRevision: 0 }).success).toBe(false);
    const single = await rollbackDeployment.check(s.ctx, t, {});
    expect(single).toMatchObject({ ok: false, failure: "precondition" });
    expect(single.detail).toContain("no revision older than 1");
    expect(await rollbackDeployment.check(s.ctx, { ...t, name: "nope" }, {})).toMatchObject({
      ok: false,
      failure: "target_missing",
    });
  });

  it("rolls a bad-image rollout back to the old image, verifies ready pods, and undo rolls forward", async () => {
    s.sb.inject({ kind: "bad-image", target: "shop/cart" });
    s.advance(30);
    const bad = await image(s);
    expect(bad).toContain("v0.0.0-does-not-exist");
    expect(await rollbackDeployment.check(s.ctx, t, { toRevision: 7 })).toMatchObject({
      ok: false,
      failure: "precondition",
    });
    const check = await rollbackDeployment.check(s.ctx, t, {});
    expect(check).toMatchObject({ ok: true });
    expect(check.detail).toContain("revision 2 → 1");
    const result = await rollbackDeployment.execute(s.ctx, t, {});
    expect(await image(s)).toBe("ghcr.io/prophet-demo/cart:2.3.0");
    const d = await s.port.get("Deployment", "shop", "cart");
    expect(d?.metadata.annotations?.["aiops.prophet.io/remediation-action"]).toBe("rollback_deployment");
    expect(JSON.stringify(d?.spec)).not.toContain("pod-template-hash");
    s.advance(60);
    expect(await rollbackDeployment.verify(s.ctx, t, {}, result)).toMatchObject({ ok: true });
    const pods = (await s.port.list("Pod", "shop")).filter((p) => p.metadata.labels?.app === "cart");
    expect(pods).toHaveLength(2);
    expect(pods.every(isPodReady)).toBe(true);
    // The old ReplicaSet was reused (kubectl rollout undo semantics): still two ReplicaSets.
    const sets = (await s.port.list("ReplicaSet", "shop")).filter((rs) =>
      rs.metadata.name.startsWith("cart-"),
    );
    expect(sets).toHaveLength(2);
    await rollbackDeployment.undo!(s.ctx, t, result);
    expect(await image(s)).toBe(bad);
  });
});
