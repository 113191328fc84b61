// The envelope of a Kubernetes-style object (apiVersion, kind, metadata, spec): where status goes.
import type { SloSource, SloSpecError } from "../model.js";
import { isRecord } from "./common.js";

export interface ObjectRef {
  object: NonNullable<SloSource["object"]>;
  metadata: Record<string, unknown>;
  spec: unknown;
}

/** The object's identity and spec; a missing name is an error, a missing namespace is `default`. */
export function objectRef(obj: unknown, origin: string): ObjectRef | { error: SloSpecError } {
  if (!isRecord(obj)) return { error: { origin, path: "", reason: "not an object" } };
  const metadata = isRecord(obj.metadata) ? obj.metadata : {};
  const name = metadata.name;
  if (typeof name !== "string" || !name)
    return { error: { origin, path: "metadata.name", reason: "required" } };
  const namespace =
    typeof metadata.namespace === "string" && metadata.namespace ? metadata.namespace : "default";
  return {
    object: { apiVersion: String(obj.apiVersion), kind: String(obj.kind), namespace, name },
    metadata,
    spec: obj.spec ?? {},
  };
}
