// The built-in Deployment → ReplicaSet → Pod controller driven by kubectl: scale makes pods appear,
// set image rolls a new ReplicaSet out, rollout status sees it complete, rollout undo goes back.
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../infra/sandbox/apiserver/index.js";
import { requireKubectl, startSandbox, type Sandbox } from "./apiserver-harness.js";

const kubectl = requireKubectl();

const manifest = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: shop, namespace: default }
spec:
  replicas: 2
  selector: { matchLabels: { app: shop } }
  template:
    metadata: { labels: { app: shop } }
    spec:
      containers: [{ name: shop, image: "registry.example/shop:1.0" }]
`;

describe.skipIf(!kubectl)("built-in workload controller", () => {
  let sb: Sandbox;
  const pods = () => sb.server.store.list(sb.server.store.resource("pods"), { namespace: "default" });
  const replicaSets = () =>
    sb.server.store.list(sb.server.store.resource("replicasets.apps"), { namespace: "default" });
  const image = (o: KubeObject) =>
    (o.spec as { template?: { spec: { containers: { image: string }[] } }; containers?: { image: string }[] })
      .template?.spec.containers[0]?.image ??
    (o.spec as { containers: { image: string }[] }).containers[0]?.image;

  beforeAll(async () => {
    sb = await startSandbox({ workloads: { podsBecomeReady: true } });
    const file = join(tmpdir(), `prophet-workloads-${process.pid}.yaml`);
    writeFileSync(file, manifest);
    const r = await sb.kubectl(["apply", "-f", file]);
    expect(r.code, r.stderr).toBe(0);
    await sb.server.workloads?.idle();
  });

  afterAll(async () => {
    await sb?.stop();
  });

  it("creates a ReplicaSet and its pods, owned and labelled with the template hash", () => {
    const [rs] = replicaSets();
    expect(rs?.metadata.ownerReferences?.[0]).toMatchObject({
      kind: "Deployment",
      name: "shop",
      controller: true,
    });
    const hash = rs?.metadata.labels?.["pod-template-hash"];
    expect(rs?.metadata.name).toBe(`shop-${hash}`);
    expect(
      pods().map((p) => [p.metadata.labels?.["pod-template-hash"], p.metadata.ownerReferences?.[0]?.name]),
    ).toEqual([
      [hash, rs?.metadata.name],
      [hash, rs?.metadata.name],
    ]);
  });

  it("scale deploy --replicas 5 makes pods appear and the status follow", async () => {
    const r = await sb.kubectl(["scale", "deploy", "shop", "--replicas", "5"]);
    expect(r.code, r.stderr).toBe(0);
    await sb.server.workloads?.idle();
    expect(pods()).toHaveLength(5);
    const get = await sb.kubectl(["get", "deploy", "shop"]);
    expect(get.stdout).toMatch(/shop\s+5\/5\s+5\s+5/);
  });

  it("set image rolls out a new ReplicaSet; rollout status waits for it; rollout undo restores the old one", async () => {
    const set = await sb.kubectl(["set", "image", "deploy/shop", "shop=registry.example/shop:2.0"]);
    expect(set.code, set.stderr).toBe(0);
    const status = await sb.kubectl(["rollout", "status", "deploy/shop", "--timeout=10s"]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('deployment "shop" successfully rolled out');
    expect(pods().map(image)).toEqual(Array(5).fill("registry.example/shop:2.0"));
    const first = replicaSets().find((rs) => image(rs) === "registry.example/shop:1.0");
    expect((first?.spec as { replicas: number }).replicas).toBe(0);

    const undo = await sb.kubectl(["rollout", "undo", "deploy/shop"]);
    expect(undo.code, undo.stderr).toBe(0);
    expect((await sb.kubectl(["rollout", "status", "deploy/shop", "--timeout=10s"])).code).toBe(0);
    await sb.server.workloads?.idle();
    expect(replicaSets()).toHaveLength(2);
    const reused = replicaSets().find((rs) => rs.metadata.uid === first?.metadata.uid);
    expect(reused?.metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("3");
    expect(pods().map(image)).toEqual(Array(5).fill("registry.example/shop:1.0"));
    const history = await sb.kubectl(["rollout", "history", "deploy/shop"]);
    expect(history.stdout).toMatch(/^2\s+<none>$/m);
    expect(history.stdout).toMatch(/^3\s+<none>$/m);
  });

  it("deleting the Deployment removes its ReplicaSets and pods", async () => {
    expect((await sb.kubectl(["delete", "deploy", "shop"])).code).toBe(0);
    await sb.server.workloads?.idle();
    expect(replicaSets()).toEqual([]);
    expect(pods()).toEqual([]);
  });
});
