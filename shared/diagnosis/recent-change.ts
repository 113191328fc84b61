// Change correlation: an alert that starts shortly after its workload rolled out a new revision,
// with nothing else wrong, most likely comes from the new version (an error-rate or latency
// alert, an SLO burn). The analyzers look at state and find nothing — the pods run and are
// ready — so this looks at time: the newest ReplicaSet's creation against the alert's start.
import { makeFinding } from "./analyzer.js";
import type { ClusterView } from "./cluster-view.js";
import type { Finding } from "./finding.js";
import type { KubeObject } from "./objects.js";

const REVISION = "deployment.kubernetes.io/revision";
/** A rollout up to this long before the alert started counts as the likely change. */
export const recentRolloutWindowMs = 60 * 60_000;

const revisionOf = (o: KubeObject) => Number(o.metadata.annotations?.[REVISION] ?? 0);

function imagesOf(rs: KubeObject): string {
  const spec = (rs.spec ?? {}) as { template?: { spec?: { containers?: { image?: string }[] } } };
  return (spec.template?.spec?.containers ?? []).map((c) => c.image ?? "?").join(", ");
}

function ago(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s}s` : `${Math.round(s / 60)}m`;
}

/**
 * `RecentRollout` on the Deployment when its newest revision was created within the hour before
 * the alert started (or up to a minute after: clocks and scrape intervals) and an older revision
 * exists to compare with.
 */
export function recentRollout(
  view: ClusterView,
  target: { kind?: string | undefined; namespace?: string | undefined; name?: string | undefined },
  startsAt: string | undefined,
): Finding | undefined {
  if (target.kind !== "Deployment" || !target.namespace || !target.name || !startsAt) return undefined;
  const d = view.get<KubeObject>("Deployment", target.namespace, target.name);
  if (!d) return undefined;
  const sets = view.owned(d, "ReplicaSet").sort((a, b) => revisionOf(b) - revisionOf(a));
  const [newest, previous] = sets;
  if (!newest || !previous) return undefined;
  const created = Date.parse(newest.metadata.creationTimestamp ?? "");
  const started = Date.parse(startsAt);
  if (!Number.isFinite(created) || !Number.isFinite(started)) return undefined;
  const before = started - created;
  if (before < -60_000 || before > recentRolloutWindowMs) return undefined;
  const from = imagesOf(previous);
  const to = imagesOf(newest);
  const change = from !== to ? ` (image ${from} → ${to})` : "";
  return makeFinding(
    view,
    d,
    "RecentRollout",
    `rolled out revision ${revisionOf(newest)}${change} ${before >= 0 ? `${ago(before)} before` : `${ago(-before)} after`} the alert started; revision ${revisionOf(previous)} (ReplicaSet ${previous.metadata.name}) ran before it`,
  );
}
