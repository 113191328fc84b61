import { describe, expect, it } from "vitest";
import { ProphetError } from "../../shared/errors.js";
import { FlowAnalyzer, parseAnalyzerConfig, type Detection } from "../../shared/flows/analyzer.js";
import { labelEntropy, registeredDomain } from "../../shared/flows/detectors/dns-exfil.js";
import type { Flow, FlowPeer } from "../../shared/flows/types.js";
import { flow, reply as baseReply, world } from "../support/flows.js";
import { seededRandom, type Random } from "../../shared/random.js";

const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);
const SEC = 1000;
const MIN = 60_000;

const APPS: Record<string, number> = {
  frontend: 1,
  cart: 2,
  redis: 3,
  db: 4,
  loadgen: 5,
  "kube-dns": 6,
  newapp: 7,
  evil: 8,
};
const pod = (ns: string, app: string, i = 0): FlowPeer => ({
  identity: `${ns}/${app}`,
  namespace: ns,
  pod: `${app}-5d8c7-${i}`,
  ip: `10.${APPS[app] ?? 9}.${Math.floor(i / 250)}.${(i % 250) + 1}`,
  selector: app === "kube-dns" ? { "k8s-app": "kube-dns" } : { app },
  numericIdentity: 1000 + (APPS[app] ?? 9),
});
// Replies here come a millisecond after their request.
const reply = (f: Flow, o: Partial<Flow> = {}): Flow => baseReply(f, { timeMs: f.timeMs + 1, ...o });
const dnsQuery = (t: number, src: FlowPeer, name: string): Flow =>
  flow(t, src, pod("kube-system", "kube-dns", 0), 53, { protocol: "UDP", syn: false, dnsQuery: name });

