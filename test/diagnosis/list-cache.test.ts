// The list cache alert storms share: one read per kind and namespace within the TTL (on the
// injected clock), concurrent readers share the request in flight, failures are not remembered.
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../shared/diagnosis/objects.js";
import { ListCache } from "../../shared/kube/snapshot.js";
import { SimulatedClock } from "../../shared/ports/clock.js";
import type { ClusterPort } from "../../shared/ports/cluster.js";

function countingPort(fail = false): ClusterPort & { calls: string[] } {
  const calls: string[] = [];
  return {
    name: "test",
    calls,
    async list(kind: string, namespace?: string): Promise<KubeObject[]> {
      calls.push(`${kind}/${namespace ?? ""}`);
      if (fail && calls.length === 1) throw new Error("connection refused");
      return [{ kind, metadata: { name: `${kind}-${calls.length}`, namespace } }];
    },
    get: async () => undefined,
    podLogs: async () => "",
    events: async () => [],
  };
}

describe("ListCache", () => {
  it("reads each kind and namespace once within the TTL and again after it", async () => {
    const clock = new SimulatedClock("2026-01-05T08:00:00Z");
    const cache = new ListCache(clock, 2000);
    const port = countingPort();
    const [a, b] = await Promise.all([cache.list(port, "Pod", "shop"), cache.list(port, "Pod", "shop")]);
    expect(a).toBe(b);
    await cache.list(port, "Pod", "payments");
    clock.advance(1999);
    await cache.list(port, "Pod", "shop");
    expect(port.calls).toEqual(["Pod/shop", "Pod/payments"]);
    clock.advance(1);
    const c = await cache.list(port, "Pod", "shop");
    expect(c[0]!.metadata.name).toBe("Pod-3");
    expect(port.calls).toEqual(["Pod/shop", "Pod/payments", "Pod/shop"]);
  });

  it("does not remember a failed read", async () => {
    const cache = new ListCache(new SimulatedClock("2026-01-05T08:00:00Z"), 2000);
    const port = countingPort(true);
    await expect(cache.list(port, "Node")).rejects.toThrow("connection refused");
    await expect(cache.list(port, "Node")).resolves.toHaveLength(1);
    expect(port.calls).toHaveLength(2);
  });
});
