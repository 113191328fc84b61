// Hand-built normalised flows for the flow tests (shared/flows/types.ts): an external peer, a TCP
// connection attempt, and its reply.
import type { Flow, FlowPeer } from "../../shared/flows/types.js";

export const world = (ip: string, names?: string[]): FlowPeer => ({
  identity: "world",
  ip,
  numericIdentity: 2,
  ...(names ? { names } : {}),
});

/** A forwarded TCP SYN from src to dst:dstPort at timeMs; `o` overrides any field. */
export const flow = (
  timeMs: number,
  src: FlowPeer,
  dst: FlowPeer,
  dstPort: number,
  o: Partial<Flow> = {},
): Flow => ({
  timeMs,
  verdict: "FORWARDED",
  isReply: false,
  protocol: "TCP",
  srcPort: 40000,
  dstPort,
  syn: true,
  src,
  dst,
  ...o,
});

/** The answer of a flow: sides and ports swapped, not a connection attempt. */
export const reply = (f: Flow, o: Partial<Flow> = {}): Flow => ({
  ...f,
  src: f.dst,
  dst: f.src,
  srcPort: f.dstPort,
  dstPort: f.srcPort,
  isReply: true,
  syn: false,
  ...o,
});
