import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resetServiceMesh } from "../../shared/remediation/actions/reset-service-mesh.js";
import { startActionSandbox, type ActionSandbox } from "./support.js";

describe("reset_service_mesh on the sandbox", () => {
  let s: ActionSandbox;
  beforeAll(async () => {
    s = await startActionSandbox();
  });
  afterAll(async () => {
    await s?.close();
  });

  it("refuses a workload without a sidecar", async () => {
    const r = await resetServiceMesh.check(
      s.ctx,
      { kind: "Deployment", namespace: "shop", name: "catalog" },
      {},
    );
    expect(r).toMatchObject({ ok: false, failure: "precondition" });
    expect(r.ok || r.detail).toContain("no service-mesh sidecar");
    expect(
      await resetServiceMesh.check(s.ctx, { kind: "Deployment", namespace: "shop", name: "nope" }, {}),
    ).toMatchObject({
      ok: false,
      failure: "target_missing",
    });
  });

  it("restarts a workload whose pods carry an istio-proxy sidecar", async () => {
    const t = { kind: "Deployment", namespace: "shop", name: "cart" };
    // Sidecar injection, as Istio's webhook would have done it.
    await s.port.patch!(
      "Deployment",
      "shop",
      "cart",
      {
        spec: {
          template: {
            spec: { containers: [{ name: "istio-proxy", image: "docker.io/istio/proxyv2:1.23.0" }] },
          },
        },
      },
      { type: "strategic" },
    );
    s.advance(60);
    const check = await resetServiceMesh.check(s.ctx, t, {});
    expect(check).toMatchObject({ ok: true });
    expect(check.detail).toContain("container istio-proxy");
    const before = (await s.port.list("Pod", "shop"))
      .filter((p) => p.metadata.labels?.app === "cart")
      .map((p) => p.metadata.uid);
    const result = await resetServiceMesh.execute(s.ctx, t, {});
    s.advance(60);
    expect(await resetServiceMesh.verify(s.ctx, t, {}, result)).toMatchObject({ ok: true });
    const after = (await s.port.list("Pod", "shop"))
      .filter((p) => p.metadata.labels?.app === "cart")
      .map((p) => p.metadata.uid);
    expect(after.filter((u) => before.includes(u))).toEqual([]);
  });

  it("recognises a Linkerd-annotated pod template", async () => {
    await s.port.patch!("Deployment", "shop", "catalog", {
      spec: { template: { metadata: { annotations: { "linkerd.io/proxy-version": "stable-2.14.10" } } } },
    });
    expect(
      await resetServiceMesh.check(s.ctx, { kind: "Deployment", namespace: "shop", name: "catalog" }, {}),
    ).toMatchObject({
      ok: true,
    });
  });
});
