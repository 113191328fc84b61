// Flow ingestion: Hubble JSONL (exporter file, `hubble observe -o json`, bare flows) and batch
// events become normalised Flows; every malformed line is counted with its reason while the good
// lines around it survive.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { ProphetError } from "../../shared/errors.js";
import { FLOW_BATCH_EVENT, flowsFromBatch } from "../../shared/flows/batch.js";
import {
  flowBatches,
  FlowLineReader,
  parseFlowLines,
  readFlowFile,
  type FlowParseResult,
} from "../../shared/flows/jsonl.js";
import { appFromPodName, normaliseFlow } from "../../shared/flows/normalise.js";
import { FlowSchema } from "../../shared/flows/schema.js";

const SAMPLES = new URL("../../../shared/samples/", import.meta.url).pathname;
const sample = (name: string) => readFileSync(join(SAMPLES, name), "utf8");
const EXPORTER = sample("hubble-exporter-events.log.jsonl");
const DENY = sample("hubble-flow-dropped-policy-deny-cilium-1.18.3.json").trim();
const FORWARDED = sample("hubble-flow-forwarded-cilium-1.19.2-exporter.json").trim();
const GOOD = JSON.stringify(JSON.parse(DENY));

const dir = mkdtempSync(join(tmpdir(), "flows-ingest-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** All batches of a stream fed in the given chunks, merged. */
async function streamed(chunks: (string | Uint8Array)[]): Promise<FlowParseResult> {
  const all: FlowParseResult = { flows: [], rejected: [], lines: 0, skipped: 0 };
  for await (const b of flowBatches(Readable.from(chunks.map((c) => Buffer.from(c))))) {
    all.flows.push(...b.flows);
    all.rejected.push(...b.rejected);
    all.lines += b.lines;
    all.skipped += b.skipped;
  }
  return all;
}

describe("the Hubble samples", () => {
  it("parses the exporter file: an ICMPv6 drop without endpoints and a policy drop between pods", () => {
    const r = parseFlowLines(EXPORTER);
    expect(r.rejected).toEqual([]);
    expect(r.lines).toBe(2);
    const [icmp, tcp] = r.flows;
    expect(icmp).toMatchObject({
      timeMs: Date.parse("2023-08-21T12:12:13.517Z"),
      verdict: "DROPPED",
      dropReason: "INVALID_SOURCE_IP",
      protocol: "ICMPv6",
      syn: false,
      isReply: false,
      src: { identity: "unknown", ip: "fe80::64d8:8aff:fe72:fc14", numericIdentity: 0 },
      node: "kind-kind/kind-worker",
    });
    expect(icmp?.srcPort).toBeUndefined();
    expect(tcp).toMatchObject({
      verdict: "DROPPED",
      dropReason: "POLICY_DENIED",
      protocol: "TCP",
      srcPort: 44916,
      dstPort: 80,
      syn: true,
      // No labels, no workload: the pod name, cut of its ReplicaSet suffix.
      src: { identity: "default/xwing", namespace: "default", pod: "xwing", ip: "10.244.1.60" },
      dst: { identity: "default/deathstar", pod: "deathstar-7848d6c4d5-th9v2", ip: "10.244.1.5" },
    });
    expect(tcp?.src.selector).toBeUndefined();
  });

  it("parses the Cilium 1.18 policy deny: identity from the app label, workload, direction, uuid", () => {
    const [f] = parseFlowLines(DENY).flows;
    expect(f).toEqual({
      timeMs: Date.parse("2026-07-31T10:41:02.202Z"),
      verdict: "DROPPED",
      dropReason: "POLICY_DENY",
      direction: "EGRESS",
      isReply: false,
      protocol: "TCP",
      srcPort: 60524,
      dstPort: 80,
      syn: true,
      src: {
        identity: "net-lab/traffic-generator",
        namespace: "net-lab",
        pod: "traffic-generator-9b649846d-bxqfc",
        workload: "Deployment/traffic-generator",
        ip: "10.0.1.235",
        selector: { app: "traffic-generator" },
        numericIdentity: 24753,
      },
      dst: {
        identity: "net-lab/echo-server",
        namespace: "net-lab",
        pod: "echo-server-65887564dc-jjw7k",
        ip: "10.0.0.21",
        selector: { app: "echo-server" },
        numericIdentity: 24075,
      },
      node: "topgun/cilium-w1",
      uuid: "cd75b2ac-8dd3-486b-beca-3d17d9d56cff",
    });
  });

  it("parses the Cilium 1.19 forwarded flow: reserved:host, k8s-app label, an ACK is no SYN", () => {
    const [f] = parseFlowLines(FORWARDED).flows;
    expect(f).toMatchObject({
      verdict: "FORWARDED",
      protocol: "TCP",
      syn: false,
      isReply: false,
      direction: "EGRESS",
      src: { identity: "host", numericIdentity: 1, ip: "192.168.85.176" },
      dst: {
        identity: "kube-system/kube-dns",
        selector: { "k8s-app": "kube-dns" },
        workload: "Deployment/coredns",
      },
      node: "ip-192-168-85-176.ap-northeast-2.compute.internal",
    });
    expect(f?.src.selector).toBeUndefined();
    expect(f?.src.namespace).toBeUndefined();
  });

  it("reads a bare flow per line the same as its envelope, and both validation modes agree", () => {
    const bare = JSON.stringify(JSON.parse(DENY).flow);
    expect(parseFlowLines(bare).flows).toEqual(parseFlowLines(DENY).flows);
    const all = [EXPORTER.trim(), DENY, FORWARDED].join("\n");
    expect(parseFlowLines(all, { validation: "full" })).toEqual(parseFlowLines(all));
  });

  it("normaliseFlow on a schema-parsed flow gives what the line reader gives", () => {
    const line = JSON.parse(FORWARDED) as { flow: unknown };
    const flow = FlowSchema.parse(line.flow);
    expect(normaliseFlow(flow)).toEqual(parseFlowLines(FORWARDED).flows[0]);
  });
});

describe("normalising", () => {
  const withFlow = (patch: Record<string, unknown>) =>
    JSON.stringify({ flow: { ...JSON.parse(DENY).flow, ...patch } });

  it("takes app.kubernetes.io/name over app over k8s-app, and the world for reserved:world", () => {
    const labels = ["k8s:k8s-app=c", "k8s:app=b", "k8s:app.kubernetes.io/name=a"];
    const [f] = parseFlowLines(
      withFlow({
        source: { namespace: "shop", labels, pod_name: "x-0" },
        destination: { identity: 2, labels: ["reserved:world"] },
        destination_names: ["api.stripe.com"],
        IP: { source: "10.0.0.1", destination: "203.0.113.9" },
      }),
    ).flows;
    expect(f?.src).toMatchObject({ identity: "shop/a", selector: { "app.kubernetes.io/name": "a" } });
    expect(f?.dst).toEqual({
      identity: "world",
      ip: "203.0.113.9",
      numericIdentity: 2,
      names: ["api.stripe.com"],
    });
  });

  it("cuts controller suffixes of pod names", () => {
    expect(appFromPodName("cart-7d9f8b6c5-x2k4p")).toBe("cart");
    expect(appFromPodName("postgres-0")).toBe("postgres");
    expect(appFromPodName("fluent-bit-x7z2k")).toBe("fluent-bit");
    expect(appFromPodName("xwing")).toBe("xwing");
  });

  it("reads DNS queries without the trailing dot, UDP ports, replies, and the envelope time", () => {
    const line = JSON.stringify({
      flow: {
        verdict: "FORWARDED",
        l4: { UDP: { source_port: 40000, destination_port: 53 } },
        l7: { type: "RESPONSE", dns: { query: "cart.shop.svc.cluster.local.", ips: ["10.96.0.4"] } },
        is_reply: true,
        source: { namespace: "kube-system", labels: ["k8s:k8s-app=kube-dns"] },
        destination: { namespace: "shop", workloads: [{ name: "frontend", kind: "Deployment" }] },
      },
      node_name: "default/node-a",
      time: "2026-01-05T08:04:00.5Z",
    });
    const [f] = parseFlowLines(line).flows;
    expect(f).toMatchObject({
      timeMs: Date.parse("2026-01-05T08:04:00.500Z"),
      protocol: "UDP",
      srcPort: 40000,
      dstPort: 53,
      isReply: true,
      dnsQuery: "cart.shop.svc.cluster.local",
      dnsRcode: 0,
      node: "default/node-a",
      src: { identity: "kube-system/kube-dns" },
      dst: { identity: "shop/frontend", workload: "Deployment/frontend" },
    });
  });

  it("skips envelopes without a flow (lost events, node status)", () => {
    const lost = JSON.stringify({ lost_events: { source: "HUBBLE_RING_BUFFER", num_events_lost: "4" } });
    const r = parseFlowLines([lost, GOOD].join("\n"));
    expect(r).toMatchObject({ lines: 2, skipped: 1, rejected: [] });
    expect(r.flows).toHaveLength(1);
  });
});

describe("malformed lines", () => {
  const tooBigPort = JSON.stringify({
    flow: { ...JSON.parse(DENY).flow, l4: { TCP: { destination_port: 70000 } } },
  });
  const badLabels = JSON.stringify({
    flow: { ...JSON.parse(DENY).flow, source: { namespace: "a", labels: "k8s:app=x" } },
  });
  const badVerdict = JSON.stringify({
    ...JSON.parse(DENY),
    flow: { ...JSON.parse(DENY).flow, verdict: "MAYBE" },
  });
  const noTime = JSON.stringify({ flow: { verdict: "FORWARDED" } });

  it("counts each with its reason and keeps every good line of the batch", () => {
    const input = [
      GOOD,
      '{"flow": {"verdict": "FORWARDED",',
      tooBigPort,
      "",
      badLabels,
      "[1,2]",
      badVerdict,
      noTime,
      "   ",
      GOOD,
    ].join("\n");
    const r = parseFlowLines(input);
    expect(r.flows).toHaveLength(2);
    expect(r.lines).toBe(8);
    expect(r.rejected.map((x) => x.line)).toEqual([2, 3, 5, 6, 7, 8]);
    const reasons = r.rejected.map((x) => x.reason);
    expect(reasons[0]).toMatch(/^invalid JSON: /);
    expect(reasons[1]).toMatch(/^flow\.l4\.TCP\.destination_port: Too big/);
    expect(reasons[2]).toMatch(/^flow\.source\.labels: /);
    expect(reasons[3]).toMatch(/not a JSON object/);
    expect(reasons[4]).toMatch(/^flow\.verdict: /);
    expect(reasons[5]).toMatch(/^flow\.time: a flow needs a time/);
  });

  it("rejects the same lines with the same reasons in both validation modes", () => {
    const input = [GOOD, tooBigPort, badLabels, badVerdict].join("\n");
    const read = parseFlowLines(input);
    const full = parseFlowLines(input, { validation: "full" });
    expect(full.flows).toEqual(read.flows);
    expect(full.rejected.map((r) => r.line)).toEqual(read.rejected.map((r) => r.line));
  });

  it("rejects invalid UTF-8 and over-long lines, keeping the rest", () => {
    const bad = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    const long = `{"flow":{"Summary":"${"x".repeat(3000)}"}}`;
    const input = Buffer.concat([Buffer.from(`${GOOD}\n`), bad, Buffer.from(`\n${long}\n${GOOD}\n`)]);
    const r = parseFlowLines(input, { maxLineBytes: 2048 });
    expect(r.flows).toHaveLength(2);
    expect(r.rejected).toEqual([
      { line: 2, reason: "not UTF-8" },
      { line: 3, reason: "line longer than 2048 bytes (maxLineBytes)" },
    ]);
  });

  it("reads CRLF line ends and a byte-order mark", () => {
    const r = parseFlowLines(Buffer.from(`\ufeff${GOOD}\r\n\r\n${FORWARDED}\r\n`));
    expect(r.rejected).toEqual([]);
    expect(r.flows).toHaveLength(2);
    expect(r.lines).toBe(2);
  });
});

describe("the streaming reader", () => {
  it("gives the same flows however the bytes are cut, even inside a UTF-8 character", async () => {
    const multi = JSON.stringify({
      flow: { ...JSON.parse(DENY).flow, destination_names: ["bücher.example"], uuid: "ü-€-😀" },
    });
    const text = [GOOD, multi, FORWARDED, EXPORTER.trim()].join("\r\n") + "\n";
    const bytes = Buffer.from(text);
    const whole = parseFlowLines(bytes);
    expect(whole.flows).toHaveLength(5);
    const euro = bytes.indexOf(Buffer.from("€"));
    // Inside the 3-byte €, inside the 4-byte emoji, and every 7 bytes.
    for (const cuts of [[euro + 1], [euro + 2, bytes.indexOf(Buffer.from("😀")) + 3]]) {
      const chunks: Buffer[] = [];
      let pos = 0;
      for (const c of cuts) {
        chunks.push(bytes.subarray(pos, c));
        pos = c;
      }
      chunks.push(bytes.subarray(pos));
      expect(await streamed(chunks)).toEqual(whole);
    }
    const small: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 7) small.push(bytes.subarray(i, i + 7));
    const r = await streamed(small);
    expect(r).toEqual(whole);
    expect(r.flows[1]?.uuid).toBe("ü-€-😀");
  });

  it("numbers lines across chunks and drops an over-long line that spans chunks", async () => {
    const long = `{"flow":{"Summary":"${"y".repeat(5000)}"}}`;
    const text = `${GOOD}\n${long}\nnot json\n${GOOD}`;
    const reader = new FlowLineReader({ maxLineBytes: 2048 });
    const out: FlowParseResult[] = [];
    for (let i = 0; i < text.length; i += 100) out.push(reader.push(text.slice(i, i + 100)));
    out.push(reader.end());
    expect(out.flatMap((b) => b.flows)).toHaveLength(2);
    expect(out.flatMap((b) => b.rejected)).toEqual([
      { line: 2, reason: "line longer than 2048 bytes (maxLineBytes)" },
      { line: 3, reason: expect.stringMatching(/^invalid JSON/) },
    ]);
  });

  it("reads a file in batches", async () => {
    const path = join(dir, "flows.jsonl");
    writeFileSync(path, `${EXPORTER}${DENY}\n\u00ff{\n${FORWARDED}\n`);
    const batches: FlowParseResult[] = [];
    const totals = await readFlowFile(path, (b) => void batches.push(b), { highWaterMark: 64 });
    expect(totals).toEqual({ lines: 5, flows: 4, rejected: 1, skipped: 0 });
    expect(batches.length).toBeGreaterThan(1);
  });
});

describe(`the ${FLOW_BATCH_EVENT} event`, () => {
  it("takes JSONL lines and parsed flows, numbering flows after the lines", () => {
    const r = flowsFromBatch({
      cluster: "topgun",
      node: "topgun/cilium-w9",
      lines: `${EXPORTER}${DENY}`,
      flows: [JSON.parse(FORWARDED), JSON.parse(DENY).flow, { flow: { verdict: "NOPE" } }],
    });
    expect(r.flows).toHaveLength(5);
    expect(r.rejected).toEqual([{ line: 6, reason: expect.stringMatching(/^flow\.verdict: /) }]);
    // The bare flow names its node itself; the batch's node is only the fallback.
    expect(r.flows[4]?.node).toBe("topgun/cilium-w1");
    const noNode = flowsFromBatch({ node: "n1", flows: [{ time: "2026-01-01T00:00:00Z" }] });
    expect(noNode.flows[0]?.node).toBe("n1");
  });

  it("rejects a batch with neither lines nor flows, or the wrong types, with a clear error", () => {
    expect(() => flowsFromBatch({ cluster: "c" })).toThrow(/needs lines .* or flows/);
    try {
      flowsFromBatch({ lines: 5 });
      expect.fail("should throw");
    } catch (err) {
      expect(err).toBeInstanceOf(ProphetError);
      expect((err as ProphetError).code).toBe("invalid_data");
      expect((err as ProphetError).message).toMatch(/data\.lines: /);
    }
    expect(() => flowsFromBatch(null)).toThrow(ProphetError);
  });

  it("refuses an oversized batch as payload_too_large", () => {
    try {
      flowsFromBatch({ flows: new Array(50_001).fill({}) });
      expect.fail("should throw");
    } catch (err) {
      expect((err as ProphetError).code).toBe("payload_too_large");
      expect((err as ProphetError).message).toMatch(/split the batch/);
    }
  });
});
