import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scaleDeployment } from "../../shared/remediation/actions/scale-deployment.js";
import { startActionSandbox, type ActionSandbox } from "./support.js";

const t = { kind: "Deployment", namespace: "shop", name: "catalog" };

describe("scale_deployment on the sandbox", () => {
  let s: ActionSandbox;
  beforeAll(async () => {
    s = await startActionSandbox();
  });
  afterAll(async () => {
    await s?.close();
  });

  it("parses only well-formed parameters", () => {
    expect(scaleDeployment.params.safeParse({ replicas: 3 }).success).toBe(true);
    expect(scaleDeployment.params.safeParse({ replicas: -1 }).success).toBe(false);
    expect(scaleDeployment.params.safeParse({ replicas: 2, command: "rm -rf /" }).success).toBe(false);
  });

  it("refuses a missing target, a no-op, zero unless asked, and more than the limit", async () => {
    const p = (r: number, allowZero = false) => ({ replicas: r, allowZero });
    expect(await scaleDeployment.check(s.ctx, { ...t, name: "nope" }, p(3))).toMatchObject({
      ok: false,
      failure: "target_missing",
    });
    expect(await scaleDeployment.check(s.ctx, t, p(2))).toMatchObject({ ok: false, failure: "precondition" });
    expect(await scaleDeployment.check(s.ctx, t, p(0))).toMatchObject({ ok: false, failure: "blast_radius" });
    expect(await scaleDeployment.check(s.ctx, t, p(0, true))).toMatchObject({ ok: true });
    expect(await scaleDeployment.check(s.ctx, t, p(51))).toMatchObject({
      ok: false,
      failure: "blast_radius",
    });
  });

  it("executes, verifies once the pods are up, and undoes", async () => {
    const p = { replicas: 4, allowZero: false };
    expect(await scaleDeployment.check(s.ctx, t, p)).toMatchObject({ ok: true });
    const result = await scaleDeployment.execute(s.ctx, t, p);
    expect(result.changes[0]).toContain("2 → 4");
    expect(result.specHashBefore).not.toBe(result.specHashAfter);
    const dep = await s.port.get("Deployment", "shop", "catalog");
    expect(dep?.metadata.annotations?.["aiops.prophet.io/remediation-action"]).toBe("scale_deployment");
    s.advance(60);
    expect(await scaleDeployment.verify(s.ctx, t, p, result)).toMatchObject({ ok: true });
    await scaleDeployment.undo!(s.ctx, t, result);
    expect(((await s.port.get("Deployment", "shop", "catalog"))?.spec as { replicas: number }).replicas).toBe(
      2,
    );
  });
});
