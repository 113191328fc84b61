// Flows of the simulated datapath: Hubble-shaped records for the service graph, DNS and egress;
// verdicts from NetworkPolicy / CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy; the intrusion
// and pvc-filling faults; the exporter file, the stream and the HTTP endpoint.
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../infra/sandbox/apiserver/types.js";
import {
  ExporterLineSchema,
  FlowSchema,
  startSandbox,
  type HubbleFlow,
  type Sandbox,
} from "../../infra/sandbox/index.js";
import { FlowLog } from "../../infra/sandbox/flows/log.js";
import { PolicySet } from "../../infra/sandbox/flows/policy.js";

const SAMPLES = new URL("../../../shared/samples", import.meta.url).pathname;
const SAMPLE_FILES = [
  "hubble-exporter-events.log.jsonl",
  "hubble-flow-dropped-policy-deny-cilium-1.18.3.json",
  "hubble-flow-forwarded-cilium-1.19.2-exporter.json",
];

type Flow = HubbleFlow & {
  source?: { namespace?: string; pod_name?: string; labels?: string[]; workloads?: { name?: string }[] };
  destination?: { namespace?: string; pod_name?: string; labels?: string[]; workloads?: { name?: string }[] };
};

const app = (e: Flow["source"]) => e?.workloads?.[0]?.name;
const port = (f: Flow) => f.l4?.TCP?.destination_port ?? f.l4?.UDP?.destination_port;

