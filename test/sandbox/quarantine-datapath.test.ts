// The quarantine end to end on the simulated datapath: a pod of shop/cart turns intruder (the
// network-intrusion fault), quarantine_pod runs from the action registry through the cluster port,
// and the sandbox's Hubble flows show every packet from or to it dropped by the deny policy, except
// DNS to kube-dns and the kubelet's probes from the node, which keep the pod Ready. Without
// preserveProbes the probes are dropped too and the kubelet takes the pod out of readiness.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../infra/sandbox/apiserver/types.js";
import { PolicySet, type PolicyPeer } from "../../infra/sandbox/flows/policy.js";
import { startSandbox, type HubbleFlow, type Sandbox } from "../../infra/sandbox/index.js";
import { kubeClusterPort } from "../../shared/kube/cluster-port.js";
import type { ClusterPort } from "../../shared/ports/cluster.js";
import { silentLogger } from "../../shared/ports/log.js";
import { defaultLimits, type ActionContext, type ActionTarget } from "../../shared/remediation/action.js";
import { actionNamed } from "../../shared/remediation/actions/index.js";
import { ciliumQuarantinePolicy } from "../../shared/remediation/actions/quarantine-pod.js";

type Endpoint = { pod_name?: string; labels?: string[] };
type Flow = HubbleFlow & { source?: Endpoint; destination?: Endpoint };

const C2 = "185.220.101.47";
const fromNode = (f: Flow) => f.source?.labels?.includes("reserved:host") === true;
const toNode = (f: Flow) => f.destination?.labels?.includes("reserved:host") === true;
const isKubeDns = (e: Endpoint | undefined) => e?.labels?.includes("k8s:k8s-app=kube-dns") === true;
const dnsPort = (f: Flow) => f.l4?.UDP?.destination_port === 53 || f.l4?.UDP?.source_port === 53;

describe("quarantine on the sandbox datapath", () => {
  let sb: Sandbox;
  let port: ClusterPort;
  let ctx: ActionContext;
  let flows: Flow[] = [];
  const quarantine = actionNamed("quarantine_pod")!;

  /** Advances the simulated clock; the flows of that span. */
  const during = (ms: number): Flow[] => {
    flows = [];
    sb.clock.advance(ms);
    return flows;
  };
  const touching = (list: Flow[], pod: string) =>
    list.filter((f) => f.source?.pod_name === pod || f.destination?.pod_name === pod);
  /** The pod of the workload that scans and calls the C2 address. */
  const attackerOf = (list: Flow[]) =>
    list.find((f) => f.IP?.destination === C2 && !f.is_reply)?.source?.pod_name ?? "";
  const ready = async (name: string) =>
    (
      (await port.get("Pod", "shop", name))?.status as { conditions?: { type: string; status: string }[] }
    )?.conditions?.find((c) => c.type === "Ready")?.status;
  const run = async (t: ActionTarget, raw: Record<string, unknown>) => {
    const p: unknown = quarantine.params.parse(raw);
    expect(await quarantine.check(ctx, t, p)).toMatchObject({ ok: true });
    return quarantine.execute(ctx, t, p);
  };

  beforeAll(async () => {
    sb = await startSandbox({ seed: 7, flowLog: false });
    port = kubeClusterPort({ kubeconfig: sb.kubeconfigPath });
    ctx = {
      cluster: port,
      clock: sb.clock,
      log: silentLogger,
      limits: defaultLimits,
      actor: "test",
      remediationId: "rem-datapath",
    };
    sb.flows.subscribe((l) => flows.push(l.flow as Flow));
  });
  afterAll(async () => {
    await sb?.close();
  });

  it("drops everything from and to the quarantined pod but DNS and the kubelet's probes, which keep it Ready", async () => {
    sb.inject({ kind: "network-intrusion", target: "shop/cart" });
    const attacker = attackerOf(during(10_000));
    expect(attacker).toMatch(/^cart-/);

    const t = { kind: "Pod", namespace: "shop", name: attacker };
    const result = await run(t, { reason: "scan and C2 egress" });
    expect(result.created).toEqual(["CiliumClusterwideNetworkPolicy/prophet-quarantine"]);
    sb.clock.advance(3_000); // the datapath re-reads labels every 2 s
    const seen = during(60_000);
    const all = touching(seen, attacker);
    const probes = all.filter((f) => fromNode(f) || toNode(f));
    const dns = all.filter((f) => dnsPort(f) && (isKubeDns(f.destination) || isKubeDns(f.source)));
    const rest = all.filter((f) => !probes.includes(f) && !dns.includes(f));

    // The scan and the C2 connection go on, and are denied by the quarantine policy.
    expect(rest.length).toBeGreaterThan(100);
    for (const f of rest) expect(f).toMatchObject({ verdict: "DROPPED", drop_reason_desc: "POLICY_DENY" });
    const c2 = rest.filter((f) => f.IP?.destination === C2);
    expect(c2.length).toBeGreaterThan(0);
    expect(c2[0]).toMatchObject({
      traffic_direction: "EGRESS",
      egress_denied_by: [{ name: "prophet-quarantine", kind: "CiliumClusterwideNetworkPolicy" }],
    });
    // Nothing reaches it through its Service any more.
    expect(rest.some((f) => f.destination?.pod_name === attacker && f.verdict === "FORWARDED")).toBe(false);

    // DNS (the tunnel included: the trade-off of preserveProbes) and the probes pass.
    expect(dns.length).toBeGreaterThan(0);
    expect(dns.every((f) => f.verdict === "FORWARDED")).toBe(true);
    const probeRequests = probes.filter((f) => fromNode(f) && !f.is_reply);
    expect(probeRequests.length).toBeGreaterThanOrEqual(5);
    for (const f of probeRequests)
      expect(f).toMatchObject({
        verdict: "FORWARDED",
        traffic_direction: "INGRESS",
        source: { identity: 1, labels: ["reserved:host"] },
        l4: { TCP: { destination_port: 8080 } },
      });
    expect(await ready(attacker)).toBe("True");
    expect(await quarantine.verify(ctx, t, {}, result)).toMatchObject({ ok: true });
  });

  it("without preserveProbes drops the probes too, and the kubelet marks the pod unready", async () => {
    sb.inject({ kind: "network-intrusion", target: "shop/frontend" });
    const attacker = attackerOf(during(10_000).filter((f) => f.source?.pod_name?.startsWith("frontend-")));
    expect(attacker).toMatch(/^frontend-/);
    const t = { kind: "Pod", namespace: "shop", name: attacker };
    const result = await run(t, { preserveProbes: false });
    expect(result.created).toEqual(["CiliumClusterwideNetworkPolicy/prophet-quarantine-strict"]);
    sb.clock.advance(3_000);
    const all = touching(during(60_000), attacker);
    expect(all.length).toBeGreaterThan(100);
    for (const f of all) expect(f).toMatchObject({ verdict: "DROPPED", drop_reason_desc: "POLICY_DENY" });
    const probes = all.filter(fromNode);
    expect(probes.length).toBeGreaterThanOrEqual(5);
    expect(probes[0]).toMatchObject({
      traffic_direction: "INGRESS",
      ingress_denied_by: [{ name: "prophet-quarantine-strict" }],
    });
    expect(all.some((f) => dnsPort(f))).toBe(true);
    expect(await ready(attacker)).toBe("False");
    const events = await port.events({ kind: "Pod", namespace: "shop", name: attacker });
    expect(
      events.some((e) => e.reason === "Unhealthy" && /context deadline exceeded/.test(e.message ?? "")),
    ).toBe(true);

    // Released: the probes pass again and the pod is Ready once more.
    await quarantine.undo!(ctx, t, result);
    sb.clock.advance(40_000);
    expect(await ready(attacker)).toBe("True");
  });
});

