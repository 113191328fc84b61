// expand_pvc on the sandbox: payments/postgres' claims (20Gi, StorageClass gp3 with
// allowVolumeExpansion) while the pvc-filling fault fills one of them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expandPvc } from "../../shared/remediation/actions/expand-pvc.js";
import { startActionSandbox, type ActionSandbox } from "./support.js";

const t = { kind: "PersistentVolumeClaim", namespace: "payments", name: "data-postgres-0" };
const capacity = async (s: ActionSandbox, name = t.name, ns = t.namespace) =>
  ((await s.port.get("PersistentVolumeClaim", ns, name))?.status as { capacity?: { storage?: string } })
    ?.capacity?.storage;

describe("expand_pvc on the sandbox", () => {
  let s: ActionSandbox;
  beforeAll(async () => {
    s = await startActionSandbox();
    s.sb.inject({ kind: "pvc-filling", target: "payments/data-postgres-0" });
    s.advance(30);
  });
  afterAll(async () => {
    await s?.close();
  });

  it("parses a factor or a size, not both, and says it cannot be undone", () => {
    expect(expandPvc.params.safeParse({}).success).toBe(true);
    expect(expandPvc.params.safeParse({ factor: 1.5 }).success).toBe(true);
    expect(expandPvc.params.safeParse({ size: "30Gi" }).success).toBe(true);
    expect(expandPvc.params.safeParse({ factor: 1.5, size: "30Gi" }).success).toBe(false);
    expect(expandPvc.params.safeParse({ factor: 0.5 }).success).toBe(false);
    expect(expandPvc.params.safeParse({ size: "lots" }).success).toBe(false);
    expect(expandPvc.params.safeParse({ size: "30Gi", storageClass: "x" }).success).toBe(false);
    expect(expandPvc.undo).toBeUndefined();
    expect(expandPvc.description).toMatch(/cannot be undone/i);
  });

  it("refuses a missing claim, shrinking, and more than maxPvcGrowthFactor in one step", async () => {
    expect(await expandPvc.check(s.ctx, { ...t, name: "nope" }, {})).toMatchObject({
      ok: false,
      failure: "target_missing",
    });
    expect(await expandPvc.check(s.ctx, t, { size: "10Gi" })).toMatchObject({
      ok: false,
      failure: "precondition",
    });
    expect(await expandPvc.check(s.ctx, t, { factor: 3 })).toMatchObject({
      ok: false,
      failure: "blast_radius",
    });
    expect(await expandPvc.check(s.ctx, t, { size: "41Gi" })).toMatchObject({
      ok: false,
      failure: "blast_radius",
    });
    expect(await expandPvc.check(s.ctx, t, { size: "40Gi" })).toMatchObject({ ok: true });
  });

  it("names a StorageClass that does not allow expansion", async () => {
    await s.port.create!("StorageClass", undefined, {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "standard-fixed" },
      provisioner: "ebs.csi.aws.com",
      volumeBindingMode: "Immediate",
    });
    await s.port.create!("PersistentVolumeClaim", "shop", {
      kind: "PersistentVolumeClaim",
      metadata: { name: "uploads", namespace: "shop" },
      spec: {
        accessModes: ["ReadWriteOnce"],
        storageClassName: "standard-fixed",
        resources: { requests: { storage: "5Gi" } },
      },
    });
    s.advance(2);
    const r = await expandPvc.check(s.ctx, { ...t, namespace: "shop", name: "uploads" }, {});
    expect(r).toMatchObject({ ok: false, failure: "precondition" });
    expect(r.ok ? "" : r.detail).toContain("StorageClass standard-fixed does not allow volume expansion");
  });

  it("grows the request by 1.5 by default; verify waits for the new capacity", async () => {
    const result = await expandPvc.execute(s.ctx, t, {});
    expect(result.changes[0]).toContain("20Gi → 30Gi");
    expect(result.specHashBefore).not.toBe(result.specHashAfter);
    const pvc = await s.port.get("PersistentVolumeClaim", t.namespace, t.name);
    expect(pvc?.metadata.annotations?.["aiops.prophet.io/remediation-action"]).toBe("expand_pvc");
    expect(await expandPvc.verify(s.ctx, t, {}, result)).toMatchObject({ ok: false });
    expect(await expandPvc.check(s.ctx, t, {})).toMatchObject({ ok: false, failure: "precondition" });
    s.advance(2);
    expect(await capacity(s)).toBe("30Gi");
    expect(await expandPvc.verify(s.ctx, t, {}, result)).toMatchObject({ ok: true });
    // The limit applies to each step from the new size.
    expect(await expandPvc.check(s.ctx, t, { size: "60Gi" })).toMatchObject({ ok: true });
  });
});
