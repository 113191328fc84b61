// Every user-defined name a scenario snapshot holds — what must never reach an LLM unmasked.
interface Obj {
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  involvedObject?: { name?: string; namespace?: string };
}

const nameKeys = new Set([
  "nodeName",
  "image",
  "podIP",
  "hostIP",
  "ip",
  "address",
  "host",
  "secretName",
  "claimName",
  "serviceName",
  "ingressClassName",
  "storageClassName",
  "volumeName",
]);

function walk(v: unknown, key: string, out: Set<string>, inNamed: boolean): void {
  if (typeof v === "string") {
    if (nameKeys.has(key) || (key === "name" && inNamed)) out.add(v);
    return;
  }
  if (Array.isArray(v)) {
    for (const x of v) walk(x, key, out, inNamed || /containers|hosts|tls|ownerReferences/i.test(key));
    return;
  }
  if (v && typeof v === "object")
    for (const [k, x] of Object.entries(v)) {
      if (k === "hosts" && Array.isArray(x)) for (const h of x) if (typeof h === "string") out.add(h);
      // secretRef/configMapRef/secretKeyRef/configMap/secret/service objects name other objects.
      const named = /(Ref|^configMap$|^secret$|^service$|^persistentVolumeClaim$)/.test(k);
      walk(x, k, out, named || (inNamed && k !== "ports" && k !== "env" && k !== "volumeMounts"));
    }
}

export function namesInSnapshot(snapshot: unknown): string[] {
  const out = new Set<string>();
  for (const o of (snapshot as { items: Obj[] }).items) {
    const m = o.metadata ?? {};
    for (const v of [m.name, m.namespace, m.uid, o.involvedObject?.name, o.involvedObject?.namespace])
      if (v) out.add(v);
    for (const v of Object.values(m.labels ?? {})) out.add(v);
    walk(o.spec, "spec", out, false);
    walk(o.status, "status", out, false);
  }
  // Booleans and one- or two-letter values are not names anyone could recognise.
  return [...out].filter((n) => n.length >= 3 && !["true", "false"].includes(n));
}
