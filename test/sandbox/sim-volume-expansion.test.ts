// Volume expansion as the external-resizer and the kubelet do it: a bound claim whose request grew
// gets the new capacity (PV and claim status) when its StorageClass allows expansion.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rec, startSim, type SimHarness } from "./sim-harness.js";

let h: SimHarness;
beforeAll(async () => {
  h = await startSim();
});
afterAll(() => h?.close());

function claim(name: string, storageClassName: string) {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace: "shop" },
    spec: { accessModes: ["ReadWriteOnce"], storageClassName, resources: { requests: { storage: "10Gi" } } },
  };
}

function grow(name: string, storage: string) {
  const store = h.sb.api.store;
  const rt = store.resource("persistentvolumeclaims");
  const c = store.mustGet(rt, "shop", name);
  store.update(
    rt,
    { ...c, spec: { ...rec(c.spec), resources: { requests: { storage } } } },
    { subresource: "main" },
  );
}

describe("expanding a bound claim", () => {
  it("resizes the PV and the claim's capacity when the class allows expansion", () => {
    h.create({
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "io2-expandable" },
      provisioner: "ebs.csi.aws.com",
      volumeBindingMode: "Immediate",
      allowVolumeExpansion: true,
    });
    h.create(claim("ledger", "io2-expandable"));
    h.advance(2);
    expect(rec(rec(h.get("persistentvolumeclaims", "shop", "ledger")?.status).capacity).storage).toBe("10Gi");
    grow("ledger", "15Gi");
    h.advance(2);
    const c = h.get("persistentvolumeclaims", "shop", "ledger");
    expect(rec(rec(c?.status).capacity).storage).toBe("15Gi");
    const pv = h.get("persistentvolumes", undefined, String(rec(c?.spec).volumeName));
    expect(rec(rec(pv?.spec).capacity).storage).toBe("15Gi");
    expect(h.events("ledger", "FileSystemResizeSuccessful")).toHaveLength(1);
  });

  it("leaves the capacity and warns when the class does not allow expansion", () => {
    h.create({
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "standard-fixed" },
      provisioner: "ebs.csi.aws.com",
      volumeBindingMode: "Immediate",
    });
    h.create(claim("archive", "standard-fixed"));
    h.advance(2);
    grow("archive", "20Gi");
    h.advance(2);
    expect(rec(rec(h.get("persistentvolumeclaims", "shop", "archive")?.status).capacity).storage).toBe(
      "10Gi",
    );
    expect(h.events("archive", "ExternalExpanding")[0]?.message).toMatch(/does not allow volume expansion/);
  });
});
