// hubble-quarantine's loop: flows (a pushed batch, or pulled from Hubble Relay / a JSONL URL on the
// tick) → the cluster's FlowAnalyzer (learned service map + detectors) → each new detection key
// stored, announced as io.prophet.flow.anomaly and audited; a strong one about a pod raises the
// ProphetFlowAnomaly alert whose remediation is quarantine_pod, so the quarantine goes through the
// incident, the planner and the policy gate like every other action (approval by default). The
// baseline is kept in the store (flow_baselines) and, warm, in the instance's memory.
import { makeEvent } from "../events/emit.js";
import type { ProphetEvent } from "../events/envelope.js";
import { FlowAnomaly } from "../events/catalog.js";
import { raisedAlertData, raisedAlertEvent } from "../events/edge/alertmanager.js";
import { fingerprint } from "../events/fingerprint.js";
import type { AlertEventData } from "../events/schemas/alert.js";
import type { EvidenceFlow, FlowAnomalyData } from "../events/schemas/flows.js";
import type { Deps } from "../function.js";
import type { Store } from "../ports/store.js";
import { listCacheFor } from "../kube/snapshot.js";
import { QUARANTINED } from "../remediation/actions/quarantine-pod.js";
import { appendAudit } from "../store/audit.js";
import { FlowAnalyzer, parseAnalyzerConfig, type Detection } from "./analyzer.js";
import type { FlowParseResult } from "./jsonl.js";
import type { FlowSettings } from "./settings.js";
import type { Flow, FlowPeer } from "./types.js";

export const FLOW_ALERTNAME = "ProphetFlowAnomaly";
/** A detection key is announced again after this long (repeats in between are counted). */
const REANNOUNCE_MS = 60 * 60_000;
/** The baseline is written back at most this often (and after every batch with a detection). */
const SAVE_EVERY_MS = 10_000;
const MAX_EVIDENCE = 20;

export interface FlowRunContext {
  deps: Deps;
  /** CloudEvents source of what the function emits. */
  source: string;
  actor: string;
}

interface Entry {
  analyzer: FlowAnalyzer;
  savedAt: number;
  cursor: string | null;
}

/** Warm instances keep each cluster's analyzer (its windows and suppressions live only here). */
const warm = new WeakMap<Store, Map<string, Entry>>();

export function defaultFlowSettings(): FlowSettings {
  return { learningMs: 24 * 3_600_000, quarantine: "propose", quarantineScore: 0.8 };
}

async function entryFor(ctx: FlowRunContext, cluster: string): Promise<Entry> {
  const { store, log } = ctx.deps;
  let byCluster = warm.get(store);
  if (!byCluster) warm.set(store, (byCluster = new Map()));
  const hit = byCluster.get(cluster);
  if (hit) return hit;
  const settings = ctx.deps.flows ?? defaultFlowSettings();
  const config = parseAnalyzerConfig({
    learningPeriod: settings.learningMs,
    ...(settings.sensitiveNamespaces
      ? { lateral: { sensitiveNamespaces: settings.sensitiveNamespaces } }
      : {}),
  });
  const { rows } = await store.query<{ baseline: unknown; cursor: string | null }>(
    "SELECT baseline, cursor FROM flow_baselines WHERE cluster = $1",
    [cluster],
  );
  let analyzer: FlowAnalyzer;
  try {
    analyzer = new FlowAnalyzer(config, rows[0]?.baseline);
  } catch (err) {
    // A stored map this version cannot read: learn again rather than stop judging traffic.
    log.warn({ cluster, err: (err as Error).message }, "stored flow baseline unreadable; learning afresh");
    analyzer = new FlowAnalyzer(config);
  }
  const entry: Entry = { analyzer, savedAt: ctx.deps.clock.now().getTime(), cursor: rows[0]?.cursor ?? null };
  byCluster.set(cluster, entry);
  return entry;
}

async function saveBaseline(store: Store, cluster: string, entry: Entry, now: Date): Promise<void> {
  await store.query(
    `INSERT INTO flow_baselines (cluster, baseline, cursor, updated_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (cluster) DO UPDATE SET baseline = EXCLUDED.baseline, cursor = EXCLUDED.cursor,
       updated_at = EXCLUDED.updated_at`,
    [cluster, JSON.stringify(entry.analyzer.baseline.toJSON()), entry.cursor, now],
  );
  entry.savedAt = now.getTime();
}

