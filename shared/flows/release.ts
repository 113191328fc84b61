// Quarantines end: on the tick, every pod labelled quarantined whose quarantine-expires
// annotation has passed is released by quarantine_pod's own undo, fed the result its remediation
// recorded (the labels it removed, the policy it made); the release is audited and announced as
// io.prophet.quarantine.released. The annotation is the action's `ttl` (PROPHET_QUARANTINE_TTL
// for the quarantines hubble-quarantine proposes). Releasing only ever restores: no approval.
import { QuarantineReleased } from "../events/catalog.js";
import { makeEvent } from "../events/emit.js";
import type { ProphetEvent } from "../events/envelope.js";
import { defaultLimits, type ActionContext, type ExecutionResult } from "../remediation/action.js";
import { QUARANTINED, QUARANTINE_EXPIRES, quarantinePod } from "../remediation/actions/quarantine-pod.js";
import { getRemediation } from "../remediation/store.js";
import { appendAudit } from "../store/audit.js";
import type { FlowRunContext } from "./run.js";

const REMEDIATION_ID = "aiops.prophet.io/remediation-id";

export async function releaseExpired(
  ctx: FlowRunContext,
  cluster: string,
  cause: ProphetEvent,
): Promise<ProphetEvent[]> {
  const { deps } = ctx;
  const kube = deps.kube;
  if (!kube?.patch) return [];
  const now = deps.clock.now();
  const pods = await kube.list("Pod", undefined, { labelSelector: `${QUARANTINED}=true` }).catch(() => []);
  const out: ProphetEvent[] = [];
  for (const pod of pods) {
    const a = pod.metadata.annotations ?? {};
    const expires = a[QUARANTINE_EXPIRES] ? Date.parse(a[QUARANTINE_EXPIRES]) : NaN;
    if (pod.metadata.labels?.[QUARANTINED] !== "true" || !(expires <= now.getTime())) continue;
    const namespace = pod.metadata.namespace ?? "";
    const remediationId = a[REMEDIATION_ID];
    const remediation = remediationId ? await getRemediation(deps.store, remediationId) : undefined;
    const recorded: ExecutionResult = remediation?.result ?? { changes: [] };
    const actx: ActionContext = {
      cluster: kube,
      clock: deps.clock,
      log: deps.log,
      limits: defaultLimits,
      actor: ctx.actor,
      remediationId: remediationId ?? "release",
    };
    const target = { kind: "Pod", namespace, name: pod.metadata.name };
    let changes: string[];
    try {
      changes = (await quarantinePod.undo!(actx, target, recorded)).changes;
    } catch (err) {
      deps.log.warn(
        { pod: `${namespace}/${pod.metadata.name}`, err: (err as Error).message },
        "release failed",
      );
      continue;
    }
    await deps.store.transaction((tx) =>
      appendAudit(tx, {
        at: now,
        cluster,
        actor: ctx.actor,
        action: "quarantine.released",
        subject: `${namespace}/${pod.metadata.name}`,
        details: { remediationId: remediationId ?? null, expired: a[QUARANTINE_EXPIRES], changes },
        dedupeKey: `${ctx.actor}:release:${namespace}/${pod.metadata.name}:${a[QUARANTINE_EXPIRES]}`,
      }),
    );
    out.push(
      makeEvent(
        QuarantineReleased,
        {
          namespace,
          pod: pod.metadata.name,
          remediationId: remediationId ?? "unknown",
          incidentId: remediation?.incidentId ?? null,
          changes,
          reason: `the quarantine expired at ${a[QUARANTINE_EXPIRES]}`,
        },
        { cause, source: ctx.source, subject: `${namespace}/${pod.metadata.name}`, time: now },
      ),
    );
  }
  return out;
}