describe("sandbox flows", () => {
  let sb: Sandbox;
  let dir: string;
  let flows: Flow[] = [];

  /** Advances the clock and returns the flows of that span. */
  const during = (ms: number): Flow[] => {
    flows = [];
    sb.clock.advance(ms);
    return flows;
  };
  const requests = (list: Flow[], from: string, to: string) =>
    list.filter((f) => !f.is_reply && app(f.source) === from && app(f.destination) === to);
  const store = () => sb.api.store;
  const apply = (obj: KubeObject) =>
    store().create(store().resource({ apiVersion: obj.apiVersion, kind: obj.kind }), obj);
  const remove = (obj: KubeObject) =>
    store().delete(
      store().resource({ apiVersion: obj.apiVersion, kind: obj.kind }),
      obj.metadata.namespace,
      obj.metadata.name ?? "",
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "sim-flows-"));
    sb = await startSandbox({
      seed: 42,
      flowLog: join(dir, "flows.jsonl"),
      kubeconfigPath: join(dir, "kubeconfig"),
    });
    sb.flows.subscribe((l) => flows.push(l.flow as Flow));
  });

  afterAll(async () => {
    await sb.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("records pod-to-pod calls along the service graph, DNS lookups and egress, with Hubble's fields", () => {
    const seen = during(60_000);
    expect(requests(seen, "frontend", "cart").length).toBeGreaterThan(0);
    expect(requests(seen, "frontend", "catalog").length).toBeGreaterThan(0);
    expect(requests(seen, "checkout", "fraud-scorer").every((f) => port(f) === 9000)).toBe(true);
    expect(requests(seen, "checkout", "postgres").length).toBeGreaterThan(0);
    expect(requests(seen, "checkout", "postgres").every((f) => port(f) === 5432)).toBe(true);
    for (const f of seen) expect(FlowSchema.safeParse(f).success).toBe(true);

    const call = requests(seen, "frontend", "cart")[0];
    expect(call).toMatchObject({
      verdict: "FORWARDED",
      Type: "L3_L4",
      traffic_direction: "INGRESS",
      trace_observation_point: "TO_ENDPOINT",
      IP: { ipVersion: "IPv4" },
      l4: { TCP: { destination_port: 8080 } },
      source: {
        namespace: "shop",
        cluster_name: "default",
        workloads: [{ name: "frontend", kind: "Deployment" }],
      },
      event_type: { type: 4 },
    });
    expect(call?.source?.labels).toEqual(
      expect.arrayContaining(["k8s:app=frontend", "k8s:io.kubernetes.pod.namespace=shop"]),
    );
    expect(call?.time).toMatch(/^2026-01-05T\d\d:\d\d:\d\d\.\d{9}Z$/);
    expect(call?.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(call?.node_name).toMatch(/^default\//);
    expect(
      seen.some((f) => f.is_reply && app(f.source) === "cart" && app(f.destination) === "frontend"),
    ).toBe(true);

    const dns = seen.filter((f) => f.Type === "L7" && f.l7?.dns);
    expect(
      dns.some((f) => f.l7?.type === "REQUEST" && f.l7.dns?.query === "cart.shop.svc.cluster.local."),
    ).toBe(true);
    expect(
      dns.every((f) => f.l4?.UDP !== undefined && (port(f) === 53 || f.l4?.UDP?.source_port === 53)),
    ).toBe(true);
    expect(dns.find((f) => f.l7?.type === "REQUEST")?.destination?.labels).toContain("k8s:k8s-app=kube-dns");
    expect(
      dns.some((f) => f.l7?.type === "RESPONSE" && f.is_reply && /^\d+$/.test(f.l7.latency_ns ?? "")),
    ).toBe(true);

    const stripe = seen.find((f) => f.destination_names?.includes("api.stripe.com"));
    expect(stripe).toMatchObject({
      traffic_direction: "EGRESS",
      destination: { identity: 2, labels: ["reserved:world"] },
    });
    expect(app(stripe?.source)).toBe("checkout");
  });

  it("drops a namespace's ingress under a default-deny NetworkPolicy, POLICY_DENIED", () => {
    const deny: KubeObject = {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "default-deny-ingress", namespace: "shop" },
      spec: { podSelector: {}, policyTypes: ["Ingress"] },
    };
    apply(deny);
    try {
      const seen = during(30_000);
      const fromNode = (f: Flow) => f.source?.labels?.includes("reserved:host") === true;
      const intoShop = seen.filter(
        (f) => !f.is_reply && f.destination?.namespace === "shop" && !f.l7 && !fromNode(f),
      );
      expect(intoShop.length).toBeGreaterThan(10);
      // The kubelet's probes from each pod's node pass: a NetworkPolicy never blocks the node.
      const probes = seen.filter((f) => fromNode(f) && f.destination?.namespace === "shop");
      expect(probes.length).toBeGreaterThan(0);
      expect(probes.every((f) => f.verdict === "FORWARDED")).toBe(true);
      for (const f of intoShop)
        expect(f).toMatchObject({
          verdict: "DROPPED",
          drop_reason_desc: "POLICY_DENIED",
          drop_reason: 133,
          traffic_direction: "INGRESS",
          l4: { TCP: { flags: { SYN: true } } },
          event_type: { type: 1, sub_type: 133 },
        });
      expect(requests(seen, "checkout", "fraud-scorer").every((f) => f.verdict === "FORWARDED")).toBe(true);
      expect(seen.some((f) => f.verdict === "FORWARDED" && f.destination?.namespace === "payments")).toBe(
        true,
      );

      // A CiliumNetworkPolicy allow re-permits frontend → cart on 8080 only.
      const allow: KubeObject = {
        apiVersion: "cilium.io/v2",
        kind: "CiliumNetworkPolicy",
        metadata: { name: "cart-from-frontend", namespace: "shop" },
        spec: {
          endpointSelector: { matchLabels: { app: "cart" } },
          ingress: [
            {
              fromEndpoints: [
                { matchExpressions: [{ key: "k8s:app", operator: "In", values: ["frontend"] }] },
              ],
              toPorts: [{ ports: [{ port: "8080", protocol: "TCP" }] }],
            },
          ],
        },
      };
      apply(allow);
      try {
        const after = during(30_000);
        expect(requests(after, "frontend", "cart").length).toBeGreaterThan(0);
        expect(requests(after, "frontend", "cart").every((f) => f.verdict === "FORWARDED")).toBe(true);
        expect(requests(after, "frontend", "catalog").every((f) => f.verdict === "DROPPED")).toBe(true);
        // The selector has no namespace: peers from payments are not allowed.
        expect(requests(after, "checkout", "cart").every((f) => f.verdict === "DROPPED")).toBe(true);

        // A cluster-wide ingressDeny wins over that allow.
        const ccnp: KubeObject = {
          apiVersion: "cilium.io/v2",
          kind: "CiliumClusterwideNetworkPolicy",
          metadata: { name: "deny-frontend-to-cart" },
          spec: {
            endpointSelector: {
              matchLabels: { "k8s:app": "cart", "k8s:io.kubernetes.pod.namespace": "shop" },
            },
            ingressDeny: [{ fromEndpoints: [{ matchLabels: { app: "frontend" } }] }],
          },
        };
        apply(ccnp);
        try {
          const denied = requests(during(30_000), "frontend", "cart");
          expect(denied.length).toBeGreaterThan(0);
          for (const f of denied)
            expect(f).toMatchObject({
              verdict: "DROPPED",
              drop_reason_desc: "POLICY_DENY",
              ingress_denied_by: [{ name: "deny-frontend-to-cart", kind: "CiliumClusterwideNetworkPolicy" }],
            });
        } finally {
          remove(ccnp);
        }
      } finally {
        remove(allow);
      }
    } finally {
      remove(deny);
    }
    expect(requests(during(20_000), "frontend", "catalog").every((f) => f.verdict === "FORWARDED")).toBe(
      true,
    );
  });

  it("shows a network intrusion as a scan and an unknown egress, dropped where policy forbids, gone after revert", () => {
    const fault = sb.inject({ kind: "network-intrusion", target: "shop/recommender" });
    const scan = during(10_000).filter((f) => app(f.source) === "recommender" && !f.is_reply);
    expect(new Set(scan.map(port)).size).toBeGreaterThanOrEqual(10);
    expect(new Set(scan.map((f) => f.IP?.destination)).size).toBeGreaterThanOrEqual(5);
    const c2 = scan.filter((f) => f.IP?.destination === "185.220.101.47");
    expect(c2.length).toBeGreaterThan(0);
    expect(c2[0]).toMatchObject({
      verdict: "FORWARDED",
      l4: { TCP: { destination_port: 4444, flags: { SYN: true } } },
      destination: { identity: 2 },
    });
    expect(scan.some((f) => /\.t\.cdn-telemetry-sync\.net\.$/.test(f.l7?.dns?.query ?? ""))).toBe(true);

    // Egress lock-down: only DNS and catalog; the scan and the unknown egress are dropped.
    const lockdown: KubeObject = {
      apiVersion: "cilium.io/v2",
      kind: "CiliumNetworkPolicy",
      metadata: { name: "recommender-egress", namespace: "shop" },
      spec: {
        endpointSelector: { matchLabels: { app: "recommender" } },
        egress: [
          {
            toEndpoints: [
              {
                matchLabels: { "k8s:io.kubernetes.pod.namespace": "kube-system", "k8s:k8s-app": "kube-dns" },
              },
            ],
            toPorts: [{ ports: [{ port: "53", protocol: "ANY" }] }],
          },
          { toEndpoints: [{ matchLabels: { app: "catalog" } }], toPorts: [{ ports: [{ port: "8080" }] }] },
          { toFQDNs: [{ matchPattern: "*.amazonaws.com" }], toPorts: [{ ports: [{ port: "443" }] }] },
        ],
      },
    };
    apply(lockdown);
    const locked = during(10_000).filter((f) => app(f.source) === "recommender" && !f.is_reply && !f.l7);
    const toC2 = locked.filter((f) => f.IP?.destination === "185.220.101.47");
    expect(toC2.length).toBeGreaterThan(0);
    for (const f of toC2)
      expect(f).toMatchObject({
        verdict: "DROPPED",
        drop_reason_desc: "POLICY_DENIED",
        traffic_direction: "EGRESS",
      });
    const offPolicy = locked.filter(
      (f) =>
        !(app(f.destination) === "catalog" && port(f) === 8080) && !f.destination_names && port(f) !== 53,
    );
    expect(offPolicy.length).toBeGreaterThan(20);
    expect(offPolicy.every((f) => f.verdict === "DROPPED")).toBe(true);
    remove(lockdown);

    sb.revert(fault.id);
    const after = during(30_000).filter((f) => app(f.source) === "recommender" && !f.is_reply);
    expect(after.some((f) => f.IP?.destination === "185.220.101.47")).toBe(false);
    expect(new Set(after.map(port)).size).toBeLessThanOrEqual(3);
  });

  it("enforces a quarantine label with a cluster-wide deny on both directions, within seconds of labelling", () => {
    const podsRt = store().resource("pods");
    const victim = store()
      .list(podsRt, { namespace: "shop" })
      .filter((p) => p.metadata.labels?.app === "cart")
      .sort((a, b) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""))[0];
    if (!victim) throw new Error("no cart pod");
    const quarantine: KubeObject = {
      apiVersion: "cilium.io/v2",
      kind: "CiliumClusterwideNetworkPolicy",
      metadata: { name: "prophet-quarantine" },
      spec: {
        endpointSelector: { matchLabels: { "aiops.prophet.io/quarantine": "true" } },
        ingressDeny: [{ fromEntities: ["all"] }],
        egressDeny: [{ toEntities: ["all"] }],
      },
    };
    apply(quarantine);
    store().update(podsRt, {
      ...victim,
      metadata: {
        ...victim.metadata,
        labels: { ...victim.metadata.labels, "aiops.prophet.io/quarantine": "true" },
      },
    });
    try {
      sb.clock.advance(3_000);
      const seen = during(60_000);
      const touching = seen.filter(
        (f) =>
          f.source?.pod_name === victim.metadata.name || f.destination?.pod_name === victim.metadata.name,
      );
      expect(touching.length).toBeGreaterThan(0);
      for (const f of touching)
        expect(f).toMatchObject({ verdict: "DROPPED", drop_reason_desc: "POLICY_DENY" });
      expect(
        seen.some((f) => app(f.destination) === "cart" && f.verdict === "FORWARDED" && !f.is_reply),
      ).toBe(true);
    } finally {
      remove(quarantine);
    }
  });

  it("writes exporter JSONL lines that parse with the schema, serves them over HTTP and streams new ones", async () => {
    const path = sb.flows.path ?? "";
    expect(path).toBe(join(dir, "flows.jsonl"));
    // Rotated at 16 MiB: the current file and its backups hold every flow.
    const files = [`${path}.2`, `${path}.1`, path].filter((f) => existsSync(f));
    const lines = files.flatMap((f) => readFileSync(f, "utf8").trim().split("\n"));
    expect(lines.length).toBe(sb.flows.log.count);
    expect(lines.length).toBeGreaterThan(100);
    for (const text of lines) {
      const line = ExporterLineSchema.parse(JSON.parse(text));
      expect(line.node_name).toBe(line.flow.node_name);
      expect(line.time).toBe(line.flow.time);
    }

    const since = sb.clock.now().toISOString();
    sb.clock.advance(5_000);
    const res = await fetch(`${sb.url}/sandbox/flows?since=${encodeURIComponent(since)}`);
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    const recent = (await res.text())
      .trim()
      .split("\n")
      .map((l) => ExporterLineSchema.parse(JSON.parse(l)));
    expect(recent.length).toBeGreaterThan(0);
    expect(recent.every((l) => Date.parse(l.time ?? "") >= Date.parse(since))).toBe(true);
    expect((await fetch(`${sb.url}/sandbox/flows?since=yesterday`)).status).toBe(400);

    const ctrl = new AbortController();
    const follow = await fetch(
      `${sb.url}/sandbox/flows?follow=1&since=${encodeURIComponent(sb.clock.now().toISOString())}`,
      { signal: ctrl.signal },
    );
    const reader = follow.body?.getReader();
    sb.clock.advance(3_000);
    const chunk = await reader?.read();
    const first = new TextDecoder().decode(chunk?.value).split("\n")[0] ?? "";
    expect(ExporterLineSchema.safeParse(JSON.parse(first)).success).toBe(true);
    ctrl.abort();
  });

  it("fills a PersistentVolumeClaim toward its capacity and fires KubePersistentVolumeFillingUp; revert frees it", async () => {
    const query = async (q: string) => {
      const res = await fetch(`${sb.prometheusUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
      const body = (await res.json()) as { data: { result: { value: [number, string] }[] } };
      return Number(body.data.result[0]?.value[1] ?? NaN);
    };
    const ratio =
      'kubelet_volume_stats_used_bytes{persistentvolumeclaim="data-postgres-0"} / kubelet_volume_stats_capacity_bytes{persistentvolumeclaim="data-postgres-0"}';
    sb.clock.advance(30_000);
    const before = await query(ratio);
    expect(before).toBeGreaterThan(0.1);
    expect(before).toBeLessThan(0.5);
    const fault = sb.inject({ kind: "pvc-filling", target: "payments/postgres" });
    expect(fault.target).toBe("payments/postgres");
    sb.clock.advance(10 * 60_000);
    expect(await query(ratio)).toBeGreaterThan(0.97);
    expect(
      sb.alerting.evaluator.firing().map((a) => `${a.labels.alertname}/${a.labels.persistentvolumeclaim}`),
    ).toContain("KubePersistentVolumeFillingUp/data-postgres-0");
    sb.revert(fault.id);
    sb.clock.advance(60_000);
    expect(await query(ratio)).toBeCloseTo(before, 5);
  });
});

describe("flow determinism", () => {
  it("produces the same flows for the same seed", async () => {
    const run = async () => {
      const sb = await startSandbox({ seed: 42, flowLog: false });
      const out: string[] = [];
      sb.flows.subscribe((l) => out.push(JSON.stringify(l)));
      sb.clock.advance(20_000);
      await sb.close();
      return out;
    };
    const [a, b] = [await run(), await run()];
    expect(a.length).toBeGreaterThan(50);
    expect(b).toEqual(a);
  });
});

describe("flow schema and policy verdicts", () => {
  it("parses the Hubble samples", () => {
    for (const file of SAMPLE_FILES) {
      const lines = readFileSync(join(SAMPLES, file), "utf8").trim().split("\n");
      for (const l of lines) expect(ExporterLineSchema.safeParse(JSON.parse(l)).success).toBe(true);
    }
    expect(ExporterLineSchema.safeParse({ flow: { verdict: "MAYBE" } }).success).toBe(false);
    expect(FlowSchema.safeParse({ l4: { TCP: { source_port: "80" } } }).success).toBe(false);
  });

  const pod = (namespace: string, labels: Record<string, string>, ip = "10.244.0.5") => ({
    namespace,
    labels,
    ip,
  });
  const np = (ns: string, spec: Record<string, unknown>): KubeObject => ({
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: "p", namespace: ns },
    spec,
  });

  it("honours namespaceSelector, matchExpressions, ports and ipBlock in NetworkPolicies", () => {
    const nsLabels = new Map([["monitoring", { team: "obs", "kubernetes.io/metadata.name": "monitoring" }]]);
    const set = new PolicySet(
      [
        np("shop", {
          podSelector: { matchExpressions: [{ key: "app", operator: "In", values: ["cart", "catalog"] }] },
          ingress: [
            { from: [{ namespaceSelector: { matchLabels: { team: "obs" } } }], ports: [{ port: 9090 }] },
            { from: [{ podSelector: { matchLabels: { app: "frontend" } } }] },
          ],
          egress: [
            {
              to: [{ ipBlock: { cidr: "52.0.0.0/8", except: ["52.1.0.0/16"] } }],
              ports: [{ protocol: "TCP", port: 443 }],
            },
          ],
          policyTypes: ["Ingress", "Egress"],
        }),
      ],
      nsLabels,
    );
    const cart = pod("shop", { app: "cart" });
    expect(set.decide(pod("monitoring", { app: "prom" }), cart, 9090, "TCP").verdict).toBe("FORWARDED");
    expect(set.decide(pod("monitoring", { app: "prom" }), cart, 8080, "TCP").verdict).toBe("DROPPED");
    expect(set.decide(pod("shop", { app: "frontend" }), cart, 8080, "TCP").verdict).toBe("FORWARDED");
    expect(set.decide(pod("payments", { app: "frontend" }), cart, 8080, "TCP").verdict).toBe("DROPPED");
    expect(
      set.decide(pod("shop", { app: "frontend" }), pod("shop", { app: "recommender" }), 1, "TCP").verdict,
    ).toBe("FORWARDED");
    expect(set.decide(cart, { ip: "52.9.9.9" }, 443, "TCP").verdict).toBe("FORWARDED");
    expect(set.decide(cart, { ip: "52.1.9.9" }, 443, "TCP")).toMatchObject({
      verdict: "DROPPED",
      direction: "EGRESS",
    });
    expect(set.decide(cart, { ip: "52.9.9.9" }, 443, "UDP").verdict).toBe("DROPPED");
  });

  it("matches toFQDNs and toCIDRSet, and puts an endpoint into default deny with `ingress: [{}]`", () => {
    const cnp = (spec: Record<string, unknown>): KubeObject => ({
      apiVersion: "cilium.io/v2",
      kind: "CiliumNetworkPolicy",
      metadata: { name: "c", namespace: "shop", generation: 3 },
      spec,
    });
    const set = new PolicySet(
      [
        cnp({
          endpointSelector: { matchLabels: { app: "cart" } },
          egress: [
            { toFQDNs: [{ matchName: "api.stripe.com" }] },
            { toCIDRSet: [{ cidr: "10.0.0.0/8", except: ["10.9.0.0/16"] }] },
          ],
          ingress: [{}],
        }),
      ],
      new Map(),
    );
    const cart = pod("shop", { app: "cart" });
    expect(set.decide(cart, { ip: "54.1.1.1", fqdn: "api.stripe.com" }, 443, "TCP").verdict).toBe(
      "FORWARDED",
    );
    expect(set.decide(cart, { ip: "54.1.1.1", fqdn: "evil.example" }, 443, "TCP").verdict).toBe("DROPPED");
    expect(set.decide(cart, { ip: "10.3.3.3" }, 22, "TCP").verdict).toBe("FORWARDED");
    expect(set.decide(cart, { ip: "10.9.3.3" }, 22, "TCP").verdict).toBe("DROPPED");
    expect(set.decide(pod("shop", { app: "frontend" }), cart, 8080, "TCP")).toMatchObject({
      verdict: "DROPPED",
      reason: "POLICY_DENIED",
      direction: "INGRESS",
    });
  });

  it("rotates the exporter file at its size bound", () => {
    const dir = mkdtempSync(join(tmpdir(), "flow-log-"));
    try {
      const path = join(dir, "flows.jsonl");
      const log = new FlowLog({ path, maxBytes: 4096, maxBackups: 1, recent: 10 });
      const flow = {
        time: "2026-01-05T08:00:00.000000001Z",
        verdict: "FORWARDED" as const,
        node_name: "default/n1",
        Summary: "x".repeat(200),
      };
      for (let i = 0; i < 100; i++) log.write([flow]);
      expect(statSync(path).size).toBeLessThanOrEqual(4096);
      expect(existsSync(`${path}.1`)).toBe(true);
      expect(existsSync(`${path}.2`)).toBe(false);
      expect(log.recent()).toHaveLength(10);
      expect(log.count).toBe(100);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