/** Pods labelled quarantined right now (namespace/pod), and their identities' traffic. */
async function quarantined(deps: Deps): Promise<string[]> {
  if (!deps.kube) return [];
  // Every batch asks; the cluster is asked at most once per two seconds.
  const pods = await listCacheFor(deps.kube, deps.clock)
    .list(deps.kube, "Pod", undefined, { labelSelector: `${QUARANTINED}=true` })
    .catch(() => []);
  return pods
    .filter((p) => p.metadata.labels?.[QUARANTINED] === "true")
    .map((p) => `${p.metadata.namespace ?? ""}/${p.metadata.name}`);
}

const peerName = (p: FlowPeer) =>
  p.pod ? `${p.namespace}/${p.pod}` : p.names?.[0] ? `${p.names[0]} (${p.ip ?? "?"})` : (p.ip ?? p.identity);

export function evidenceOf(f: Flow): EvidenceFlow {
  return {
    time: new Date(f.timeMs).toISOString(),
    verdict: f.verdict,
    ...(f.dropReason ? { dropReason: f.dropReason } : {}),
    protocol: f.protocol,
    source: peerName(f.src),
    destination: peerName(f.dst),
    ...(f.dstPort !== undefined ? { port: f.dstPort } : {}),
    ...(f.dnsQuery ? { dnsQuery: f.dnsQuery } : {}),
    ...(f.node ? { node: f.node } : {}),
  };
}

/** The pod a detection is about: the one it names, else the source pod of its latest evidence. */
function podOf(d: Detection): { namespace: string; pod: string } | undefined {
  if (d.pod && d.namespace) return { namespace: d.namespace, pod: d.pod };
  for (const f of [...d.evidence].reverse()) {
    const side = f.src.identity === d.identity ? f.src : f.dst.identity === d.identity ? f.dst : undefined;
    if (side?.pod && side.namespace) return { namespace: side.namespace, pod: side.pod };
  }
  return undefined;
}

/** The alert that asks for the pod's quarantine; the planner reads prophet_remediation. */
export function quarantineAlert(
  d: Detection,
  target: { namespace: string; pod: string },
  settings: FlowSettings,
): AlertEventData {
  const labels: Record<string, string> = {
    alertname: FLOW_ALERTNAME,
    namespace: target.namespace,
    pod: target.pod,
    severity: d.score >= 0.9 ? "critical" : "warning",
    prophet_anomaly_action: "hubble-quarantine",
    prophet_anomaly_detector: d.detector,
    prophet_flow_identity: d.identity,
    prophet_remediation: "quarantine_pod",
  };
  if (settings.quarantine === "propose") labels.prophet_require_approval = "true";
  if (settings.quarantineTtl) labels.prophet_quarantine_ttl = settings.quarantineTtl;
  return raisedAlertData({
    fingerprint: fingerprint(labels),
    status: "firing",
    alertname: FLOW_ALERTNAME,
    labels,
    annotations: {
      title: `Suspicious traffic from ${target.namespace}/${target.pod}`,
      summary: d.message,
    },
    startsAt: new Date(d.firstMs).toISOString(),
    endsAt: null,
    receiver: "hubble-quarantine",
    groupKey: `flows:${d.identity}`,
  });
}

export interface FlowRunReport {
  flows: number;
  rejected: number;
  detections: number;
  announced: number;
  proposed: number;
  enforcing: number;
  identities: number;
}

