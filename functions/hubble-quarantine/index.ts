// hubble-quarantine: learns each workload's service map from Cilium Hubble flows and reports the
// traffic it cannot explain (new egress, scans, lateral movement, drop storms, DNS exfiltration,
// traffic from a quarantined pod). Flows arrive pushed (io.prophet.flows.batch from an exporter
// sidecar or a Relay client) or pulled on its minute tick (Hubble Relay, or JSONL over HTTP). A
// strong detection about a pod raises ProphetFlowAnomaly, whose remediation is quarantine_pod:
// the quarantine goes through the planner and the policy gate (approval by default). It reports
// quarantines applied, and releases the ones whose time is up or that a person releases (a signed
// io.prophet.quarantine.release.requested). See shared/flows/.
import {
  AlertFiring,
  FlowAnomaly,
  FlowsBatch,
  QuarantineApplied,
  QuarantineReleaseRequested,
  QuarantineReleased,
  RemediationExecuted,
  ScheduleTick,
  isEvent,
} from "../../shared/events/catalog.js";
import { makeEvent } from "../../shared/events/emit.js";
import type { ProphetEvent } from "../../shared/events/envelope.js";
import { flowsFromBatch } from "../../shared/flows/batch.js";
import { pullFlows } from "../../shared/flows/pull.js";
import { releaseExpired, releaseRequested } from "../../shared/flows/release.js";
import {
  analyseFlows,
  defaultFlowSettings,
  flowCursor,
  type FlowRunContext,
} from "../../shared/flows/run.js";
import { defineFunction, functionSource } from "../../shared/function.js";

const name = "hubble-quarantine";
const source = functionSource(name);
const actor = `function:${name}`;

export const hubbleQuarantine = defineFunction({
  name,
  description:
    "Learns the service map from Hubble flows, reports anomalous traffic and proposes quarantining the pod behind it.",
  accepts: [FlowsBatch.type, ScheduleTick.type, RemediationExecuted.type, QuarantineReleaseRequested.type],
  schedules: [{ name, cron: "* * * * *" }],
  emits: [FlowAnomaly.type, AlertFiring.type, QuarantineApplied.type, QuarantineReleased.type],
  async handle(event, deps): Promise<ProphetEvent[]> {
    const ctx: FlowRunContext = { deps, source, actor };
    const cluster = event.cluster ?? deps.cluster;
    if (isEvent(event, FlowsBatch)) {
      // One bad line never loses the batch: it is counted and named, the rest is analysed.
      const parsed = flowsFromBatch(event.data);
      const flowCluster = event.data.cluster ?? cluster;
      if (parsed.rejected.length > 0)
        deps.log.warn(
          {
            cluster: flowCluster,
            rejected: parsed.rejected.length,
            lines: parsed.lines,
            first: parsed.rejected.slice(0, 3).map((r) => `line ${r.line}: ${r.reason}`),
          },
          "flow lines rejected",
        );
      const { events, report } = await analyseFlows(ctx, flowCluster, parsed, event);
      deps.log.info({ cluster: flowCluster, ...report }, "flows analysed");
      return events;
    }
    if (isEvent(event, ScheduleTick)) {
      if (event.data.schedule !== name) return [];
      const settings = deps.flows ?? defaultFlowSettings();
      const out: ProphetEvent[] = [];
      if (settings.relayAddress || settings.flowsUrl) {
        try {
          const pulled = await pullFlows(settings, await flowCursor(ctx, cluster), deps.clock.now());
          if (pulled) {
            const { events, report } = await analyseFlows(
              ctx,
              cluster,
              pulled.parsed,
              event,
              pulled.cursor ?? undefined,
            );
            deps.log.info({ cluster, source: pulled.source, ...report }, "flows pulled and analysed");
            out.push(...events);
          }
        } catch (err) {
          // The source is down: say so, and read from the same cursor next minute.
          deps.log.warn({ cluster, err: (err as Error).message }, "flow source unreadable");
        }
      }
      out.push(...(await releaseExpired(ctx, cluster, event)));
      return out;
    }
    if (isEvent(event, QuarantineReleaseRequested)) return releaseRequested(ctx, cluster, event);
    if (isEvent(event, RemediationExecuted)) {
      const r = event.data;
      const t = r.target;
      if (r.action !== "quarantine_pod" || r.status !== "executed" || t?.kind !== "Pod") return [];
      return [
        makeEvent(
          QuarantineApplied,
          {
            namespace: t.namespace ?? "",
            pod: t.name,
            remediationId: r.remediationId,
            incidentId: r.incidentId ?? null,
            changes: r.changes ?? [],
            reason: r.rationale ?? null,
          },
          { cause: event, source, subject: `${t.namespace}/${t.name}`, time: deps.clock.now() },
        ),
      ];
    }
    return [];
  },
});
