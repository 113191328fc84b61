// Pod-only subresources: binding (what a scheduler posts), log (text from a pluggable source) and
// ephemeralcontainers (what `kubectl debug` patches).
import { KubeApiError, apiErrors } from "./errors.js";
import { deepEqual } from "./json.js";
import type { ResourceType } from "./resources.js";
import type { ObjectStore } from "./store.js";
import { isRecord, kubeTime, type KubeObject } from "./types.js";

/** Supplies container log text; the sandbox's workload model plugs in here. */
export interface PodLogSource {
  read(pod: KubeObject, container: string, opts: { previous: boolean }): string;
}

export const emptyLogs: PodLogSource = { read: () => "" };

function containerNames(pod: KubeObject): string[] {
  const spec = isRecord(pod.spec) ? pod.spec : {};
  const names = (list: unknown) =>
    Array.isArray(list) ? list.map((c) => (isRecord(c) ? String(c.name) : "")).filter(Boolean) : [];
  return [...names(spec.containers), ...names(spec.initContainers)];
}

export function bindPod(
  store: ObjectStore,
  podRt: ResourceType,
  namespace: string,
  name: string,
  binding: KubeObject,
): void {
  const pod = store.mustGet(podRt, namespace, name);
  const target = isRecord(binding.target) ? binding.target : {};
  const nodeName = typeof target.name === "string" ? target.name : "";
  if (!nodeName) {
    throw apiErrors.invalid(podRt, name, [
      { reason: "FieldValueRequired", message: "Required value", field: "target.name" },
    ]);
  }
  const spec = isRecord(pod.spec) ? pod.spec : {};
  if (spec.nodeName) {
    throw new KubeApiError(
      409,
      "Conflict",
      `Operation cannot be fulfilled on pods/binding "${name}": pod ${name} is already assigned to node "${String(spec.nodeName)}"`,
      { name, kind: "pods/binding" },
    );
  }
  const status = isRecord(pod.status) ? pod.status : {};
  const conditions = (Array.isArray(status.conditions) ? status.conditions : []).filter(
    (c) => !(isRecord(c) && c.type === "PodScheduled"),
  );
  conditions.push({
    type: "PodScheduled",
    status: "True",
    lastProbeTime: null,
    lastTransitionTime: kubeTime(store.now()),
  });
  store.update(podRt, { ...pod, spec: { ...spec, nodeName }, status: { ...status, conditions } });
}

export interface LogQuery {
  container?: string;
  previous?: boolean;
  tailLines?: number;
  limitBytes?: number;
}

export function podLogs(
  store: ObjectStore,
  podRt: ResourceType,
  namespace: string,
  name: string,
  q: LogQuery,
  source: PodLogSource,
): string {
  const pod = store.mustGet(podRt, namespace, name);
  const names = containerNames(pod);
  let container = q.container;
  if (!container) {
    if (names.length !== 1) {
      throw apiErrors.badRequest(
        `a container name must be specified for pod ${name}, choose one of: [${names.join(" ")}]`,
      );
    }
    container = names[0] as string;
  }
  if (!names.includes(container)) {
    throw apiErrors.badRequest(`container ${container} is not valid for pod ${name}`);
  }
  let text = source.read(pod, container, { previous: q.previous ?? false });
  if (q.tailLines !== undefined) {
    const lines = text.split("\n");
    const trailing = lines[lines.length - 1] === "" ? lines.pop() : undefined;
    text = lines.slice(Math.max(0, lines.length - q.tailLines)).join("\n") + (trailing === "" ? "\n" : "");
    if (q.tailLines === 0) text = "";
  }
  if (q.limitBytes !== undefined) text = Buffer.from(text).subarray(0, q.limitBytes).toString();
  return text;
}

/**
 * The ephemeralcontainers subresource: of the desired pod only spec.ephemeralContainers is taken,
 * and, as in the real API, ephemeral containers can be added but not removed or changed.
 */
export function setEphemeralContainers(
  store: ObjectStore,
  podRt: ResourceType,
  current: KubeObject,
  desired: KubeObject,
  dryRun: boolean,
): KubeObject {
  const name = current.metadata.name ?? "";
  const spec = isRecord(current.spec) ? current.spec : {};
  const list = (v: unknown) => (Array.isArray(v) ? v.filter(isRecord) : []);
  const before = list(spec.ephemeralContainers);
  const after = list(isRecord(desired.spec) ? desired.spec.ephemeralContainers : undefined);
  for (const [i, c] of after.entries()) {
    if (typeof c.name !== "string" || !c.name || typeof c.image !== "string" || !c.image) {
      throw apiErrors.invalid(podRt, name, [
        {
          reason: "FieldValueRequired",
          message: "Required value",
          field: `spec.ephemeralContainers[${i}].${typeof c.name === "string" && c.name ? "image" : "name"}`,
        },
      ]);
    }
  }
  for (const old of before) {
    const same = after.find((c) => c.name === old.name);
    if (!same || !deepEqual(same, old)) {
      throw apiErrors.invalid(podRt, name, [
        {
          reason: "FieldValueForbidden",
          message: "Forbidden: existing ephemeral containers may not be removed or changed",
          field: "spec.ephemeralContainers",
        },
      ]);
    }
  }
  return store.update(
    podRt,
    { ...current, spec: { ...spec, ephemeralContainers: after } },
    { subresource: "main", dryRun },
  );
}