/** Runs one batch of flows through the cluster's analyzer; returns the events to emit. */
export async function analyseFlows(
  ctx: FlowRunContext,
  cluster: string,
  parsed: FlowParseResult,
  cause: ProphetEvent,
  cursor?: string,
): Promise<{ events: ProphetEvent[]; report: FlowRunReport }> {
  const { deps } = ctx;
  const settings = deps.flows ?? defaultFlowSettings();
  const entry = await entryFor(ctx, cluster);
  const pods = await quarantined(deps);
  entry.analyzer.setQuarantined({ pods });
  // The same key fires at most once per batch here; its last report has the highest count.
  const byKey = new Map<string, Detection>();
  for (const f of parsed.flows) for (const d of entry.analyzer.observe(f)) byKey.set(d.key, d);
  if (cursor) entry.cursor = cursor;
  const now = deps.clock.now();
  const events: ProphetEvent[] = [];
  let proposed = 0;
  for (const d of byKey.values()) {
    const target = podOf(d);
    const propose =
      settings.quarantine !== "off" &&
      d.score >= settings.quarantineScore &&
      d.detector !== "quarantined-traffic" &&
      target !== undefined &&
      !pods.includes(`${target.namespace}/${target.pod}`);
    const evidence = d.evidence.slice(-MAX_EVIDENCE).map(evidenceOf);
    const announce = await deps.store.transaction(async (tx) => {
      const { rows } = await tx.query<{ announced_at: Date; proposed: boolean }>(
        "SELECT announced_at, proposed FROM flow_detections WHERE cluster = $1 AND key = $2 FOR UPDATE",
        [cluster, d.key],
      );
      const prev = rows[0];
      const again = !prev || now.getTime() - new Date(prev.announced_at).getTime() >= REANNOUNCE_MS;
      await tx.query(
        `INSERT INTO flow_detections (cluster, key, detector, identity, namespace, pod, score, message,
           evidence, count, first_seen, last_seen, announced_at, proposed)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (cluster, key) DO UPDATE SET score = GREATEST(flow_detections.score, EXCLUDED.score),
           message = EXCLUDED.message, evidence = EXCLUDED.evidence,
           count = flow_detections.count + EXCLUDED.count, last_seen = EXCLUDED.last_seen,
           announced_at = CASE WHEN $15 THEN EXCLUDED.announced_at ELSE flow_detections.announced_at END,
           proposed = flow_detections.proposed OR EXCLUDED.proposed`,
        [
          cluster,
          d.key,
          d.detector,
          d.identity,
          target?.namespace ?? d.namespace ?? null,
          target?.pod ?? null,
          d.score,
          d.message,
          JSON.stringify(evidence),
          Math.max(1, d.count),
          new Date(d.firstMs),
          new Date(d.lastMs),
          now,
          again && propose,
          again,
        ],
      );
      if (!again) return false;
      await appendAudit(tx, {
        at: now,
        cluster,
        actor: ctx.actor,
        action: "flow.anomaly",
        subject: `${d.detector} ${d.identity}`,
        details: {
          eventId: cause.id,
          key: d.key,
          detector: d.detector,
          reason: d.reason,
          score: d.score,
          identity: d.identity,
          pod: target ? `${target.namespace}/${target.pod}` : null,
          quarantineProposed: propose,
          evidence: evidence.length,
        },
        dedupeKey: `${ctx.actor}:${cause.source}:${cause.id}:${d.key}`,
      });
      return true;
    });
    if (!announce) continue;
    const data: FlowAnomalyData = {
      detector: d.detector,
      reason: d.reason,
      message: d.message,
      score: d.score,
      identity: d.identity,
      namespace: target?.namespace ?? d.namespace ?? null,
      pod: target?.pod ?? null,
      key: d.key,
      count: Math.max(1, d.count),
      firstSeen: new Date(d.firstMs).toISOString(),
      lastSeen: new Date(d.lastMs).toISOString(),
      evidence,
      quarantineProposed: propose,
    };
    events.push(
      makeEvent(FlowAnomaly, data, {
        cause,
        source: ctx.source,
        subject: `${d.detector} ${d.identity}`,
        time: now,
      }),
    );
    if (propose && target) {
      proposed++;
      events.push(raisedAlertEvent(ctx.source, quarantineAlert(d, target, settings), cluster));
    }
  }
  if (byKey.size > 0 || now.getTime() - entry.savedAt >= SAVE_EVERY_MS)
    await saveBaseline(deps.store, cluster, entry, now);
  const ids = [...entry.analyzer.baseline.identities()];
  return {
    events,
    report: {
      flows: parsed.flows.length,
      rejected: parsed.rejected.length,
      detections: byKey.size,
      announced: events.filter((e) => e.type === FlowAnomaly.type).length,
      proposed,
      identities: ids.length,
      enforcing: ids.filter((id) => id.enforcingSinceMs !== undefined).length,
    },
  };
}

/** The cursor (last flow time read) of the cluster's pulled source. */
export async function flowCursor(ctx: FlowRunContext, cluster: string): Promise<string | null> {
  return (await entryFor(ctx, cluster)).cursor;
}

/** Forget the warm analyzers (tests; a store that was reset). */
export function forgetWarmAnalyzers(store: Store): void {
  warm.delete(store);
}
