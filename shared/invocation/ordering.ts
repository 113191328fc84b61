// Which events of one delivery must run in the order they came, and which may run side by side.
// Alerts about one incident group (a workload, an SLO, a node: the store's grouping key) run in
// order, so a firing alert and its resolution, or two alerts racing to open one incident, keep
// their sequence; alerts of different groups touch different incidents and run concurrently.
// Every other event has no lane of its own and keeps the delivery's order.
import { AlertFiring, AlertResolved, isEvent } from "../events/catalog.js";
import type { ProphetEvent } from "../events/envelope.js";
import { alertGroupKey } from "../store/incidents.js";

/** The event's ordering lane, or undefined for "in delivery order with the other lane-less". */
export function orderingKey(event: ProphetEvent, defaultCluster: string): string | undefined {
  if (!isEvent(event, AlertFiring) && !isEvent(event, AlertResolved)) return undefined;
  // Not validated yet (the invocation does that, and answers a malformed one with its reason):
  // an alert without labels keeps the delivery's order rather than failing here.
  const data = event.data as Partial<typeof event.data> | undefined;
  if (!data || typeof data.labels !== "object" || data.labels === null) return undefined;
  return `alert|${alertGroupKey(event.cluster ?? defaultCluster, { labels: data.labels, fingerprint: String(data.fingerprint) })}`;
}
