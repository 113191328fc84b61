// pods/ephemeralcontainers as `kubectl debug` uses it: a strategic merge patch adds a container to
// a running pod, the kubelet runs it to completion, and existing ones cannot be removed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { arr, deployment, rec, startSim, type SimHarness } from "./sim-harness.js";

let h: SimHarness;
beforeAll(async () => {
  h = await startSim();
  h.create(deployment("api"));
  h.advance(30);
});
afterAll(() => h?.close());

async function patchEphemeral(pod: string, body: unknown) {
  return fetch(`${h.sb.url}/api/v1/namespaces/shop/pods/${pod}/ephemeralcontainers`, {
    method: "PATCH",
    headers: { "content-type": "application/strategic-merge-patch+json", accept: "application/json" },
    body: JSON.stringify(body),
  });
}

describe("the ephemeralcontainers subresource", () => {
  it("adds a debug container that runs and then terminates with its exit code", async () => {
    const pod = h.podsOf("shop", "api")[0]!;
    const name = pod.metadata.name ?? "";
    const debug = {
      name: "debugger",
      image: "busybox",
      targetContainerName: "api",
      command: ["sh", "-c", "sleep 10"],
    };
    const res = await patchEphemeral(name, { spec: { ephemeralContainers: [debug] } });
    expect(res.status).toBe(200);
    expect(arr(rec(rec(await res.json()).spec).ephemeralContainers)[0]).toMatchObject(debug);
    h.advance(2);
    const running = arr(rec(h.pod("shop", name)?.status).ephemeralContainerStatuses)[0];
    expect(rec(running?.state).running).toBeDefined();
    h.advance(10);
    const done = arr(rec(h.pod("shop", name)?.status).ephemeralContainerStatuses)[0];
    expect(rec(done?.state).terminated).toMatchObject({ exitCode: 0, reason: "Completed" });
    // The pod's own containers keep running.
    expect(rec(h.pod("shop", name)?.status).phase).toBe("Running");
  });

  it("refuses to remove an ephemeral container or to add one without an image", async () => {
    const name = h.podsOf("shop", "api")[0]!.metadata.name ?? "";
    const removed = await fetch(`${h.sb.url}/api/v1/namespaces/shop/pods/${name}/ephemeralcontainers`, {
      method: "PATCH",
      headers: { "content-type": "application/merge-patch+json" },
      body: JSON.stringify({ spec: { ephemeralContainers: [] } }),
    });
    expect(removed.status).toBe(422);
    const noImage = await patchEphemeral(name, { spec: { ephemeralContainers: [{ name: "x" }] } });
    expect(noImage.status).toBe(422);
    // Other fields of the body are ignored: only ephemeral containers change.
    const res = await patchEphemeral(name, {
      metadata: { labels: { sneaky: "yes" } },
      spec: { ephemeralContainers: [{ name: "second", image: "busybox", command: ["sh", "-c", "exit 3"] }] },
    });
    expect(res.status).toBe(200);
    expect(h.pod("shop", name)?.metadata.labels?.sneaky).toBeUndefined();
    h.advance(8);
    const second = arr(rec(h.pod("shop", name)?.status).ephemeralContainerStatuses).find(
      (s) => s.name === "second",
    );
    expect(rec(rec(second?.state).terminated).exitCode).toBe(3);
  });
});
