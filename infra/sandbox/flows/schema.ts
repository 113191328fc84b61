// Hubble flows as `hubble observe -o json` and the flow exporter print them (observer.GetFlowsResponse
// in protojson): snake_case keys except IP, Type, TCP, UDP, ID, ipVersion; enums as strings; 64-bit
// integers as strings; zero values omitted — so every field is optional. Objects are loose: newer
// Cilium versions add fields, and a reader must not reject them.
import { z } from "zod";

const Workload = z.looseObject({ name: z.string().optional(), kind: z.string().optional() });

export const FlowEndpointSchema = z.looseObject({
  ID: z.number().int().nonnegative().optional(),
  identity: z.number().int().nonnegative().optional(),
  cluster_name: z.string().optional(),
  namespace: z.string().optional(),
  labels: z.array(z.string()).optional(),
  pod_name: z.string().optional(),
  workloads: z.array(Workload).optional(),
});

const TcpFlags = z.looseObject({
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

const Port = z.number().int().min(0).max(65535);

export const Layer4Schema = z.looseObject({
  TCP: z
    .looseObject({
      source_port: Port.optional(),
      destination_port: Port.optional(),
      flags: TcpFlags.optional(),
    })
    .optional(),
  UDP: z.looseObject({ source_port: Port.optional(), destination_port: Port.optional() }).optional(),
  SCTP: z.looseObject({ source_port: Port.optional(), destination_port: Port.optional() }).optional(),
  ICMPv4: z.looseObject({ type: z.number().int().optional(), code: z.number().int().optional() }).optional(),
  ICMPv6: z.looseObject({ type: z.number().int().optional(), code: z.number().int().optional() }).optional(),
});

const Uint64 = z.string().regex(/^\d+$/, "a 64-bit integer is a decimal string in protojson");

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

const PolicyRef = z.looseObject({
  name: z.string().optional(),
  namespace: z.string().optional(),
  labels: z.array(z.string()).optional(),
  revision: Uint64.optional(),
  kind: z.string().optional(),
});

export const FlowSchema = z.looseObject({
  time: z.iso.datetime({ offset: true }).optional(),
  uuid: z.string().optional(),
  emitter: z.looseObject({ name: z.string().optional(), version: z.string().optional() }).optional(),
  verdict: z
    .enum(["VERDICT_UNKNOWN", "FORWARDED", "DROPPED", "ERROR", "AUDIT", "REDIRECTED", "TRACED", "TRANSLATED"])
    .optional(),
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
  traffic_direction: z.enum(["TRAFFIC_DIRECTION_UNKNOWN", "INGRESS", "EGRESS"]).optional(),
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
  time: z.iso.datetime({ offset: true }).optional(),
});

export type HubbleFlow = z.infer<typeof FlowSchema>;
export type ExporterLine = z.infer<typeof ExporterLineSchema>;
