import { describe, expect, it } from "vitest";
import { Baseline, cidrOf, packPort, ratePerMinute } from "../../shared/flows/baseline.js";
import type { FlowPeer } from "../../shared/flows/types.js";
import { flow, reply, world } from "../support/flows.js";

const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);
const MIN = 60_000;
const HOUR = 3_600_000;

const pod = (ns: string, app: string, i = 0, ip = `10.1.${app.length}.${i + 1}`): FlowPeer => ({
  identity: `${ns}/${app}`,
  namespace: ns,
  pod: `${app}-5d8c7-${i}`,
  ip,
  selector: { app },
  numericIdentity: 1000 + app.length,
});
const cart = pod("shop", "cart");
const redis = pod("shop", "redis");
const TCP = (port: number) => packPort(port, "TCP");

describe("the learned service map", () => {
  it("keys edges by identity, not pod: two pods of cart make one edge to redis, seen from both sides", () => {
    const b = new Baseline();
    b.observe(flow(T0, pod("shop", "cart", 0), redis, 6379));
    b.observe(flow(T0 + 1000, pod("shop", "cart", 7), pod("shop", "redis", 3), 6379));
    const c = b.get("shop/cart")!;
    expect(c.outCount).toBe(1);
    expect(c.out.get("shop/redis")!.get(TCP(6379))!.flows).toBe(2);
    expect(b.get("shop/redis")!.in.get("shop/cart")!.get(TCP(6379))!.flows).toBe(2);
    expect(b.get("shop/redis")!.served.has(TCP(6379))).toBe(true);
    expect(c.selector).toEqual({ app: "cart" });
    expect(c.namespace).toBe("shop");
  });

  it("does not learn edges from replies, and counts drops apart from edges", () => {
    const b = new Baseline();
    const f = flow(T0, cart, redis, 6379);
    b.observe(f);
    b.observe(reply(f));
    b.observe(
      flow(T0 + 1, cart, pod("shop", "db"), 5432, { verdict: "DROPPED", dropReason: "POLICY_DENIED" }),
    );
    expect(b.get("shop/redis")!.outCount).toBe(0);
    const c = b.get("shop/cart")!;
    expect(c.outCount).toBe(1);
    expect(c.dropped).toBe(1);
    expect(c.policyDrops.total).toBe(1);
    expect(b.get("shop/db")!.policyDrops.total).toBe(1);
  });

  it("names external peers by DNS name, by the DNS answer that resolved them, else by /24 or /64", () => {
    const b = new Baseline();
    b.observe(flow(T0, cart, world("203.0.113.10", ["api.stripe.com"]), 443));
    // cart asked kube-dns for hooks.slack.com; the answer says 198.51.100.20; the next flow carries no name
    const dns = pod("kube-system", "kube-dns");
    const q = flow(T0 + 10, cart, dns, 53, { protocol: "UDP", syn: false, dnsQuery: "hooks.slack.com" });
    b.observe(q);
    b.observe({ ...reply(q), dnsIps: ["198.51.100.20"] });
    b.observe(flow(T0 + 20, cart, world("198.51.100.20"), 443));
    b.observe(flow(T0 + 30, cart, world("192.0.2.77"), 8443));
    b.observe(flow(T0 + 40, cart, world("2001:db8:a:b:c::1"), 443));
    const peers = [...b.get("shop/cart")!.out.keys()].sort();
    expect(peers).toEqual([
      "cidr:192.0.2.0/24",
      "cidr:2001:db8:a:b::/64",
      "dns:api.stripe.com",
      "dns:hooks.slack.com",
      "kube-system/kube-dns",
    ]);
    expect(b.get("shop/cart")!.dns.total).toBe(1);
    expect([...b.get("shop/cart")!.dnsNames]).toEqual(["hooks.slack.com"]);
  });

  it("aggregates addresses to CIDRs", () => {
    expect(cidrOf("10.2.3.4")).toBe("10.2.3.0/24");
    expect(cidrOf("2001:db8::1")).toBe("2001:db8::/64");
    expect(cidrOf("::1")).toBe("::/64");
    expect(cidrOf("fe80:1:2:3:4:5:6:7")).toBe("fe80:1:2:3::/64");
    expect(cidrOf("nonsense")).toBeUndefined();
  });

  it("records hours of day and a per-minute rate", () => {
    const b = new Baseline({ rateAlpha: 0.5 });
    for (let m = 0; m < 3; m++)
      for (let i = 0; i < 10; i++) b.observe(flow(T0 + m * MIN + i * 1000, cart, redis, 6379));
    b.observe(flow(T0 + 5 * HOUR, cart, redis, 6379));
    const e = b.get("shop/cart")!.out.get("shop/redis")!.get(TCP(6379))!;
    expect(e.flows).toBe(31);
    expect(e.hours).toBe((1 << 8) | (1 << 13));
    expect(e.firstMs).toBe(T0);
    expect(e.lastMs).toBe(T0 + 5 * HOUR);
    // 10/min for three minutes, then a long idle stretch decays it to almost nothing
    expect(e.rate).toBeLessThan(0.01);
    const b2 = new Baseline({ rateAlpha: 0.5 });
    for (let m = 0; m < 3; m++)
      for (let i = 0; i < 10; i++) b2.observe(flow(T0 + m * MIN + i * 1000, cart, redis, 6379));
    expect(ratePerMinute(b2.get("shop/cart")!.out.get("shop/redis")!.get(TCP(6379))!, 0.5)).toBe(10);
  });
});

