// A Hubble Relay (or a Hubble server) client: observer.Observer/GetFlows as a stream of normalised
// flow batches. Messages are decoded with proto-loader into the protojson shape and then go through
// the same zod schema and normaliser as the JSONL files.
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { FlowLineReader, type FlowReadOptions, type FlowRejection } from "../jsonl.js";
import type { Flow } from "../types.js";
import { responseFromProto, rfc3339ToTimestamp } from "./message.js";

export type RelayItem = { flow: Flow } | { rejected: FlowRejection };

export interface RelayOptions {
  /** host:port of Hubble Relay (e.g. `hubble-relay.kube-system.svc:80`) or of a Hubble server (:4244). */
  address: string;
  /** Keep streaming new flows (default false: the buffered flows, then the end). */
  follow?: boolean;
  /** Only flows from this time on. */
  since?: Date | string;
  /** The last `number` flows (Hubble's own default applies when neither this nor since is set). */
  number?: number;
  signal?: AbortSignal;
  /** Default: plaintext, as Relay serves inside the cluster unless TLS is enabled. */
  credentials?: grpc.ChannelCredentials;
  /** At most this many items per batch (default 1,000). */
  maxBatch?: number;
  read?: Omit<FlowReadOptions, "maxLineBytes">;
}

/** The Relay failed or ended a followed stream; `code` is the gRPC status code when there is one. */
export class RelayError extends Error {
  constructor(
    message: string,
    readonly code?: grpc.status,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "RelayError";
  }
}

// The GetFlows options that make proto-loader print protojson's shape.
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  enums: String,
  longs: String,
  defaults: false,
  oneofs: true,
};

// The .proto files sit next to this module (a bundle must copy shared/flows/grpc/*.proto beside it).
export const PROTO_DIR = dirname(fileURLToPath(import.meta.url));

type ObserverClient = grpc.Client & {
  GetFlows(req: object, opts?: grpc.CallOptions): grpc.ClientReadableStream<Record<string, unknown>>;
};
type ObserverConstructor = new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: object,
) => ObserverClient;

let loaded: grpc.GrpcObject | undefined;

/** The observer package (loaded once): `.Observer` is the client constructor and `.service`. */
export function observerPackage(): grpc.GrpcObject {
  if (!loaded) {
    const def = protoLoader.loadSync("observer.proto", { ...PROTO_LOADER_OPTIONS, includeDirs: [PROTO_DIR] });
    loaded = grpc.loadPackageDefinition(def).observer as grpc.GrpcObject;
  }
  return loaded;
}

/**
 * Flows from GetFlows, in batches of what has arrived. Ends when the server ends a non-follow
 * stream or when `signal` aborts; a gRPC error, or the end of a followed stream, throws RelayError.
 */
export async function* streamRelayFlows(opts: RelayOptions): AsyncGenerator<RelayItem[]> {
  const Observer = observerPackage().Observer as unknown as ObserverConstructor;
  const client = new Observer(opts.address, opts.credentials ?? grpc.credentials.createInsecure());
  const request: Record<string, unknown> = { follow: opts.follow === true };
  if (opts.since !== undefined)
    request.since = rfc3339ToTimestamp(opts.since instanceof Date ? opts.since.toISOString() : opts.since);
  if (opts.number !== undefined) request.number = String(opts.number);
  const call = client.GetFlows(request);
  const cancel = () => call.cancel();
  if (opts.signal?.aborted) cancel();
  opts.signal?.addEventListener("abort", cancel, { once: true });
  const reader = new FlowLineReader(opts.read);
  const maxBatch = opts.maxBatch ?? 1_000;
  let seq = 0;
  try {
    for await (const first of call) {
      const batch: RelayItem[] = [];
      let msg: Record<string, unknown> | null = first as Record<string, unknown>;
      while (msg !== null) {
        const out = { flows: [], rejected: [], lines: 0, skipped: 0 };
        reader.value(responseFromProto(msg), ++seq, out);
        for (const flow of out.flows) batch.push({ flow });
        for (const rejected of out.rejected) batch.push({ rejected });
        msg = batch.length < maxBatch ? (call.read() as Record<string, unknown> | null) : null;
      }
      if (batch.length) yield batch;
    }
  } catch (err) {
    if (opts.signal?.aborted) return;
    const e = err as Partial<grpc.ServiceError>;
    throw new RelayError(
      `Hubble Relay at ${opts.address}: ${e.code !== undefined ? `${grpc.status[e.code]}: ${e.details ?? e.message}` : String(err)}`,
      e.code,
      { cause: err },
    );
  } finally {
    opts.signal?.removeEventListener("abort", cancel);
    call.cancel();
    client.close();
  }
  if (opts.follow && !opts.signal?.aborted)
    throw new RelayError(`Hubble Relay at ${opts.address} ended a followed GetFlows stream`);
}
