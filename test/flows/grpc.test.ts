// The Hubble Relay client: a local gRPC server implements observer.Observer/GetFlows over recorded
// flows (the sandbox's and the Hubble samples); what the client reads normalises exactly like the
// same flows read from JSONL, and a server that fails or ends a followed stream is reported.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { responseToProto } from "../../shared/flows/grpc/message.js";
import { RelayError, streamRelayFlows, type RelayItem } from "../../shared/flows/grpc/relay.js";
import { parseFlowLines } from "../../shared/flows/jsonl.js";
import { startSandbox } from "../../infra/sandbox/index.js";
import {
  closedPort,
  startObserverServer,
  type GetFlowsCall,
  type ObserverServer,
} from "../support/hubble-relay.js";

const SAMPLES = new URL("../../../shared/samples/", import.meta.url).pathname;
const sample = (name: string) => readFileSync(join(SAMPLES, name), "utf8").trim();

/** What the server does with each GetFlows call (tests swap it). */
let behave: (call: GetFlowsCall) => void = (call) => call.end();

let server: ObserverServer;
let address = "";
let lines: string[] = [];

beforeAll(async () => {
  // Recorded flows: a minute of the sandbox's traffic (pods, DNS, world) plus the samples.
  const sb = await startSandbox({ seed: 11, flowLog: false });
  sb.flows.subscribe((l) => lines.push(JSON.stringify(l)));
  sb.clock.advance(60_000);
  await sb.close();
  lines = [
    ...lines.slice(0, 400),
    ...sample("hubble-exporter-events.log.jsonl").split("\n"),
    sample("hubble-flow-dropped-policy-deny-cilium-1.18.3.json"),
    sample("hubble-flow-forwarded-cilium-1.19.2-exporter.json"),
  ];

  server = await startObserverServer((call) => behave(call));
  address = server.address;
}, 60_000);

afterAll(async () => {
  await server?.close();
});

async function collect(it: AsyncIterable<RelayItem[]>): Promise<{ items: RelayItem[]; batches: number }> {
  const items: RelayItem[] = [];
  let batches = 0;
  for await (const b of it) {
    batches++;
    items.push(...b);
  }
  return { items, batches };
}

describe("streamRelayFlows", () => {
  it("reads recorded flows and normalises them exactly like the JSONL reader", async () => {
    expect(lines.length).toBeGreaterThan(100);
    behave = (call) => {
      call.write({ node_status: { state_change: "NODE_CONNECTED", node_names: ["default/a"] } });
      for (const l of lines) call.write(responseToProto(JSON.parse(l) as Record<string, unknown>));
      call.write({ lost_events: { source: "HUBBLE_RING_BUFFER", num_events_lost: "3" } });
      call.end();
    };
    const { items } = await collect(
      streamRelayFlows({ address, since: "2026-01-05T08:00:00.5Z", number: 10_000, maxBatch: 50 }),
    );
    const expected = parseFlowLines(lines.join("\n"));
    expect(expected.rejected).toEqual([]);
    expect(items.filter((i) => "rejected" in i)).toEqual([]);
    expect(items.map((i) => ("flow" in i ? i.flow : undefined))).toEqual(expected.flows);
    expect(server.requests.at(-1)).toMatchObject({
      follow: false,
      number: "10000",
      since: { seconds: String(Date.parse("2026-01-05T08:00:00Z") / 1000), nanos: 500_000_000 },
    });
  });

  it("reports a flow the schema rejects as rejected and keeps the others", async () => {
    behave = (call) => {
      call.write(responseToProto(JSON.parse(lines[0] as string) as Record<string, unknown>));
      call.write({ flow: { verdict: "DROPPED" } }); // no time anywhere
      call.end();
    };
    const { items } = await collect(streamRelayFlows({ address }));
    expect(items).toHaveLength(2);
    expect(items[1]).toEqual({ rejected: { line: 2, reason: expect.stringMatching(/^flow\.time: /) } });
  });

  it("throws a RelayError with the gRPC status when the server fails mid-stream", async () => {
    behave = (call) => {
      call.write(responseToProto(JSON.parse(lines[0] as string) as Record<string, unknown>));
      call.emit("error", { code: grpc.status.UNAVAILABLE, details: "no peers available" });
    };
    const got: RelayItem[] = [];
    const err = await (async () => {
      for await (const b of streamRelayFlows({ address, follow: true })) got.push(...b);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RelayError);
    expect((err as RelayError).code).toBe(grpc.status.UNAVAILABLE);
    expect((err as RelayError).message).toMatch(/UNAVAILABLE: no peers available/);
    expect(got.length).toBeLessThanOrEqual(1);
  });

  it("reports the end of a followed stream instead of waiting forever", async () => {
    behave = (call) => call.end();
    await expect(collect(streamRelayFlows({ address, follow: true }))).rejects.toThrow(
      /ended a followed GetFlows stream/,
    );
  });

  it("stops quietly when its signal aborts, and the server sees the cancel", async () => {
    let cancelled!: () => void;
    const serverSawCancel = new Promise<void>((resolve) => (cancelled = resolve));
    behave = (call) => {
      call.on("cancelled", () => cancelled());
      call.write(responseToProto(JSON.parse(lines[0] as string) as Record<string, unknown>));
      // …and keeps the stream open, as a followed Relay stream does.
    };
    const abort = new AbortController();
    const seen: RelayItem[] = [];
    for await (const b of streamRelayFlows({ address, follow: true, signal: abort.signal })) {
      seen.push(...b);
      abort.abort();
    }
    expect(seen).toHaveLength(1);
    await serverSawCancel;
  });

  it("fails with UNAVAILABLE when nothing listens", async () => {
    const port = await closedPort();
    const err = await collect(streamRelayFlows({ address: `127.0.0.1:${port}` })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RelayError);
    expect((err as RelayError).code).toBe(grpc.status.UNAVAILABLE);
  });
});