describe("learning and enforcing", () => {
  it("enforces an identity once the learning period of flow time has passed since its first flow", () => {
    const b = new Baseline({ learningMs: HOUR });
    b.observe(flow(T0, cart, redis, 6379));
    expect(b.isEnforcing("shop/cart")).toBe(false);
    b.observe(flow(T0 + HOUR - 1, cart, redis, 6379));
    expect(b.isEnforcing("shop/cart")).toBe(false);
    // another identity that appears later learns on its own clock
    b.observe(flow(T0 + HOUR - 1, pod("shop", "web"), cart, 8080));
    b.observe(flow(T0 + HOUR, cart, redis, 6379));
    expect(b.isEnforcing("shop/cart")).toBe(true);
    expect(b.get("shop/cart")!.enforcingSinceMs).toBe(T0 + HOUR);
    expect(b.isEnforcing("shop/web")).toBe(false);
    // learnt edges stay known; new ones are recorded but novel
    b.observe(flow(T0 + HOUR + 1, cart, pod("shop", "db"), 5432));
    expect(b.knowsOut(b.get("shop/cart")!, "shop/redis", TCP(6379))).toBe(true);
    expect(b.get("shop/cart")!.out.get("shop/db")!.get(TCP(5432))!.novel).toBe(true);
    expect(b.knowsOut(b.get("shop/cart")!, "shop/db", TCP(5432))).toBe(false);
    expect(b.acceptNovel("shop/cart")).toBe(1);
    expect(b.knowsOut(b.get("shop/cart")!, "shop/db", TCP(5432))).toBe(true);
  });

  it("can be told to enforce early", () => {
    const b = new Baseline();
    b.observe(flow(T0, cart, redis, 6379));
    b.enforce(T0 + 1);
    expect(b.isEnforcing("shop/cart")).toBe(true);
    expect(b.isEnforcing("shop/redis")).toBe(true);
  });
});

describe("bounds", () => {
  it("keeps at most maxEdgesPerIdentity edges per direction and counts the flows it could not place", () => {
    const b = new Baseline({ maxEdgesPerIdentity: 3 });
    for (let port = 1; port <= 5; port++) b.observe(flow(T0 + port, cart, redis, port));
    b.observe(flow(T0 + 10, cart, redis, 1));
    const c = b.get("shop/cart")!;
    expect(c.outCount).toBe(3);
    expect(c.overflowFlows).toBe(2);
    expect(c.out.get("shop/redis")!.get(TCP(1))!.flows).toBe(2); // known edges keep counting
    expect(b.get("shop/redis")!.inCount).toBe(3);
  });

  it("tracks at most maxIdentities identities", () => {
    const b = new Baseline({ maxIdentities: 2 });
    b.observe(flow(T0, cart, redis, 6379));
    b.observe(flow(T0, pod("shop", "web"), cart, 8080));
    expect(b.size).toBe(2);
    expect(b.overflowIdentities).toBe(1);
  });

  it("keeps at most maxDnsNamesPerIdentity query names", () => {
    const b = new Baseline({ maxDnsNamesPerIdentity: 2 });
    const dns = pod("kube-system", "kube-dns");
    for (const q of ["a.example.com", "b.example.com", "c.example.com"])
      b.observe(flow(T0, cart, dns, 53, { protocol: "UDP", syn: false, dnsQuery: q }));
    expect(b.get("shop/cart")!.dnsNames.size).toBe(2);
    expect(b.get("shop/cart")!.dnsNamesOverflow).toBe(true);
  });
});

describe("serialisation", () => {
  it("round-trips through plain JSON", () => {
    const b = new Baseline({ learningMs: 10 * MIN });
    const dns = pod("kube-system", "kube-dns");
    for (let m = 0; m < 15; m++) {
      const t = T0 + m * MIN;
      b.observe(flow(t, cart, redis, 6379));
      b.observe(flow(t + 1, pod("shop", "web", m), cart, 8080));
      const q = flow(t + 2, cart, dns, 53, { protocol: "UDP", syn: false, dnsQuery: "api.stripe.com" });
      b.observe(q);
      b.observe({ ...reply(q), dnsIps: ["203.0.113.10"] });
      b.observe(flow(t + 3, cart, world("203.0.113.10"), 443));
      b.observe(flow(t + 4, cart, world("2001:db8::5"), 443, { protocol: "UDP", syn: false }));
      b.observe(
        flow(t + 5, cart, pod("shop", "db"), 5432, { verdict: "DROPPED", dropReason: "POLICY_DENIED" }),
      );
    }
    const json = JSON.parse(JSON.stringify(b.toJSON())) as unknown;
    const back = Baseline.fromJSON(json);
    expect(back.toJSON()).toEqual(b.toJSON());
    expect(back.isEnforcing("shop/cart")).toBe(true);
    // the restored map keeps resolving names it learnt from DNS answers
    const v = back.resolve(flow(T0 + 20 * MIN, cart, world("203.0.113.10"), 443));
    expect(v.dstKey).toBe("dns:api.stripe.com");
  });

  it("refuses an object that is not a stored baseline", () => {
    expect(() => Baseline.fromJSON({ version: 2 })).toThrow();
    expect(() => Baseline.fromJSON(null)).toThrow();
  });
});
