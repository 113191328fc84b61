// A local Hubble Relay stand-in: a @grpc/grpc-js server on 127.0.0.1 that implements
// observer.Observer/GetFlows with whatever the caller does to each call. `responseEncoder` turns
// exporter lines into GetFlowsResponse bytes once, so a benchmark's server only writes buffers.
import * as grpc from "@grpc/grpc-js";
import { responseToProto } from "../../shared/flows/grpc/message.js";
import { observerPackage } from "../../shared/flows/grpc/relay.js";

export type GetFlowsCall = grpc.ServerWritableStream<Record<string, unknown>, Record<string, unknown>>;

export interface ObserverServer {
  /** host:port to give `streamRelayFlows`. */
  address: string;
  port: number;
  /** Every GetFlows request received, in order. */
  requests: Record<string, unknown>[];
  close(): Promise<void>;
}

type MethodDefinition = grpc.MethodDefinition<Record<string, unknown>, unknown>;

function observerService(): grpc.ServiceDefinition {
  return (observerPackage().Observer as unknown as { service: grpc.ServiceDefinition }).service;
}

/**
 * Starts a GetFlows server on a free loopback port. `raw`: responses are written as bytes from
 * `responseEncoder` instead of objects (no per-message encoding on the server).
 */
export async function startObserverServer(
  handle: (call: GetFlowsCall) => void,
  opts: { raw?: boolean } = {},
): Promise<ObserverServer> {
  const server = new grpc.Server();
  const requests: Record<string, unknown>[] = [];
  const service = observerService();
  const definition: grpc.ServiceDefinition = opts.raw
    ? {
        ...service,
        GetFlows: {
          ...(service.GetFlows as MethodDefinition),
          responseSerialize: (b: unknown) => b as Buffer,
        },
      }
    : service;
  server.addService(definition, {
    GetFlows: (call: GetFlowsCall) => {
      requests.push(call.request);
      handle(call);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const s = await startObserverServer((call) => call.end());
  await s.close();
  return s.port;
}

/** Encodes an exporter line (or a bare flow) as GetFlowsResponse bytes, for a `raw` server. */
export function responseEncoder(): (line: Record<string, unknown>) => Buffer {
  const serialize = (observerService().GetFlows as MethodDefinition).responseSerialize;
  return (line) => serialize(responseToProto(line));
}

/** Writes every message, waiting for the stream to drain when it asks to, then ends the call. */
export async function writeAll(call: GetFlowsCall, messages: Iterable<unknown>): Promise<void> {
  for (const m of messages) {
    if (call.cancelled) return;
    if (!call.write(m as Record<string, unknown>))
      await new Promise<void>((resolve) => call.once("drain", () => resolve()));
  }
  call.end();
}