describe("the datapath rules the quarantine policy relies on", () => {
  const ctx = {
    clock: { now: () => new Date("2026-01-05T08:00:00Z") },
    actor: "test",
    remediationId: "rem-rules",
  } as unknown as ActionContext;
  const pod = (namespace: string, labels: Record<string, string>, ip = "10.244.1.5"): PolicyPeer => ({
    namespace,
    labels,
    ip,
  });
  const suspect = pod("shop", { app: "cart", "aiops.prophet.io/quarantine": "true" });
  const frontend = pod("shop", { app: "frontend" }, "10.244.1.9");
  const dns = pod("kube-system", { "k8s-app": "kube-dns" }, "10.244.255.10");
  const host: PolicyPeer = { ip: "10.0.1.10", entity: "host" };
  const otherNode: PolicyPeer = { ip: "10.0.1.11", entity: "remote-node" };
  const world: PolicyPeer = { ip: "203.0.113.7" };
  // Another policy allows everything in and out: the deny rules must win over it.
  const allowAll: KubeObject = {
    apiVersion: "cilium.io/v2",
    kind: "CiliumNetworkPolicy",
    metadata: { name: "allow-all", namespace: "shop" },
    spec: { endpointSelector: {}, ingress: [{ fromEntities: ["all"] }], egress: [{ toEntities: ["all"] }] },
  };
  const quarantinePolicy = (preserveProbes: boolean) =>
    ciliumQuarantinePolicy(ctx, preserveProbes) as KubeObject;
  const denied = (direction: "INGRESS" | "EGRESS") => ({
    verdict: "DROPPED",
    reason: "POLICY_DENY",
    direction,
  });

  it("keeps the node's probes and DNS, denies the rest in both directions over any allow", () => {
    const set = new PolicySet([quarantinePolicy(true), allowAll], new Map());
    expect(set.decide(host, suspect, 8080, "TCP").verdict).toBe("FORWARDED");
    expect(set.decide(suspect, dns, 53, "UDP").verdict).toBe("FORWARDED");
    // kube-dns on another port: not denied, but not allowed by the quarantine either — the
    // other policy's allow-all lets it through.
    expect(set.decide(suspect, dns, 9153, "TCP").verdict).toBe("FORWARDED");
    expect(set.decide(frontend, suspect, 8080, "TCP")).toMatchObject(denied("INGRESS"));
    expect(set.decide(suspect, frontend, 8080, "TCP")).toMatchObject(denied("EGRESS"));
    expect(set.decide(suspect, pod("payments", { app: "postgres" }), 5432, "TCP")).toMatchObject(
      denied("EGRESS"),
    );
    expect(set.decide(suspect, pod("kube-system", { app: "metrics-server" }), 443, "TCP")).toMatchObject(
      denied("EGRESS"),
    );
    expect(set.decide(world, suspect, 8080, "TCP")).toMatchObject(denied("INGRESS"));
    expect(set.decide(otherNode, suspect, 8080, "TCP")).toMatchObject(denied("INGRESS"));
    expect(set.decide(suspect, world, 4444, "TCP")).toMatchObject(denied("EGRESS"));
    expect(set.decide(suspect, host, 10250, "TCP")).toMatchObject(denied("EGRESS"));
    // Unlabelled pods are untouched.
    expect(set.decide(frontend, pod("shop", { app: "cart" }), 8080, "TCP").verdict).toBe("FORWARDED");
  });

  it("without preserveProbes denies the node and DNS too", () => {
    const strict = {
      ...suspect,
      labels: { ...suspect.labels, "aiops.prophet.io/quarantine-mode": "strict" },
    };
    const set = new PolicySet([quarantinePolicy(false), allowAll], new Map());
    expect(set.decide(host, strict, 8080, "TCP")).toMatchObject(denied("INGRESS"));
    expect(set.decide(strict, dns, 53, "UDP")).toMatchObject(denied("EGRESS"));
  });

  it("matches entities and reserved identities as Cilium does", () => {
    const ccnp = (spec: Record<string, unknown>): KubeObject => ({
      apiVersion: "cilium.io/v2",
      kind: "CiliumClusterwideNetworkPolicy",
      metadata: { name: "t" },
      spec: { endpointSelector: { matchLabels: { app: "cart" } }, ...spec },
    });
    const cart = pod("shop", { app: "cart" });
    const verdict = (spec: Record<string, unknown>, src: PolicyPeer) =>
      new PolicySet([ccnp(spec)], new Map()).decide(src, cart, 8080, "TCP").verdict;
    // An empty selector in a clusterwide policy: every pod of every namespace, no reserved identity.
    const emptySel = { ingressDeny: [{ fromEndpoints: [{}] }] };
    expect(verdict(emptySel, pod("payments", { app: "x" }))).toBe("DROPPED");
    expect(verdict(emptySel, host)).toBe("FORWARDED");
    expect(verdict(emptySel, world)).toBe("DROPPED"); // default deny from the deny rule, not the rule
    // NotIn also matches identities without the key, the reserved ones included.
    const notIn = {
      ingressDeny: [
        {
          fromEndpoints: [
            { matchExpressions: [{ key: "k8s:app", operator: "NotIn", values: ["frontend"] }] },
          ],
        },
      ],
    };
    expect(verdict(notIn, host)).toBe("DROPPED");
    expect(verdict(notIn, frontend)).toBe("DROPPED"); // default deny, no allow
    expect(
      new PolicySet([ccnp({ ...notIn, ingress: [{ fromEndpoints: [{}] }] })], new Map()).decide(
        frontend,
        cart,
        8080,
        "TCP",
      ).verdict,
    ).toBe("FORWARDED");
    // `reserved:host` selects the node; entities name each reserved identity.
    expect(
      verdict({ ingressDeny: [{ fromEndpoints: [{ matchLabels: { "reserved:host": "" } }] }] }, host),
    ).toBe("DROPPED");
    for (const [entity, peer] of [
      ["host", host],
      ["remote-node", otherNode],
      ["kube-apiserver", { ip: "10.0.0.2", entity: "kube-apiserver" } as PolicyPeer],
      ["cluster", otherNode],
      ["world", world],
    ] as const) {
      const set = new PolicySet([ccnp({ ingress: [{ fromEntities: [entity] }] })], new Map());
      expect(set.decide(peer, cart, 8080, "TCP").verdict, entity).toBe("FORWARDED");
    }
    const onlyWorld = new PolicySet([ccnp({ ingress: [{ fromEntities: ["world"] }] })], new Map());
    expect(onlyWorld.decide(otherNode, cart, 8080, "TCP").verdict).toBe("DROPPED");
    expect(onlyWorld.decide(frontend, cart, 8080, "TCP").verdict).toBe("DROPPED");
    // A NetworkPolicy never blocks the pod's own node.
    const np: KubeObject = {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "deny", namespace: "shop" },
      spec: { podSelector: {}, policyTypes: ["Ingress"] },
    };
    expect(new PolicySet([np], new Map()).decide(host, cart, 8080, "TCP").verdict).toBe("FORWARDED");
    expect(new PolicySet([np], new Map()).decide(otherNode, cart, 8080, "TCP").verdict).toBe("DROPPED");
  });
});
