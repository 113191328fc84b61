// Claims and storage classes as the persistentvolume-controller and scheduler treat them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rec, startSim, type SimHarness } from "./sim-harness.js";

let h: SimHarness;
beforeAll(async () => {
  h = await startSim();
});
afterAll(() => h?.close());

describe("a claim naming a StorageClass that does not exist", () => {
  it("stays Pending with ProvisioningFailed, and its pod cannot be scheduled", () => {
    h.create({
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "reports", namespace: "shop" },
      spec: {
        accessModes: ["ReadWriteOnce"],
        storageClassName: "fast-ssd",
        resources: { requests: { storage: "5Gi" } },
      },
    });
    h.create({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "reporter", namespace: "shop" },
      spec: {
        containers: [
          { name: "reporter", image: "ghcr.io/acme/reporter:2.0", resources: { requests: { cpu: "100m" } } },
        ],
        volumes: [{ name: "data", persistentVolumeClaim: { claimName: "reports" } }],
      },
    });
    h.advance(60);
    const claim = h.get("persistentvolumeclaims", "shop", "reports");
    expect(rec(claim?.status).phase).toBe("Pending");
    expect(rec(claim?.spec).volumeName).toBeUndefined();
    const failed = h.events("reports", "ProvisioningFailed");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      type: "Warning",
      message: 'storageclass.storage.k8s.io "fast-ssd" not found',
    });
    // Retried about every 15 s, aggregated into one Event with a count, as the controller does.
    expect(Number(failed[0]?.count)).toBeGreaterThanOrEqual(3);
    expect(rec(h.pod("shop", "reporter")?.status).phase).toBe("Pending");
    expect(h.events("reporter", "FailedScheduling")[0]?.message).toMatch(
      /unbound immediate PersistentVolumeClaims/,
    );
  });
});
