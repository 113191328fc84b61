// update_network_policy and restart_network on the sandbox's default cluster.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../shared/diagnosis/objects.js";
import { restartNetwork } from "../../shared/remediation/actions/restart-network.js";
import { updateNetworkPolicy } from "../../shared/remediation/actions/update-network-policy.js";
import { startActionSandbox, type ActionSandbox } from "./support.js";

const cart = { kind: "Deployment", namespace: "shop", name: "cart" };
const deny = (cidr: string) =>
  updateNetworkPolicy.params.parse({ name: "block-c2", change: { type: "denyEgressTo", cidr } });

describe("update_network_policy on the sandbox", () => {
  let s: ActionSandbox;
  beforeAll(async () => {
    s = await startActionSandbox();
  });
  afterAll(async () => {
    await s?.close();
  });

  it("parses one well-formed change", () => {
    const ok = (v: unknown) => updateNetworkPolicy.params.safeParse(v).success;
    expect(ok({ name: "block-c2", change: { type: "denyEgressTo", cidr: "185.220.101.47/32" } })).toBe(true);
    expect(ok({ name: "block-c2", change: { type: "denyEgressTo", cidr: "185.220.101.47" } })).toBe(false);
    expect(ok({ name: "Block C2", change: { type: "denyEgressTo", cidr: "10.0.0.0/8" } })).toBe(false);
    expect(ok({ name: "x", change: { type: "deleteAll" } })).toBe(false);
    expect(ok({ name: "x", change: { type: "allowFrom", podSelector: { app: "frontend" } }, extra: 1 })).toBe(
      false,
    );
  });

  it("refuses a missing target, a broad deny, and a policy of that name it does not own", async () => {
    expect(
      await updateNetworkPolicy.check(s.ctx, { ...cart, name: "nope" }, deny("1.2.3.4/32")),
    ).toMatchObject({
      ok: false,
      failure: "target_missing",
    });
    expect(await updateNetworkPolicy.check(s.ctx, cart, deny("0.0.0.0/0"))).toMatchObject({
      ok: false,
      failure: "blast_radius",
    });
    await s.port.create!("NetworkPolicy", "shop", {
      kind: "NetworkPolicy",
      metadata: { name: "prophet-mine", namespace: "shop" },
      spec: { podSelector: {}, policyTypes: ["Ingress"] },
    });
    const p = updateNetworkPolicy.params.parse({
      name: "mine",
      change: { type: "denyEgressTo", cidr: "1.2.3.4/32" },
    });
    const r = await updateNetworkPolicy.check(s.ctx, cart, p);
    expect(r).toMatchObject({ ok: false, failure: "precondition" });
    expect(r.ok ? "" : r.detail).toContain("NetworkPolicy shop/prophet-mine exists and is not Prophet's");
    await s.port.delete!("NetworkPolicy", "shop", "prophet-mine");
  });

  it("creates a deny-egress policy for the workload's pods, updates it, and undoes both steps", async () => {
    const first = deny("185.220.101.47/32");
    expect(await updateNetworkPolicy.check(s.ctx, cart, first)).toMatchObject({ ok: true });
    const r1 = await updateNetworkPolicy.execute(s.ctx, cart, first);
    expect(r1.created).toEqual(["NetworkPolicy/shop/prophet-block-c2"]);
    const np = await s.port.get("NetworkPolicy", "shop", "prophet-block-c2");
    expect(np?.metadata.labels?.["app.kubernetes.io/managed-by"]).toBe("prophet");
    expect(np?.metadata.annotations?.["aiops.prophet.io/remediation-action"]).toBe("update_network_policy");
    const spec = np?.spec as { podSelector: { matchLabels: Record<string, string> }; egress: unknown[] };
    expect(spec.podSelector.matchLabels).toEqual({ app: "cart" });
    expect(JSON.stringify(spec.egress)).toContain('"except":["185.220.101.47/32"]');
    expect(await updateNetworkPolicy.verify(s.ctx, cart, first, r1)).toMatchObject({ ok: true });

    const second = deny("185.220.101.0/24");
    const r2 = await updateNetworkPolicy.execute(s.ctx, cart, second);
    expect(r2.changes[0]).toMatch(/^updated NetworkPolicy shop\/prophet-block-c2/);
    expect(await updateNetworkPolicy.verify(s.ctx, cart, first, r1)).toMatchObject({ ok: false });
    await updateNetworkPolicy.undo!(s.ctx, cart, r2);
    expect(await updateNetworkPolicy.verify(s.ctx, cart, first, r1)).toMatchObject({ ok: true });
    await updateNetworkPolicy.undo!(s.ctx, cart, r1);
    expect(await s.port.get("NetworkPolicy", "shop", "prophet-block-c2")).toBeUndefined();
  });

  it("allows ingress only to pods a policy already isolates", async () => {
    const p = updateNetworkPolicy.params.parse({
      name: "cart-from-frontend",
      change: { type: "allowFrom", podSelector: { app: "frontend" }, ports: [{ port: 8080 }] },
    });
    const open = await updateNetworkPolicy.check(s.ctx, cart, p);
    expect(open).toMatchObject({ ok: false, failure: "precondition" });
    expect(open.ok ? "" : open.detail).toMatch(/shop\/cart-.* not isolated for ingress/);
    await s.port.create!("NetworkPolicy", "shop", {
      kind: "NetworkPolicy",
      metadata: { name: "default-deny-ingress", namespace: "shop" },
      spec: { podSelector: {}, policyTypes: ["Ingress"] },
    });
    expect(await updateNetworkPolicy.check(s.ctx, cart, p)).toMatchObject({ ok: true });
    const r = await updateNetworkPolicy.execute(s.ctx, cart, p);
    expect(await updateNetworkPolicy.verify(s.ctx, cart, p, r)).toMatchObject({ ok: true });
    const spec = (await s.port.get("NetworkPolicy", "shop", "prophet-cart-from-frontend"))?.spec as {
      ingress: { from: unknown[]; ports: unknown[] }[];
    };
    expect(spec.ingress[0]).toEqual({
      from: [{ podSelector: { matchLabels: { app: "frontend" } } }],
      ports: [{ port: 8080, protocol: "TCP" }],
    });
    await updateNetworkPolicy.undo!(s.ctx, cart, r);
    // The user's policy is untouched.
    expect(await s.port.get("NetworkPolicy", "shop", "default-deny-ingress")).toBeDefined();
    expect(await s.port.get("NetworkPolicy", "shop", "prophet-cart-from-frontend")).toBeUndefined();
  });
});

