// The analyzer contract: one per Kubernetes kind (analyzers/<kind>.ts), all listed in
// analyzers/index.ts. An analyzer reads the view and returns findings; it never does I/O.
import type { ClusterView } from "./cluster-view.js";
import type { Finding, FindingEvidence } from "./finding.js";
import type { KubeEvent, KubeObject } from "./objects.js";

export interface Analyzer {
  /** The kind whose objects it reports on (the `kind` of its findings). */
  kind: string;
  analyze(view: ClusterView): Finding[];
}

export function describeEvent(e: KubeEvent): string {
  const count = e.count && e.count > 1 ? ` (x${e.count})` : "";
  return `${e.reason ?? "Event"}: ${(e.message ?? "").trim()}${count}`;
}

export interface FindingExtras {
  logs?: readonly string[] | undefined;
  metrics?: Record<string, number>;
  /** Events to cite instead of the object's Warning events. */
  events?: readonly KubeEvent[];
}

export function makeFinding(
  view: ClusterView,
  obj: KubeObject,
  reason: string,
  message: string,
  extras: FindingExtras = {},
): Finding {
  const evidence: FindingEvidence = {
    events: (extras.events ?? view.warnings(obj)).map(describeEvent),
  };
  if (extras.logs && extras.logs.length > 0) evidence.logs = [...extras.logs];
  if (extras.metrics) evidence.metrics = extras.metrics;
  const parent = view.parentOf(obj);
  return {
    kind: obj.kind,
    namespace: obj.metadata.namespace ?? "",
    name: obj.metadata.name,
    reason,
    message,
    evidence,
    ...(parent ? { parent } : {}),
  };
}

/** "a, b and c" */
export function listOf(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}
