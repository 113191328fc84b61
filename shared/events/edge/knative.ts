// Knative's foreign event types → the catalog's own: PingSource → schedule.tick,
// ApiServerSource (Resource and Reference modes) → cluster.resource.changed.
import { ProphetError } from "../../errors.js";
import { ResourceChanged, ScheduleTick } from "../catalog.js";
import type { ProphetEvent } from "../envelope.js";
import type { ResourceChangedData } from "../schemas/cluster.js";
import type { ScheduleTickData } from "../schemas/schedule.js";

const apiServerType = /^dev\.knative\.apiserver\.(resource|ref)\.(add|update|delete)$/;

/** PingSource's source is `/apis/v1/namespaces/<ns>/pingsources/<name>`; the name is the schedule. */
export function scheduleNameFromPingSource(source: string): string {
  const m = /pingsources\/([^/]+)$/.exec(source);
  return m?.[1] ?? source;
}

function scheduleFromPayload(data: unknown): string | undefined {
  if (typeof data === "object" && data !== null && "schedule" in data) {
    const s = (data as { schedule: unknown }).schedule;
    if (typeof s === "string" && s) return s;
  }
  return undefined;
}

export function translateKnativeEvent(event: ProphetEvent): ProphetEvent {
  if (event.type === "dev.knative.sources.ping") {
    // A PingSource may name the Prophet schedule in its data ({"schedule":"audit-verify"}).
    const data: ScheduleTickData = {
      schedule: scheduleFromPayload(event.data) ?? scheduleNameFromPingSource(event.source),
      scheduledTime: event.time,
      ...(event.data !== undefined ? { payload: event.data } : {}),
    };
    return { ...event, type: ScheduleTick.type, data };
  }
  const m = apiServerType.exec(event.type);
  if (!m) return event;
  const mode = m[1] as "resource" | "ref";
  const change = m[2] as ResourceChangedData["change"];
  const d = (event.data ?? {}) as Record<string, unknown>;
  let ref: ResourceChangedData["ref"];
  if (mode === "ref") {
    ref = d as ResourceChangedData["ref"];
  } else {
    const meta = (d.metadata ?? {}) as Record<string, unknown>;
    ref = {
      apiVersion: String(d.apiVersion ?? ""),
      kind: String(d.kind ?? ""),
      name: String(meta.name ?? ""),
      ...(typeof meta.namespace === "string" ? { namespace: meta.namespace } : {}),
      ...(typeof meta.uid === "string" ? { uid: meta.uid } : {}),
      ...(typeof meta.resourceVersion === "string" ? { resourceVersion: meta.resourceVersion } : {}),
    };
  }
  if (!ref.kind || !ref.name) {
    throw new ProphetError("invalid_data", `${event.type} carries no object kind and name`, [
      { path: "data", message: "expected a Kubernetes object or object reference" },
    ]);
  }
  const data: ResourceChangedData = { change, ref, object: mode === "resource" ? d : null };
  return {
    ...event,
    type: ResourceChanged.type,
    subject: event.subject ?? [ref.namespace, ref.kind, ref.name].filter(Boolean).join("/"),
    data,
  };
}