const STRIPE = ["203.0.113.10", "203.0.113.11", "203.0.113.12", "203.0.113.13"];
const pick = <T>(rand: Random, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

/**
 * A shop at work, minute by minute: 50 load generators → 10 frontends (a busy service), frontends →
 * 100 cart replicas (a busy client: ~100 distinct addresses every 30 s), cart → redis, cart →
 * api.stripe.com (four addresses, looked up through kube-dns), clients on the internet →
 * frontend:443, and now and then a policy drop of cart → db.
 */
function normalTraffic(fromMin: number, toMin: number, seed: number): Flow[] {
  const rand = seededRandom(seed);
  const flows: Flow[] = [];
  for (let m = fromMin; m < toMin; m++) {
    const base = T0 + m * MIN;
    const at = () => base + Math.floor(rand() * MIN);
    const conn = (f: Flow) => flows.push(f, reply(f));
    for (let i = 0; i < 40; i++)
      conn(
        flow(
          at(),
          pod("shop", "loadgen", Math.floor(rand() * 50)),
          pod("shop", "frontend", Math.floor(rand() * 10)),
          8080,
        ),
      );
    for (let i = 0; i < 300; i++)
      conn(
        flow(
          at(),
          pod("shop", "frontend", Math.floor(rand() * 10)),
          pod("shop", "cart", Math.floor(rand() * 100)),
          8080,
        ),
      );
    for (let i = 0; i < 30; i++)
      conn(flow(at(), pod("shop", "cart", Math.floor(rand() * 100)), pod("shop", "redis", 0), 6379));
    for (let i = 0; i < 20; i++) {
      const r = rand();
      conn(
        flow(
          at(),
          world(`100.64.${Math.floor(r * 200)}.${Math.floor(rand() * 250)}`),
          pod("shop", "frontend", Math.floor(rand() * 10)),
          443,
        ),
      );
    }
    for (let i = 0; i < 3; i++) {
      const t = at();
      const c = pod("shop", "cart", Math.floor(rand() * 100));
      const q = dnsQuery(t, c, "api.stripe.com");
      flows.push(q, reply(q, { dnsIps: STRIPE }));
      const ip = pick(rand, STRIPE);
      // Hubble names most flows; some arrive without a name (FQDN cache miss)
      conn(flow(t + 5, c, world(ip, rand() < 0.8 ? ["api.stripe.com"] : undefined), 443));
    }
    const q = dnsQuery(at(), pod("shop", "frontend", Math.floor(rand() * 10)), "cart.shop.svc.cluster.local");
    flows.push(q, reply(q));
    if (m % 5 === 0)
      flows.push(
        flow(at(), pod("shop", "cart", 3), pod("shop", "db", 0), 5432, {
          verdict: "DROPPED",
          dropReason: "POLICY_DENIED",
        }),
      );
  }
  return flows.sort((a, b) => a.timeMs - b.timeMs);
}

const LEARNED_UNTIL = 70; // minutes of normal traffic; learning lasts one hour

const learning = normalTraffic(0, LEARNED_UNTIL, 1); // flows are never mutated: one copy serves every test

function learnedAnalyzer(config: Record<string, unknown> = {}): {
  analyzer: FlowAnalyzer;
  during: Detection[];
} {
  const analyzer = new FlowAnalyzer({ learningPeriod: "1h", ...config });
  const during = analyzer.observeAll(learning);
  return { analyzer, during };
}

const at = (minute: number, sec = 0) => T0 + minute * MIN + sec * SEC;
const by = (ds: readonly Detection[], detector: string) => ds.filter((d) => d.detector === detector);

describe("normal traffic raises nothing", () => {
  it("while learning, after learning, from new pods of learnt workloads, and for replies and DNS", () => {
    const { analyzer, during } = learnedAnalyzer();
    expect(during).toEqual([]);
    expect(analyzer.baseline.isEnforcing("shop/frontend")).toBe(true);
    expect(analyzer.baseline.isEnforcing("shop/cart")).toBe(true);
    // the busy client learnt its fan-out: about 100 cart replicas per 30 s
    expect(analyzer.baseline.get("shop/frontend")!.fanOut.addresses[1]).toBeGreaterThan(80);
    expect(analyzer.observeAll(normalTraffic(LEARNED_UNTIL, LEARNED_UNTIL + 15, 2))).toEqual([]);
    // a new pod of cart (new name, new address) doing what cart does
    const fresh: FlowPeer = { ...pod("shop", "cart", 0), pod: "cart-9f9f9-new", ip: "10.2.9.9" };
    const t = at(90);
    const q = dnsQuery(t, fresh, "api.stripe.com");
    const flows = [
      q,
      reply(q, { dnsIps: ["203.0.113.99"] }),
      flow(t + 10, fresh, world("203.0.113.99", ["api.stripe.com"]), 443),
      flow(t + 20, fresh, pod("shop", "redis"), 6379),
      // a new workload's DNS lookups through kube-dns
      dnsQuery(t + 30, pod("shop", "newapp"), "cart.shop.svc.cluster.local"),
    ];
    expect(analyzer.observeAll(flows.flatMap((f) => [f, reply(f)]))).toEqual([]);
  });
});

describe("new-egress", () => {
  it("fires for an address never seen from an enforcing identity, naming identity and address", () => {
    const { analyzer } = learnedAnalyzer();
    const c = pod("shop", "cart", 4);
    const [d, ...rest] = analyzer.observe(flow(at(71), c, world("198.51.100.7"), 4444));
    expect(rest).toEqual([]);
    expect(d).toMatchObject({
      detector: "new-egress",
      identity: "shop/cart",
      namespace: "shop",
      pod: c.pod,
      reason: "new_external_destination",
    });
    expect(d!.message).toContain("shop/cart");
    expect(d!.message).toContain("198.51.100.7:4444/TCP");
    expect(d!.score).toBeGreaterThan(0.5);
    expect(d!.evidence).toHaveLength(1);
    expect(d!.key).toBe("new-egress|shop/cart|cidr:198.51.100.0/24|4444/TCP");
  });

  it("fires for a new port on a learnt external API, and for a new domain", () => {
    const { analyzer } = learnedAnalyzer();
    const c = pod("shop", "cart", 4);
    const port = analyzer.observe(flow(at(71), c, world("203.0.113.10", ["api.stripe.com"]), 8443));
    expect(port.map((d) => d.reason)).toEqual(["new_external_port"]);
    expect(port[0]!.message).toContain("api.stripe.com");
    const domain = analyzer.observe(flow(at(71, 5), c, world("192.0.2.50", ["pastebin.example"]), 443));
    expect(domain.map((d) => d.reason)).toEqual(["new_external_destination"]);
    expect(domain[0]!.message).toContain("pastebin.example");
  });

  it("stays silent while the identity learns", () => {
    const analyzer = new FlowAnalyzer({ learningPeriod: "1h" });
    analyzer.observeAll(normalTraffic(0, 10, 1));
    expect(analyzer.observe(flow(at(11), pod("shop", "cart"), world("198.51.100.7"), 4444))).toEqual([]);
  });

  it("suppresses repeats of one key for the window, counts them, and reports again after it", () => {
    const { analyzer } = learnedAnalyzer({ suppressFor: "5m" });
    const f = (min: number, sec: number) =>
      flow(at(min, sec), pod("shop", "cart", sec % 7), world("198.51.100.7"), 4444);
    expect(analyzer.observe(f(71, 0))).toHaveLength(1);
    for (let s = 1; s < 30; s++) expect(analyzer.observe(f(71, s))).toEqual([]);
    const [again] = analyzer.observe(f(77, 0));
    expect(again!.count).toBe(31);
    expect(again!.firstMs).toBe(at(71, 0));
    expect(again!.lastMs).toBe(at(77, 0));
    expect(again!.evidence).toHaveLength(20);
  });
});

describe("scan", () => {
  it("fires when an enforcing identity sweeps many addresses, dropped attempts included", () => {
    const { analyzer } = learnedAnalyzer();
    const c = pod("shop", "cart", 4);
    const found: Detection[] = [];
    for (let i = 0; i < 100; i++)
      found.push(
        ...analyzer.observe(
          flow(at(71) + i * 100, c, world(`192.168.${i}.1`), 22, {
            verdict: i % 2 ? "DROPPED" : "FORWARDED",
            dropReason: i % 2 ? "POLICY_DENIED" : undefined,
          }),
        ),
      );
    const scans = by(found, "scan");
    expect(scans).toHaveLength(1);
    expect(scans[0]).toMatchObject({
      identity: "shop/cart",
      reason: "address_sweep",
      key: "scan|shop/cart|addresses",
    });
    expect(scans[0]!.message).toMatch(/shop\/cart .*tried 64 distinct destination addresses within 30 s/);
    expect(scans[0]!.evidence.length).toBe(20);
  });

  it("fires on a port scan of one host", () => {
    const { analyzer } = learnedAnalyzer();
    const found: Detection[] = [];
    for (let p = 1; p <= 40; p++)
      found.push(...analyzer.observe(flow(at(71) + p * 10, pod("shop", "cart"), pod("shop", "db"), p)));
    const scans = by(found, "scan");
    expect(scans.map((d) => d.reason)).toEqual(["port_scan"]);
    expect(scans[0]!.message).toContain("on 10.4.0.1");
  });

  it("needs no baseline: a workload still learning that sweeps hundreds of addresses is caught", () => {
    const analyzer = new FlowAnalyzer();
    const found: Detection[] = [];
    for (let i = 0; i < 250; i++)
      found.push(...analyzer.observe(flow(T0 + i * 50, pod("shop", "evil"), world(`172.16.${i}.9`), 3389)));
    expect(by(found, "scan").map((d) => d.reason)).toEqual(["address_sweep"]);
  });

  it("does not count addresses that leave the sliding window", () => {
    const analyzer = new FlowAnalyzer({ learningPeriod: 0 });
    const found: Detection[] = [];
    for (let i = 0; i < 300; i++)
      found.push(...analyzer.observe(flow(T0 + i * 1000, pod("shop", "evil"), world(`172.16.${i}.9`), 443)));
    expect(by(found, "scan")).toEqual([]); // one new address a second: never 64 in 30 s
  });
});

describe("lateral", () => {
  it("fires for a new edge into kube-system on a port kube-dns never served", () => {
    const { analyzer } = learnedAnalyzer();
    const [d] = analyzer.observe(
      flow(at(71), pod("shop", "cart", 2), pod("kube-system", "kube-dns", 0), 9153),
    );
    expect(d).toMatchObject({
      detector: "lateral",
      identity: "shop/cart",
      reason: "new_edge_into_sensitive_namespace",
      score: 0.9,
    });
    expect(d!.message).toContain("kube-system/kube-dns");
    expect(d!.message).toContain("sensitive namespace kube-system");
    expect(d!.message).toContain("9153/TCP");
  });

  it("fires for a new edge into a sensitive namespace the destination of which is still unknown", () => {
    const { analyzer } = learnedAnalyzer();
    const [d] = analyzer.observe(flow(at(71), pod("shop", "cart", 2), pod("kube-system", "etcd"), 2379));
    expect(d).toMatchObject({ detector: "lateral", reason: "new_edge_into_sensitive_namespace" });
  });

  it("fires for a port the destination never served, not for a new client of a served port", () => {
    const { analyzer } = learnedAnalyzer();
    expect(analyzer.observe(flow(at(71), pod("shop", "frontend"), pod("shop", "redis"), 6379))).toEqual([]);
    const [d] = analyzer.observe(flow(at(71, 1), pod("shop", "frontend"), pod("shop", "redis"), 22));
    expect(d).toMatchObject({ detector: "lateral", reason: "new_port_on_destination", score: 0.6 });
    expect(d!.message).toContain("shop/redis never served 22/TCP");
  });

  it("treats namespaces the configuration names as sensitive", () => {
    const { analyzer } = learnedAnalyzer({ lateral: { sensitiveNamespaces: ["kube-system", "shop"] } });
    const [d] = analyzer.observe(flow(at(71), pod("shop", "frontend"), pod("shop", "redis"), 6379));
    expect(d).toMatchObject({ detector: "lateral", reason: "new_edge_into_sensitive_namespace" });
  });
});

describe("drop-storm", () => {
  it("fires when policy drops from an identity spike far above its learnt rate", () => {
    const { analyzer } = learnedAnalyzer();
    const found: Detection[] = [];
    for (let i = 0; i < 120; i++)
      found.push(
        ...analyzer.observe(
          flow(at(71) + i * 300, pod("shop", "cart", i % 5), pod("shop", "db"), 5432, {
            verdict: "DROPPED",
            dropReason: "POLICY_DENIED",
          }),
        ),
      );
    const storms = by(found, "drop-storm");
    expect(storms).toHaveLength(1);
    expect(storms[0]).toMatchObject({
      identity: "shop/cart",
      reason: "policy_drop_spike",
      key: "drop-storm|shop/cart",
    });
    expect(storms[0]!.message).toMatch(
      /^50 policy drops from shop\/cart in the current minute \(normal 0\.\d\/min\)/,
    );
    expect(storms[0]!.evidence).toHaveLength(20);
  });

  it("ignores drops that are not policy drops, and identities still learning", () => {
    const { analyzer } = learnedAnalyzer();
    const ct: Detection[] = [];
    for (let i = 0; i < 120; i++)
      ct.push(
        ...analyzer.observe(
          flow(at(71) + i * 300, pod("shop", "cart"), pod("shop", "redis"), 6379, {
            verdict: "DROPPED",
            dropReason: "CT_MAP_INSERTION_FAILED",
          }),
        ),
      );
    expect(by(ct, "drop-storm")).toEqual([]);
    const fresh = new FlowAnalyzer();
    const early: Detection[] = [];
    for (let i = 0; i < 120; i++)
      early.push(
        ...fresh.observe(
          flow(T0 + i * 300, pod("shop", "cart"), pod("shop", "db"), 5432, {
            verdict: "DROPPED",
            dropReason: "POLICY_DENIED",
          }),
        ),
      );
    expect(by(early, "drop-storm")).toEqual([]);
  });
});

describe("dns-exfil", () => {
  const rand = seededRandom(7);
  const chunk = (n: number) =>
    Array.from({ length: n }, () => "abcdefghijklmnopqrstuvwxyz234567"[Math.floor(rand() * 32)]).join("");

  it("fires on long encoded labels and on many unique subdomains of one domain", () => {
    const { analyzer } = learnedAnalyzer();
    const found: Detection[] = [];
    for (let i = 0; i < 150; i++)
      found.push(
        ...analyzer.observe(
          dnsQuery(at(71) + i * 200, pod("shop", "cart", 1), `${chunk(52)}.${i}.t.evil-tunnel.net`),
        ),
      );
    const dns = by(found, "dns-exfil");
    expect(dns.map((d) => d.reason)).toEqual(["long_dns_label", "many_unique_subdomains"]);
    expect(dns[0]!.message).toContain("evil-tunnel.net");
    expect(dns[0]!.message).toMatch(/label of 52 characters, [45]\.\d\d bits\/char/);
    expect(dns[1]!.message).toContain("queried 100 distinct names under evil-tunnel.net in one minute");
    expect(dns[1]!.score).toBeGreaterThanOrEqual(0.8);
    expect(dns[1]!.key).toBe("dns-exfil|shop/cart|evil-tunnel.net|subdomains");
  });

  it("fires on a high-entropy label of moderate length, not on a long readable one", () => {
    const analyzer = new FlowAnalyzer();
    expect(
      analyzer.observe(dnsQuery(T0, pod("shop", "cart"), "checkout-service-production-eu.example.com")),
    ).toEqual([]);
    const [d] = analyzer.observe(dnsQuery(T0 + 1, pod("shop", "cart"), `${chunk(30)}.data.example.org`));
    expect(d).toMatchObject({ detector: "dns-exfil", reason: "high_entropy_dns_label" });
    expect(labelEntropy("checkout-service-production-eu")).toBeLessThan(4);
  });

  it("fires on a query rate far above the identity's learnt rate", () => {
    const { analyzer } = learnedAnalyzer();
    const found: Detection[] = [];
    for (let i = 0; i < 1300; i++)
      found.push(...analyzer.observe(dnsQuery(at(71) + i * 40, pod("shop", "cart"), "api.stripe.com")));
    const dns = by(found, "dns-exfil");
    expect(dns.map((d) => d.reason)).toEqual(["query_rate_spike"]);
    expect(dns[0]!.message).toContain("1200 DNS queries in the current minute");
  });

  it("knows registered domains", () => {
    expect(registeredDomain("a.b.evil-tunnel.net")).toBe("evil-tunnel.net");
    expect(registeredDomain("x.y.bbc.co.uk")).toBe("bbc.co.uk");
    expect(registeredDomain("localhost")).toBe("localhost");
  });
});

describe("quarantined-traffic", () => {
  it("fires on any flow from a quarantined identity or pod, and stops when released", () => {
    const { analyzer } = learnedAnalyzer();
    analyzer.setQuarantined({ identities: ["shop/cart"] });
    const [breach] = analyzer.observe(flow(at(71), pod("shop", "cart", 3), pod("shop", "redis"), 6379));
    expect(breach).toMatchObject({
      detector: "quarantined-traffic",
      identity: "shop/cart",
      pod: "cart-5d8c7-3",
      score: 1,
      reason: "quarantine_breach",
    });
    expect(breach!.message).toContain("quarantined shop/cart (pod shop/cart-5d8c7-3) reached shop/redis");
    const [held] = analyzer.observe(
      flow(at(71, 1), pod("shop", "cart", 3), world("198.51.100.7"), 443, {
        verdict: "DROPPED",
        dropReason: "POLICY_DENIED",
      }),
    );
    expect(held).toMatchObject({ score: 0.5, reason: "quarantine_attempt" });

    analyzer.setQuarantined({ pods: ["shop/frontend-5d8c7-2"] });
    expect(analyzer.observe(flow(at(71, 2), pod("shop", "cart", 3), pod("shop", "redis"), 6379))).toEqual([]);
    expect(analyzer.observe(flow(at(71, 3), pod("shop", "frontend", 1), pod("shop", "cart"), 8080))).toEqual(
      [],
    );
    const [p] = analyzer.observe(flow(at(71, 4), pod("shop", "frontend", 2), pod("shop", "cart"), 8080));
    expect(p).toMatchObject({ detector: "quarantined-traffic", pod: "frontend-5d8c7-2" });
  });
});

describe("configuration", () => {
  it("fills documented defaults and accepts durations as text", () => {
    const c = parseAnalyzerConfig({ learningPeriod: "2h", scan: { window: "10s" } });
    expect(c.learningPeriod).toBe(7_200_000);
    expect(c.scan).toEqual({ window: 10_000, minAddresses: 64, minPorts: 32, fanOutFactor: 3 });
    expect(parseAnalyzerConfig().learningPeriod).toBe(86_400_000);
    expect(c.lateral.sensitiveNamespaces).toEqual(["kube-system"]);
  });

  it("refuses a bad configuration with an invalid_config error naming the field", () => {
    try {
      parseAnalyzerConfig({ scan: { window: "soon" }, dropStorm: { factor: 0 } });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ProphetError);
      expect((err as ProphetError).code).toBe("invalid_config");
      expect((err as ProphetError).issues.map((i) => i.path)).toEqual(["scan.window", "dropStorm.factor"]);
    }
  });

  it("switches detectors off", () => {
    const a = new FlowAnalyzer({ disabled: ["scan", "dns-exfil"] });
    expect(a.detectors.map((d) => d.name)).toEqual([
      "quarantined-traffic",
      "new-egress",
      "lateral",
      "drop-storm",
    ]);
  });

  it("restores a stored baseline and keeps judging with it", () => {
    const { analyzer } = learnedAnalyzer();
    const stored = JSON.parse(JSON.stringify(analyzer.baseline.toJSON())) as unknown;
    const again = new FlowAnalyzer({ learningPeriod: "1h" }, stored);
    expect(again.observeAll(normalTraffic(LEARNED_UNTIL, LEARNED_UNTIL + 3, 3))).toEqual([]);
    expect(
      again.observe(flow(at(74), pod("shop", "cart"), world("198.51.100.7"), 4444)).map((d) => d.detector),
    ).toEqual(["new-egress"]);
  });
});
