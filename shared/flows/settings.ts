// hubble-quarantine's settings, from the deployment's configuration (shared/config.ts): where it
// pulls flows from on its minute tick, how long it learns, and what a strong detection does.
import { parseDuration } from "../duration.js";

export interface FlowSettings {
  /** Hubble Relay host:port (gRPC) pulled every minute; absent: only pushed batches are read. */
  relayAddress?: string;
  /** Flows as JSONL over HTTP (`?since=`), e.g. the sandbox's /sandbox/flows. */
  flowsUrl?: string;
  learningMs: number;
  /** off: detections are reported only; propose: a quarantine waits for approval; policy: the
   * remediation policy's approval mode decides. */
  quarantine: "off" | "propose" | "policy";
  quarantineScore: number;
  sensitiveNamespaces?: string[];
  /** quarantine_pod's ttl for the quarantines it proposes (e.g. "4h"); absent: no expiry. */
  quarantineTtl?: string;
}

export function flowSettings(
  cfg: {
    HUBBLE_RELAY_ADDRESS?: string | undefined;
    HUBBLE_FLOWS_URL?: string | undefined;
    PROPHET_FLOW_LEARNING: string;
    PROPHET_FLOW_QUARANTINE: "off" | "propose" | "policy";
    PROPHET_FLOW_QUARANTINE_SCORE: number;
    PROPHET_FLOW_SENSITIVE_NAMESPACES?: string | undefined;
    PROPHET_QUARANTINE_TTL?: string | undefined;
  },
  flowsUrl?: string,
): FlowSettings {
  const sensitive = cfg.PROPHET_FLOW_SENSITIVE_NAMESPACES?.split(",")
    .map((n) => n.trim())
    .filter(Boolean);
  const url = cfg.HUBBLE_FLOWS_URL ?? flowsUrl;
  return {
    ...(cfg.HUBBLE_RELAY_ADDRESS ? { relayAddress: cfg.HUBBLE_RELAY_ADDRESS } : {}),
    ...(url ? { flowsUrl: url } : {}),
    learningMs: (parseDuration(cfg.PROPHET_FLOW_LEARNING) ?? 86_400) * 1000,
    quarantine: cfg.PROPHET_FLOW_QUARANTINE,
    quarantineScore: cfg.PROPHET_FLOW_QUARANTINE_SCORE,
    ...(sensitive?.length ? { sensitiveNamespaces: sensitive } : {}),
    ...(cfg.PROPHET_QUARANTINE_TTL ? { quarantineTtl: cfg.PROPHET_QUARANTINE_TTL } : {}),
  };
}
