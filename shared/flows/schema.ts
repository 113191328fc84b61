// Hubble flows as `hubble observe -o json` and the flow exporter print them (observer.GetFlowsResponse
// in protojson): snake_case keys except IP, Type, TCP, UDP, ID, ipVersion; enums as strings; 64-bit
// integers as strings; zero values omitted — so every field is optional. Objects are loose: newer
// Cilium versions add fields, and a reader must not reject them. The sandbox writes this shape and
// ingestion (shared/flows/jsonl.ts, batch.ts, grpc/) reads it.
import { z } from "zod";

const Workload = z.looseObject({ name: z.string().optional(), kind: z.string().optional() });

const Uint64 = z.string().regex(/^\d+$/, "a 64-bit integer is a decimal string in protojson");
const Time = z.iso.datetime({ offset: true });

export const FlowEndpointSchema = z.looseObject({
  ID: z.number().int().nonnegative().optional(),
  identity: z.number().int().nonnegative().optional(),
  cluster_name: z.string().optional(),
  namespace: z.string().optional(),
  labels: z.array(z.string()).optional(),
  pod_name: z.string().optional(),
  workloads: z.array(Workload).optional(),
});

export const TcpFlagsSchema = z.looseObject({
  FIN: z.boolean().optional(),
  SYN: z.boolean().optional(),
  RST: z.boolean().optional(),
  PSH: z.boolean().optional(),
  ACK: z.boolean().optional(),
  URG: z.boolean().optional(),
  ECE: z.boolean().optional(),
  CWR: z.boolean().optional(),
  NS: z.boolean().optional(),
});

export const PortSchema = z.number().int().min(0).max(65535);

export const Layer4Schema = z.looseObject({
  TCP: z
    .looseObject({
      source_port: PortSchema.optional(),
      destination_port: PortSchema.optional(),
      flags: TcpFlagsSchema.optional(),
    })
    .optional(),
  UDP: z
    .looseObject({ source_port: PortSchema.optional(), destination_port: PortSchema.optional() })
    .optional(),
  SCTP: z
    .looseObject({ source_port: PortSchema.optional(), destination_port: PortSchema.optional() })
    .optional(),
  ICMPv4: z.looseObject({ type: z.number().int().optional(), code: z.number().int().optional() }).optional(),
  ICMPv6: z.looseObject({ type: z.number().int().optional(), code: z.number().int().optional() }).optional(),
});

export const Layer7Schema = z.looseObject({
  type: z.enum(["UNKNOWN_L7_TYPE", "REQUEST", "RESPONSE", "SAMPLE"]).optional(),
  latency_ns: Uint64.optional(),
  dns: z
    .looseObject({
      query: z.string().optional(),
      ips: z.array(z.string()).optional(),
      ttl: z.number().int().optional(),
      cnames: z.array(z.string()).optional(),
      observation_source: z.string().optional(),
      rcode: z.number().int().optional(),
      qtypes: z.array(z.string()).optional(),
      rrtypes: z.array(z.string()).optional(),
    })
    .optional(),
  http: z
    .looseObject({
      code: z.number().int().optional(),
      method: z.string().optional(),
      url: z.string().optional(),
      protocol: z.string().optional(),
    })
    .optional(),
});

const VerdictSchema = z.enum([
  "VERDICT_UNKNOWN",
  "FORWARDED",
  "DROPPED",
  "ERROR",
  "AUDIT",
  "REDIRECTED",
  "TRACED",
  "TRANSLATED",
]);
const TrafficDirectionSchema = z.enum(["TRAFFIC_DIRECTION_UNKNOWN", "INGRESS", "EGRESS"]);

const PolicyRef = z.looseObject({
  name: z.string().optional(),
  namespace: z.string().optional(),
  labels: z.array(z.string()).optional(),
  revision: Uint64.optional(),
  kind: z.string().optional(),
});

