// events.k8s.io/v1 Events are stored as core/v1 Events, as the real API server does, so an event
// written through either API is listed by both (`kubectl describe` reads core/v1).
import type { VersionConverter } from "./resources.js";
import type { KubeObject } from "./types.js";

/** [core/v1 field, events.k8s.io/v1 field] */
const renamed: [string, string][] = [
  ["involvedObject", "regarding"],
  ["message", "note"],
  ["source", "deprecatedSource"],
  ["firstTimestamp", "deprecatedFirstTimestamp"],
  ["lastTimestamp", "deprecatedLastTimestamp"],
  ["count", "deprecatedCount"],
  ["reportingComponent", "reportingController"],
];

function rename(obj: KubeObject, apiVersion: string, from: 0 | 1): KubeObject {
  const out: KubeObject = { ...obj, apiVersion };
  for (const pair of renamed) {
    const src = pair[from];
    const dst = pair[1 - from] as string;
    if (src in out) {
      out[dst] = out[src];
      delete out[src];
    }
  }
  return out;
}

export const eventsV1Converter: VersionConverter = {
  toStorage: (obj) => rename(obj, "v1", 1),
  fromStorage: (obj) => rename(obj, "events.k8s.io/v1", 0),
};
