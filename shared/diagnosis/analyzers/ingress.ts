// Ingresses: no ingress class (and no default class), a class that does not exist, a backend
// Service that does not exist, a TLS Secret that does not exist. GKE's and other built-in
// controllers are selected by the legacy annotation without an IngressClass object.
import type { Analyzer } from "../analyzer.js";
import { makeFinding } from "../analyzer.js";
import type { Finding } from "../finding.js";
import { specOf } from "../objects.js";

interface Backend {
  service?: { name: string; port?: { number?: number; name?: string } };
  serviceName?: string;
}
interface IngressSpec {
  ingressClassName?: string;
  defaultBackend?: Backend;
  rules?: { host?: string; http?: { paths?: { path?: string; backend?: Backend }[] } }[];
  tls?: { hosts?: string[]; secretName?: string }[];
}

const legacyClassAnnotation = "kubernetes.io/ingress.class";
const defaultClassAnnotation = "ingressclass.kubernetes.io/is-default-class";
/** Classes served by a cloud's built-in controller, which creates no IngressClass object (GKE). */
const builtInClasses = new Set(["gce", "gce-internal", "gce-regional-external", "gce-regional-internal"]);

export const ingressAnalyzer: Analyzer = {
  kind: "Ingress",
  analyze(view) {
    const hasDefaultClass = view
      .list("IngressClass")
      .some((c) => c.metadata.annotations?.[defaultClassAnnotation] === "true");
    return view.list("Ingress").flatMap((ing) => {
      const ns = ing.metadata.namespace ?? "";
      const spec = specOf<IngressSpec>(ing);
      const out: Finding[] = [];
      const legacy = ing.metadata.annotations?.[legacyClassAnnotation];
      const className = spec.ingressClassName;
      if (!className && !legacy && !hasDefaultClass)
        out.push(
          makeFinding(
            view,
            ing,
            "IngressClassNotSet",
            "no ingress class: spec.ingressClassName is unset, there is no kubernetes.io/ingress.class annotation and no default IngressClass, so no controller serves it",
          ),
        );
      else if (className && !builtInClasses.has(className) && !view.has("IngressClass", undefined, className))
        out.push(
          makeFinding(
            view,
            ing,
            "IngressClassNotFound",
            `ingress class ${className} does not exist (known classes: ${
              view
                .list("IngressClass")
                .map((c) => c.metadata.name)
                .join(", ") || "none"
            }), so no controller serves it`,
          ),
        );
      const backends: { where: string; b: Backend }[] = [];
      if (spec.defaultBackend) backends.push({ where: "default backend", b: spec.defaultBackend });
      for (const r of spec.rules ?? [])
        for (const p of r.http?.paths ?? [])
          if (p.backend) backends.push({ where: `${r.host ?? "*"}${p.path ?? "/"}`, b: p.backend });
      const reported = new Set<string>();
      for (const { where, b } of backends) {
        const svc = b.service?.name ?? b.serviceName;
        if (!svc || reported.has(svc) || view.has("Service", ns, svc)) continue;
        reported.add(svc);
        out.push(
          makeFinding(
            view,
            ing,
            "BackendServiceNotFound",
            `backend Service ${svc} (for ${where}) does not exist in namespace ${ns}`,
          ),
        );
      }
      for (const t of spec.tls ?? []) {
        if (!t.secretName || view.has("Secret", ns, t.secretName)) continue;
        out.push(
          makeFinding(
            view,
            ing,
            "TLSSecretNotFound",
            `TLS Secret ${t.secretName}${t.hosts?.length ? ` (for ${t.hosts.join(", ")})` : ""} does not exist in namespace ${ns}`,
          ),
        );
      }
      return out;
    });
  },
};