describe("restart_network on the sandbox", () => {
  let s: ActionSandbox;
  const system = { nodeSelector: { "workload-class": "system" }, tolerations: [{ operator: "Exists" }] };
  function workload(kind: "Deployment" | "DaemonSet", name: string): KubeObject {
    return {
      kind,
      metadata: { name, namespace: "kube-system" },
      spec: {
        ...(kind === "Deployment" ? { replicas: 2 } : {}),
        selector: { matchLabels: { "k8s-app": name } },
        template: {
          metadata: { labels: { "k8s-app": name } },
          spec: {
            ...system,
            containers: [
              {
                name,
                image: `registry.k8s.io/${name}:v1`,
                resources: { requests: { cpu: "50m", memory: "64Mi" } },
              },
            ],
          },
        },
      },
    };
  }
  beforeAll(async () => {
    s = await startActionSandbox();
    await s.port.create!("Deployment", "kube-system", workload("Deployment", "coredns"));
    await s.port.create!("DaemonSet", "kube-system", workload("DaemonSet", "kube-proxy"));
    await s.port.create!("Deployment", "kube-system", workload("Deployment", "metrics-server"));
    s.advance(60);
  });
  afterAll(async () => {
    await s?.close();
  });

  it("refuses workloads that are not allow-listed networking components", async () => {
    for (const t of [
      { kind: "Deployment", namespace: "shop", name: "frontend" },
      { kind: "Deployment", namespace: "kube-system", name: "metrics-server" },
      { kind: "DaemonSet", namespace: "monitoring", name: "node-exporter" },
    ]) {
      const r = await restartNetwork.check(s.ctx, t, {});
      expect(r).toMatchObject({ ok: false, failure: "precondition" });
      expect(r.ok ? "" : r.detail).toContain(`${t.namespace}/${t.name} is not a known networking component`);
    }
    expect(
      await restartNetwork.check(s.ctx, { kind: "DaemonSet", namespace: "kube-system", name: "cilium" }, {}),
    ).toMatchObject({ ok: false, failure: "target_missing" });
    expect(restartNetwork.requiresApproval).toBe(true);
  });

  for (const t of [
    { kind: "Deployment", namespace: "kube-system", name: "coredns" },
    { kind: "DaemonSet", namespace: "kube-system", name: "kube-proxy" },
  ])
    it(`rolls ${t.kind} ${t.name} and verifies once every pod is new and available`, async () => {
      const before = (await s.port.list("Pod", "kube-system")).filter(
        (p) => p.metadata.labels?.["k8s-app"] === t.name,
      );
      expect(before.length).toBeGreaterThan(0);
      expect(await restartNetwork.check(s.ctx, t, {})).toMatchObject({ ok: true });
      const result = await restartNetwork.execute(s.ctx, t, {});
      expect(result.specHashBefore).not.toBe(result.specHashAfter);
      const obj = await s.port.get(t.kind, t.namespace, t.name);
      const tpl = (obj?.spec as { template: { metadata: { annotations: Record<string, string> } } }).template;
      expect(tpl.metadata.annotations["kubectl.kubernetes.io/restartedAt"]).toBe(
        s.ctx.clock.now().toISOString(),
      );
      expect(await restartNetwork.verify(s.ctx, t, {}, result)).toMatchObject({ ok: false });
      s.advance(180);
      expect(await restartNetwork.verify(s.ctx, t, {}, result)).toMatchObject({ ok: true });
      const after = (await s.port.list("Pod", "kube-system")).filter(
        (p) => p.metadata.labels?.["k8s-app"] === t.name,
      );
      const oldNames = new Set(before.map((p) => p.metadata.name));
      expect(after.some((p) => oldNames.has(p.metadata.name))).toBe(false);
    });
});
