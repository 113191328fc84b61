// FlowAnalyzer throughput: `npx tsx test/flows/perf-analyzer.ts [--flows 3000000]` (for the
// analyzer's own heap: `node --expose-gc --import tsx test/flows/perf-analyzer.ts`). A cluster of
// 200 identities in 10 namespaces with 2,000 learnt edges (10 per identity, some to external
// APIs by name), ~5 % DNS lookups with answers, ~40 % replies, ~20 % of forward flows SYNs and
// ~1 % policy drops. A pool of flows is replayed with time moving on, so the first half hour
// learns and the rest is judged. Prints flows/s of `observe` alone and the memory it took.
import { parseArgs } from "node:util";
import { FlowAnalyzer } from "../../shared/flows/analyzer.js";
import type { Flow, FlowPeer } from "../../shared/flows/types.js";
import { seededRandom } from "../../shared/random.js";

const { values: args } = parseArgs({ options: { flows: { type: "string", default: "3000000" } } });
const TOTAL = Number(args.flows);
const POOL = 200_000;
const PASS_MS = 10 * 60_000; // each pass of the pool covers ten minutes of flow time
const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);
const rand = seededRandom(42);
const int = (n: number) => Math.floor(rand() * n);

const identities = Array.from({ length: 200 }, (_, i) => ({ ns: `team-${i % 10}`, app: `svc-${i}` }));
const peer = (i: number, replica: number): FlowPeer => {
  const { ns, app } = identities[i]!;
  return {
    identity: `${ns}/${app}`,
    namespace: ns,
    pod: `${app}-6f7d9c-${replica}`,
    ip: `10.${i >> 4}.${(i & 15) * 16 + replica}.${replica + 1}`,
    selector: { app },
    numericIdentity: 10_000 + i,
    workload: `Deployment/${app}`,
  };
};
const pods = identities.map((_, i) => Array.from({ length: 5 }, (_, r) => peer(i, r)));
const kubeDns: FlowPeer = {
  identity: "kube-system/kube-dns",
  namespace: "kube-system",
  pod: "coredns-1",
  ip: "10.96.0.10",
  selector: { "k8s-app": "kube-dns" },
  numericIdentity: 100,
};
const apis = Array.from({ length: 20 }, (_, i) => ({ name: `api${i}.example.com`, ip: `203.0.${i}.10` }));
// 10 edges per identity: 8 to other identities, 2 to external APIs → 2,000 edges
const edges = identities.map(() => [
  ...Array.from({ length: 8 }, () => ({ kind: "pod" as const, to: int(200), port: 8000 + int(4) })),
  ...Array.from({ length: 2 }, () => ({ kind: "api" as const, to: int(apis.length), port: 443 })),
]);

const pool: Flow[] = [];
for (let n = 0; n < POOL; n++) {
  const t = T0 + Math.floor((n / POOL) * PASS_MS);
  const from = int(200);
  const src = pods[from]![int(5)]!;
  const r = rand();
  if (r < 0.05) {
    const api = apis[int(apis.length)]!;
    const q: Flow = {
      timeMs: t,
      verdict: "FORWARDED",
      isReply: false,
      protocol: "UDP",
      srcPort: 30000 + int(30000),
      dstPort: 53,
      syn: false,
      src,
      dst: kubeDns,
      dnsQuery: api.name,
    };
    pool.push(q, {
      ...q,
      src: kubeDns,
      dst: src,
      srcPort: 53,
      dstPort: q.srcPort,
      isReply: true,
      dnsIps: [api.ip],
      dnsRcode: 0,
    });
    n++;
    continue;
  }
  const e = edges[from]![int(10)]!;
  const dst: FlowPeer =
    e.kind === "pod"
      ? pods[e.to]![int(5)]!
      : { identity: "world", ip: apis[e.to]!.ip, names: [apis[e.to]!.name], numericIdentity: 2 };
  const drop = r < 0.06;
  const isReply = !drop && r > 0.6;
  const syn = !isReply && rand() < 0.2;
  const f: Flow = {
    timeMs: t,
    verdict: drop ? "DROPPED" : "FORWARDED",
    isReply,
    protocol: "TCP",
    srcPort: isReply ? e.port : 30000 + int(30000),
    dstPort: isReply ? 30000 + int(30000) : e.port,
    syn,
    src: isReply ? dst : src,
    dst: isReply ? src : dst,
    direction: "EGRESS",
    node: `node-${from % 20}`,
  };
  if (drop) f.dropReason = "POLICY_DENIED";
  pool.push(f);
}

const gc = (globalThis as { gc?: () => void }).gc;
let analyzer: FlowAnalyzer | undefined = new FlowAnalyzer({ learningPeriod: "30m" });
let detections = 0;
const started = performance.now();
for (let done = 0, pass = 0; done < TOTAL; pass++) {
  const shift = pass === 0 ? 0 : PASS_MS;
  for (let i = 0; i < pool.length && done < TOTAL; i++, done++) {
    const f = pool[i]!;
    f.timeMs += shift;
    detections += analyzer.observe(f).length;
  }
}
const seconds = (performance.now() - started) / 1000;
const json = JSON.stringify(analyzer.baseline.toJSON());
let edgeCount = 0;
for (const s of analyzer.baseline.identities()) edgeCount += s.outCount;
const identityCount = analyzer.baseline.size;
// What the analyzer holds: the heap with it minus the heap without it (the flow pool stays in both).
gc?.();
const heapWith = process.memoryUsage().heapUsed;
analyzer = undefined;
gc?.();
const heapWithout = process.memoryUsage().heapUsed;
console.log(
  JSON.stringify(
    {
      flows: TOTAL,
      seconds: Number(seconds.toFixed(2)),
      flowsPerSecond: Math.round(TOTAL / seconds),
      detections,
      identities: identityCount,
      outgoingEdges: edgeCount,
      analyzerHeapMiB: gc
        ? Number(((heapWith - heapWithout) / 2 ** 20).toFixed(1))
        : "run with node --expose-gc",
      peakRssMiB: Number((process.resourceUsage().maxRSS / 1024).toFixed(0)),
      baselineJsonKiB: Math.round(json.length / 1024),
    },
    null,
    2,
  ),
);
