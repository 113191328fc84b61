import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { increaseResources } from "../../shared/remediation/actions/increase-resources.js";
import { startActionSandbox, type ActionSandbox } from "./support.js";

const t = { kind: "Deployment", namespace: "shop", name: "cart" };
const resources = async (s: ActionSandbox) =>
  (
    (await s.port.get("Deployment", "shop", "cart"))?.spec as {
      template: {
        spec: {
          containers: { resources: { requests: Record<string, string>; limits: Record<string, string> } }[];
        };
      };
    }
  ).template.spec.containers[0]!.resources;

describe("increase_resources on the sandbox", () => {
  let s: ActionSandbox;
  beforeAll(async () => {
    s = await startActionSandbox();
  });
  afterAll(async () => {
    await s?.close();
  });

  it("parses only well-formed parameters", () => {
    const ok = (p: unknown) => increaseResources.params.safeParse(p).success;
    expect(ok({ resource: "memory" })).toBe(true);
    expect(ok({ resource: "memory", limit: "1Gi" })).toBe(true);
    expect(ok({ resource: "disk" })).toBe(false);
    expect(ok({ resource: "memory", factor: 0.5 })).toBe(false);
    expect(ok({ resource: "memory", limit: "lots" })).toBe(false);
  });

  it("refuses a missing target or container, lowering, more than the factor or the absolute limit", async () => {
    expect(
      await increaseResources.check(s.ctx, { ...t, name: "nope" }, { resource: "memory" }),
    ).toMatchObject({
      ok: false,
      failure: "target_missing",
    });
    expect(
      await increaseResources.check(s.ctx, t, { resource: "memory", container: "sidecar" }),
    ).toMatchObject({
      ok: false,
      failure: "precondition",
    });
    expect(await increaseResources.check(s.ctx, t, { resource: "memory", limit: "256Mi" })).toMatchObject({
      ok: false,
      failure: "precondition",
    });
    const tooFast = await increaseResources.check(s.ctx, t, { resource: "memory", factor: 3 });
    expect(tooFast).toMatchObject({ ok: false, failure: "blast_radius" });
    expect(tooFast.detail).toContain("×2");
    const tight = { ...s.ctx, limits: { ...s.ctx.limits, maxMemoryBytes: 512 * 2 ** 20 } };
    expect(await increaseResources.check(tight, t, { resource: "memory", factor: 1.5 })).toMatchObject({
      ok: false,
      failure: "blast_radius",
    });
    // cart has a CPU request but no CPU limit: the request grows, no limit appears.
    expect(await increaseResources.check(s.ctx, t, { resource: "cpu" })).toMatchObject({ ok: true });
  });

  it("raises memory ×1.5, rolls out, verifies and undoes", async () => {
    const p = { resource: "memory" as const };
    const result = await increaseResources.execute(s.ctx, t, p);
    expect(result.changes[0]).toContain("request 256Mi, limit 384Mi → request 384Mi, limit 576Mi");
    expect(await resources(s)).toMatchObject({
      requests: { memory: "384Mi", cpu: "200m" },
      limits: { memory: "576Mi" },
    });
    s.advance(90);
    expect(await increaseResources.verify(s.ctx, t, p, result)).toMatchObject({ ok: true });
    await increaseResources.undo!(s.ctx, t, result);
    expect(await resources(s)).toMatchObject({ requests: { memory: "256Mi" }, limits: { memory: "384Mi" } });
  });

  it("sets an explicit CPU limit where there was none, and undo removes it", async () => {
    const p = { resource: "cpu" as const, request: "300m", limit: "400m" };
    const result = await increaseResources.execute(s.ctx, t, p);
    expect((await resources(s)).limits.cpu).toBe("400m");
    await increaseResources.undo!(s.ctx, t, result);
    const r = await resources(s);
    expect(r.limits.cpu).toBeUndefined();
    expect(r.requests.cpu).toBe("200m");
  });
});
