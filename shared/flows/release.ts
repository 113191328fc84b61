// Quarantines end in one of two ways, both through quarantine_pod's own undo, fed the result its
// remediation recorded (the labels it removed, the policy it made), audited and announced as
// io.prophet.quarantine.released:
//   - on the tick, every pod labelled quarantined whose quarantine-expires annotation has passed
//     (the action's `ttl`: PROPHET_QUARANTINE_TTL for the quarantines hubble-quarantine proposes);
//   - when a person asks (io.prophet.quarantine.release.requested, signed with the approval key by
//     the local host's operator API or `prophet quarantine release`): the investigation is over
//     before the TTL. Releasing only ever restores, so the signature is the approval.
import { QuarantineReleased } from "../events/catalog.js";
import { makeEvent } from "../events/emit.js";
import type { ProphetEvent } from "../events/envelope.js";
import type { QuarantineReleaseRequestData } from "../events/schemas/flows.js";
import { ProphetError } from "../errors.js";
import type { KubeObject } from "../diagnosis/objects.js";
import { defaultLimits, type ActionContext, type ExecutionResult } from "../remediation/action.js";
import { QUARANTINED, QUARANTINE_EXPIRES, quarantinePod } from "../remediation/actions/quarantine-pod.js";
import { approvalKey, checkReleaseToken } from "../remediation/approvals.js";
import { defaultRemediationSettings } from "../remediation/settings.js";
import { getRemediation } from "../remediation/store.js";
import { appendAudit } from "../store/audit.js";
import type { FlowRunContext } from "./run.js";

export const REMEDIATION_ID = "aiops.prophet.io/remediation-id";

export async function releaseExpired(
  ctx: FlowRunContext,
  cluster: string,
  cause: ProphetEvent,
): Promise<ProphetEvent[]> {
  const kube = ctx.deps.kube;
  if (!kube?.patch) return [];
  const now = ctx.deps.clock.now();
  const pods = await quarantinedPods(ctx).catch(() => []);
  const out: ProphetEvent[] = [];
  for (const pod of pods) {
    const expiry = pod.metadata.annotations?.[QUARANTINE_EXPIRES];
    const expires = expiry ? Date.parse(expiry) : NaN;
    if (!(expires <= now.getTime())) continue;
    const released = await release(ctx, cluster, pod, cause, {
      actor: ctx.actor,
      reason: `the quarantine expired at ${expiry}`,
      details: { expired: expiry },
      dedupeKey: `${ctx.actor}:release:${pod.metadata.namespace}/${pod.metadata.name}:${expiry}`,
    }).catch((err: Error) => {
      ctx.deps.log.warn(
        { pod: `${pod.metadata.namespace}/${pod.metadata.name}`, err: err.message },
        "release failed",
      );
      return undefined;
    });
    if (released) out.push(released);
  }
  return out;
}

/** A person's signed request: checked, then the pod is released now. */
export async function releaseRequested(
  ctx: FlowRunContext,
  cluster: string,
  event: ProphetEvent<QuarantineReleaseRequestData>,
): Promise<ProphetEvent[]> {
  const { deps } = ctx;
  const r = event.data;
  const key = await approvalKey(deps.store, (deps.remediation ?? defaultRemediationSettings).approvalKey);
  const check = checkReleaseToken(key, r, deps.clock.now());
  if (check === "invalid")
    throw new ProphetError("forbidden", "the release token is not valid for this request");
  if (check === "expired")
    throw new ProphetError("forbidden", `the release request expired at ${r.expiresAt}`);
  const kube = deps.kube;
  if (!kube?.patch) throw new ProphetError("invalid_config", "no cluster configured to release the pod in");
  const pod = await kube.get("Pod", r.namespace, r.pod);
  if (!pod) throw new ProphetError("not_found", `no pod ${r.namespace}/${r.pod}`);
  if (pod.metadata.labels?.[QUARANTINED] !== "true")
    throw new ProphetError("conflict", `pod ${r.namespace}/${r.pod} is not quarantined`);
  const released = await release(ctx, cluster, pod, event, {
    actor: r.actor,
    reason: `released by ${r.actor}: ${r.reason}`,
    details: { requested: event.id, reason: r.reason },
    dedupeKey: `${r.actor}:release:${r.namespace}/${r.pod}:${event.id}`,
  });
  return [released];
}

/** The pods labelled quarantined (the label is what the policy selects). */
export async function quarantinedPods(ctx: FlowRunContext): Promise<KubeObject[]> {
  const kube = ctx.deps.kube;
  if (!kube) return [];
  const pods = await kube.list("Pod", undefined, { labelSelector: `${QUARANTINED}=true` });
  return pods.filter((p) => p.metadata.labels?.[QUARANTINED] === "true");
}

async function release(
  ctx: FlowRunContext,
  cluster: string,
  pod: KubeObject,
  cause: ProphetEvent,
  why: { actor: string; reason: string; details: Record<string, unknown>; dedupeKey: string },
): Promise<ProphetEvent> {
  const { deps } = ctx;
  const now = deps.clock.now();
  const namespace = pod.metadata.namespace ?? "";
  const name = pod.metadata.name;
  const remediationId = pod.metadata.annotations?.[REMEDIATION_ID];
  const remediation = remediationId ? await getRemediation(deps.store, remediationId) : undefined;
  const recorded: ExecutionResult = remediation?.result ?? { changes: [] };
  const actx: ActionContext = {
    cluster: deps.kube!,
    clock: deps.clock,
    log: deps.log,
    limits: defaultLimits,
    actor: why.actor,
    remediationId: remediationId ?? "release",
  };
  const { changes } = await quarantinePod.undo!(actx, { kind: "Pod", namespace, name }, recorded);
  await deps.store.transaction((tx) =>
    appendAudit(tx, {
      at: now,
      cluster,
      actor: why.actor,
      action: "quarantine.released",
      subject: `${namespace}/${name}`,
      details: { remediationId: remediationId ?? null, ...why.details, changes },
      dedupeKey: why.dedupeKey,
    }),
  );
  return makeEvent(
    QuarantineReleased,
    {
      namespace,
      pod: name,
      remediationId: remediationId ?? "unknown",
      incidentId: remediation?.incidentId ?? null,
      changes,
      reason: why.reason,
    },
    { cause, source: ctx.source, subject: `${namespace}/${name}`, time: now },
  );
}