export const FlowSchema = z.looseObject({
  time: Time.optional(),
  uuid: z.string().optional(),
  emitter: z.looseObject({ name: z.string().optional(), version: z.string().optional() }).optional(),
  verdict: VerdictSchema.optional(),
  drop_reason: z.number().int().optional(),
  drop_reason_desc: z.string().optional(),
  ethernet: z.looseObject({ source: z.string().optional(), destination: z.string().optional() }).optional(),
  IP: z
    .looseObject({
      source: z.string().optional(),
      destination: z.string().optional(),
      ipVersion: z.enum(["IP_NOT_USED", "IPv4", "IPv6"]).optional(),
      encrypted: z.boolean().optional(),
    })
    .optional(),
  l4: Layer4Schema.optional(),
  l7: Layer7Schema.optional(),
  source: FlowEndpointSchema.optional(),
  destination: FlowEndpointSchema.optional(),
  Type: z.enum(["UNKNOWN_TYPE", "L3_L4", "L7", "SOCK"]).optional(),
  node_name: z.string().optional(),
  node_labels: z.array(z.string()).optional(),
  source_names: z.array(z.string()).optional(),
  destination_names: z.array(z.string()).optional(),
  source_service: z.looseObject({ name: z.string().optional(), namespace: z.string().optional() }).optional(),
  destination_service: z
    .looseObject({ name: z.string().optional(), namespace: z.string().optional() })
    .optional(),
  event_type: z
    .looseObject({ type: z.number().int().optional(), sub_type: z.number().int().optional() })
    .optional(),
  traffic_direction: TrafficDirectionSchema.optional(),
  policy_match_type: z.number().int().optional(),
  trace_observation_point: z.string().optional(),
  trace_reason: z.string().optional(),
  is_reply: z.boolean().optional(),
  interface: z.looseObject({ index: z.number().int().optional(), name: z.string().optional() }).optional(),
  Summary: z.string().optional(),
  egress_allowed_by: z.array(PolicyRef).optional(),
  ingress_allowed_by: z.array(PolicyRef).optional(),
  egress_denied_by: z.array(PolicyRef).optional(),
  ingress_denied_by: z.array(PolicyRef).optional(),
  policy_log: z.array(z.string()).optional(),
});

/** One line of the exporter file / `hubble observe -o json`. */
export const ExporterLineSchema = z.looseObject({
  flow: FlowSchema,
  node_name: z.string().optional(),
  time: Time.optional(),
});

export type HubbleFlow = z.infer<typeof FlowSchema>;
export type ExporterLine = z.infer<typeof ExporterLineSchema>;

// What ingestion reads. The same field rules as above for every field the normaliser uses, but
// plain objects: unknown keys are accepted and dropped instead of copied, which is cheaper. A line that breaks the full schema only in a field
// Prophet never reads (say `ethernet.source: 5`) is accepted here; `validation: "full"` in the
// readers applies FlowSchema instead.
const L4Ports = z.object({ source_port: PortSchema.optional(), destination_port: PortSchema.optional() });
const Icmp = z.object({ type: z.number().int().optional(), code: z.number().int().optional() });

/** The flow fields except the endpoints, which the line reader validates and caches apart. */
export const FlowFieldsSchema = z.object({
  time: Time.optional(),
  uuid: z.string().optional(),
  verdict: VerdictSchema.optional(),
  drop_reason_desc: z.string().optional(),
  IP: z.object({ source: z.string().optional(), destination: z.string().optional() }).optional(),
  l4: z
    .object({
      TCP: L4Ports.extend({
        flags: z.object({ SYN: z.boolean().optional(), ACK: z.boolean().optional() }).optional(),
      }).optional(),
      UDP: L4Ports.optional(),
      SCTP: L4Ports.optional(),
      ICMPv4: Icmp.optional(),
      ICMPv6: Icmp.optional(),
    })
    .optional(),
  l7: z
    .object({
      type: Layer7Schema.shape.type,
      dns: z
        .object({
          query: z.string().optional(),
          rcode: z.number().int().optional(),
          ips: z.array(z.string()).optional(),
        })
        .optional(),
    })
    .optional(),
  node_name: z.string().optional(),
  node_labels: z.array(z.string()).optional(),
  source_names: z.array(z.string()).optional(),
  destination_names: z.array(z.string()).optional(),
  traffic_direction: TrafficDirectionSchema.optional(),
  is_reply: z.boolean().optional(),
});

/** A flow as the normaliser reads it; every HubbleFlow is one. */
export const FlowReadSchema = FlowFieldsSchema.extend({
  source: FlowEndpointSchema.optional(),
  destination: FlowEndpointSchema.optional(),
});

/** The envelope's own fields (`flow` is validated apart). */
export const EnvelopeFieldsSchema = z.object({ node_name: z.string().optional(), time: Time.optional() });

export type FlowEndpoint = z.infer<typeof FlowEndpointSchema>;
export type FlowFields = z.infer<typeof FlowFieldsSchema>;
export type FlowRead = z.infer<typeof FlowReadSchema>;
