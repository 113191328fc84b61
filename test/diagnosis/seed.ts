// Loads a scenario's snapshot into the API server emulator through its store, owners before
// dependents, rewriting ownerReference uids to the ones the emulator assigns.
import type { ApiServer, KubeObject as ApiObject } from "../../infra/sandbox/apiserver/index.js";
import type { KubeObject } from "../../shared/diagnosis/objects.js";

const order = [
  "Node",
  "StorageClass",
  "IngressClass",
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "CronJob",
  "Job",
  "ReplicaSet",
  "Pod",
];
const rank = (kind: string) => {
  const i = order.indexOf(kind);
  return i < 0 ? order.length : i;
};

export function seedSnapshot(api: ApiServer, snapshot: unknown): number {
  const items = (snapshot as { items: KubeObject[] }).items;
  const nsRt = api.store.resource("namespaces");
  const namespaces = new Set(items.map((o) => o.metadata.namespace).filter((n): n is string => !!n));
  for (const name of namespaces)
    if (!api.store.get(nsRt, undefined, name))
      api.store.create(nsRt, { apiVersion: "v1", kind: "Namespace", metadata: { name } });
  const uids = new Map<string, string>();
  const sorted = [...items].sort((a, b) => rank(a.kind) - rank(b.kind));
  for (const obj of sorted) {
    const copy = structuredClone(obj) as KubeObject;
    const oldUid = copy.metadata.uid;
    delete copy.metadata.uid;
    delete (copy.metadata as { resourceVersion?: string }).resourceVersion;
    copy.metadata.ownerReferences = copy.metadata.ownerReferences?.map((r) => ({
      ...r,
      uid: (r.uid && uids.get(r.uid)) ?? r.uid ?? "",
    }));
    if (!copy.metadata.ownerReferences) delete copy.metadata.ownerReferences;
    const rt = api.store.resource({ apiVersion: copy.apiVersion ?? "v1", kind: copy.kind });
    const created = api.store.create(rt, copy as unknown as ApiObject);
    if (oldUid && created.metadata.uid) uids.set(oldUid, created.metadata.uid);
  }
  return items.length;
}
