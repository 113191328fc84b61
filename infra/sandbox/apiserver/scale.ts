// The autoscaling/v1 Scale view of a workload (Deployments, ReplicaSets, StatefulSets, and custom
// resources whose CRD declares a scale subresource with its replica paths).
import { apiErrors } from "./errors.js";
import type { ResourceType } from "./resources.js";
import { readPath, selectorString, type LabelSelectorSpec } from "./selectors.js";
import type { ObjectStore, WriteOptions } from "./store.js";
import { isRecord, type KubeObject } from "./types.js";

function scalePaths(rt: ResourceType) {
  if (!rt.scale) throw apiErrors.pathNotFound();
  return rt.scale;
}

export function toScale(rt: ResourceType, obj: KubeObject): KubeObject {
  const paths = scalePaths(rt);
  const selector = paths.labelSelectorPath ? readPath(obj, paths.labelSelectorPath) : undefined;
  const { name, namespace, uid, resourceVersion, creationTimestamp } = obj.metadata;
  return {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: Number(readPath(obj, paths.specReplicasPath) ?? 0) },
    status: {
      replicas: Number(readPath(obj, paths.statusReplicasPath) ?? 0),
      selector: isRecord(selector) ? selectorString(selector as LabelSelectorSpec) : (selector ?? ""),
    },
  };
}

function writePath(obj: Record<string, unknown>, dotted: string, value: unknown): Record<string, unknown> {
  const [head, ...rest] = dotted.replace(/^\./, "").split(".");
  if (head === undefined) return obj;
  const child = isRecord(obj[head]) ? (obj[head] as Record<string, unknown>) : {};
  return { ...obj, [head]: rest.length ? writePath(child, rest.join("."), value) : value };
}

/** Applies a Scale's spec.replicas to the workload and returns the updated Scale. */
export function applyScale(
  store: ObjectStore,
  rt: ResourceType,
  namespace: string | undefined,
  name: string,
  scale: KubeObject,
  opts: WriteOptions,
): KubeObject {
  const paths = scalePaths(rt);
  const current = store.mustGet(rt, namespace, name);
  const replicas = isRecord(scale.spec) ? scale.spec.replicas : undefined;
  if (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0) {
    throw apiErrors.invalid(rt, name, [
      { reason: "FieldValueInvalid", message: "must be greater than or equal to 0", field: "spec.replicas" },
    ]);
  }
  const rv = scale.metadata?.resourceVersion;
  if (rv && rv !== current.metadata.resourceVersion) throw apiErrors.conflict(rt, name);
  const next = writePath(current, paths.specReplicasPath, replicas) as KubeObject;
  const updated = store.update(rt, next, { ...opts, subresource: "main" });
  return toScale(rt, updated);
}
