import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { updateHpa } from "../../shared/remediation/actions/update-hpa.js";
import { startActionSandbox, type ActionSandbox } from "./support.js";

const t = { kind: "HorizontalPodAutoscaler", namespace: "shop", name: "frontend" };
const spec = async (s: ActionSandbox) =>
  (await s.port.get("HorizontalPodAutoscaler", "shop", "frontend"))?.spec as {
    minReplicas: number;
    maxReplicas: number;
  };

describe("update_hpa on the sandbox", () => {
  let s: ActionSandbox;
  beforeAll(async () => {
    s = await startActionSandbox();
  });
  afterAll(async () => {
    await s?.close();
  });

  it("parses only well-formed parameters", () => {
    expect(updateHpa.params.safeParse({ maxReplicas: 12 }).success).toBe(true);
    expect(updateHpa.params.safeParse({}).success).toBe(false);
    expect(updateHpa.params.safeParse({ minReplicas: 0 }).success).toBe(false);
    expect(updateHpa.params.safeParse({ maxReplicas: 12, target: "x" }).success).toBe(false);
  });

  it("refuses a missing HPA, a no-op, min above max, and max above the limit", async () => {
    expect(await updateHpa.check(s.ctx, { ...t, name: "nope" }, { maxReplicas: 12 })).toMatchObject({
      ok: false,
      failure: "target_missing",
    });
    expect(await updateHpa.check(s.ctx, t, { minReplicas: 3, maxReplicas: 10 })).toMatchObject({
      ok: false,
      failure: "precondition",
    });
    const inverted = await updateHpa.check(s.ctx, t, { minReplicas: 11 });
    expect(inverted).toMatchObject({ ok: false, failure: "precondition" });
    expect(inverted.detail).toContain("exceed maxReplicas 10");
    expect(await updateHpa.check(s.ctx, t, { maxReplicas: 51 })).toMatchObject({
      ok: false,
      failure: "blast_radius",
    });
  });

  it("raises the bounds, the HPA follows, and undo restores them", async () => {
    const p = { minReplicas: 6, maxReplicas: 12 };
    expect(await updateHpa.check(s.ctx, t, p)).toMatchObject({ ok: true });
    const result = await updateHpa.execute(s.ctx, t, p);
    expect(result.changes[0]).toContain("min 3, max 10 → min 6, max 12");
    expect(await spec(s)).toMatchObject(p);
    const hpa = await s.port.get("HorizontalPodAutoscaler", "shop", "frontend");
    expect(hpa?.metadata.annotations?.["aiops.prophet.io/remediation-action"]).toBe("update_hpa");
    s.advance(60);
    expect(await updateHpa.verify(s.ctx, t, p, result)).toMatchObject({ ok: true });
    const dep = await s.port.get("Deployment", "shop", "frontend");
    expect((dep?.spec as { replicas: number }).replicas).toBeGreaterThanOrEqual(6);
    await updateHpa.undo!(s.ctx, t, result);
    expect(await spec(s)).toMatchObject({ minReplicas: 3, maxReplicas: 10 });
  });
});
