import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scaleStatefulset } from "../../shared/remediation/actions/scale-statefulset.js";
import { startActionSandbox, type ActionSandbox } from "./support.js";

const t = { kind: "StatefulSet", namespace: "payments", name: "postgres" };

describe("scale_statefulset on the sandbox", () => {
  let s: ActionSandbox;
  beforeAll(async () => {
    s = await startActionSandbox();
  });
  afterAll(async () => {
    await s?.close();
  });

  it("needs approval and parses only well-formed parameters", () => {
    expect(scaleStatefulset.requiresApproval).toBe(true);
    expect(scaleStatefulset.params.safeParse({ replicas: 3 }).success).toBe(true);
    expect(scaleStatefulset.params.safeParse({ replicas: 1.5 }).success).toBe(false);
    expect(scaleStatefulset.params.safeParse({ replicas: 3, force: true }).success).toBe(false);
  });

  it("refuses a missing target, a no-op, zero unless asked, and more than the limit", async () => {
    const p = (r: number, allowZero = false) => ({ replicas: r, allowZero });
    expect(await scaleStatefulset.check(s.ctx, { ...t, name: "nope" }, p(3))).toMatchObject({
      ok: false,
      failure: "target_missing",
    });
    expect(await scaleStatefulset.check(s.ctx, t, p(2))).toMatchObject({
      ok: false,
      failure: "precondition",
    });
    expect(await scaleStatefulset.check(s.ctx, t, p(0))).toMatchObject({
      ok: false,
      failure: "blast_radius",
    });
    expect(await scaleStatefulset.check(s.ctx, t, p(51))).toMatchObject({
      ok: false,
      failure: "blast_radius",
    });
  });

  it("adds ordinal 2 with its claim, verifies once it is ready, and undoes", async () => {
    const p = { replicas: 3, allowZero: false };
    expect(await scaleStatefulset.check(s.ctx, t, p)).toMatchObject({ ok: true });
    const result = await scaleStatefulset.execute(s.ctx, t, p);
    expect(result.changes[0]).toContain("2 → 3");
    expect(result.specHashBefore).not.toBe(result.specHashAfter);
    s.advance(1);
    expect(await scaleStatefulset.verify(s.ctx, t, p, result)).toMatchObject({ ok: false });
    s.advance(60);
    expect(await scaleStatefulset.verify(s.ctx, t, p, result)).toMatchObject({ ok: true });
    expect(await s.port.get("Pod", "payments", "postgres-2")).toBeDefined();
    expect(await s.port.get("PersistentVolumeClaim", "payments", "data-postgres-2")).toBeDefined();
    await scaleStatefulset.undo!(s.ctx, t, result);
    s.advance(10);
    expect(await s.port.get("Pod", "payments", "postgres-2")).toBeUndefined();
  });
});
