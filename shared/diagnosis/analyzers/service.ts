// Services: a selector that matches no pod (naming the selector), endpoints whose pods are not
// ready (naming them), and Warning events such as load balancer failures. EndpointSlices are
// read first; Endpoints are the fallback for clusters or snapshots without slices. Services
// without a selector and ExternalName Services manage their endpoints themselves.
import type { ClusterView } from "../cluster-view.js";
import type { Analyzer } from "../analyzer.js";
import { describeEvent, listOf, makeFinding } from "../analyzer.js";
import type { Finding } from "../finding.js";
import type { KubeObject } from "../objects.js";
import { describeSelector, specOf } from "../objects.js";

interface ServiceSpec {
  type?: string;
  selector?: Record<string, string>;
}

interface EndpointAddress {
  ready: boolean;
  pod?: string;
  ip?: string;
}

interface EndpointSlice extends KubeObject {
  endpoints?: {
    addresses?: string[];
    conditions?: { ready?: boolean };
    targetRef?: { kind?: string; name?: string };
  }[];
}
interface Endpoints extends KubeObject {
  subsets?: {
    addresses?: { ip?: string; targetRef?: { name?: string } }[];
    notReadyAddresses?: { ip?: string; targetRef?: { name?: string } }[];
  }[];
}

/** The Service's endpoint addresses, or undefined when neither slices nor Endpoints exist. */
export function serviceEndpoints(view: ClusterView, svc: KubeObject): EndpointAddress[] | undefined {
  const ns = svc.metadata.namespace ?? "";
  const slices = view
    .list<EndpointSlice>("EndpointSlice", ns)
    .filter((s) => s.metadata.labels?.["kubernetes.io/service-name"] === svc.metadata.name);
  if (slices.length > 0)
    return slices.flatMap((s) =>
      (s.endpoints ?? []).map((e) => ({
        ready: e.conditions?.ready !== false,
        ...(e.targetRef?.name ? { pod: e.targetRef.name } : {}),
        ...(e.addresses?.[0] ? { ip: e.addresses[0] } : {}),
      })),
    );
  const ep = view.get<Endpoints>("Endpoints", ns, svc.metadata.name);
  if (!ep) return undefined;
  return (ep.subsets ?? []).flatMap((s) => [
    ...(s.addresses ?? []).map((a) => ({
      ready: true,
      ...(a.targetRef?.name ? { pod: a.targetRef.name } : {}),
      ...(a.ip ? { ip: a.ip } : {}),
    })),
    ...(s.notReadyAddresses ?? []).map((a) => ({
      ready: false,
      ...(a.targetRef?.name ? { pod: a.targetRef.name } : {}),
      ...(a.ip ? { ip: a.ip } : {}),
    })),
  ]);
}

export const serviceAnalyzer: Analyzer = {
  kind: "Service",
  analyze(view) {
    return view.list("Service").flatMap((svc) => {
      const spec = specOf<ServiceSpec>(svc);
      const out: Finding[] = [];
      const ns = svc.metadata.namespace ?? "";
      const selector = spec.selector ?? {};
      const hasSelector = Object.keys(selector).length > 0 && spec.type !== "ExternalName";
      const sel = describeSelector(selector);
      if (hasSelector) {
        const endpoints = serviceEndpoints(view, svc) ?? [];
        const ready = endpoints.filter((e) => e.ready);
        const notReady = endpoints.filter((e) => !e.ready);
        if (endpoints.length === 0) {
          const pods = view.podsMatching(ns, { matchLabels: selector });
          out.push(
            makeFinding(
              view,
              svc,
              pods.length === 0 ? "NoPodsMatchSelector" : "NoEndpoints",
              pods.length === 0
                ? `Service has no endpoints: its selector ${sel} matches no pod in namespace ${ns}${nearMiss(view, ns, selector)}`
                : `Service has no endpoints although selector ${sel} matches ${pods.length} pod(s): ${listOf(pods.map((p) => p.metadata.name))}`,
            ),
          );
        } else if (notReady.length > 0) {
          const names = notReady.map((e) => e.pod ?? e.ip ?? "?");
          out.push(
            makeFinding(
              view,
              svc,
              ready.length === 0 ? "NoReadyEndpoints" : "EndpointsNotReady",
              `${notReady.length} of ${endpoints.length} endpoints of selector ${sel} are not ready: ${listOf(names)}`,
            ),
          );
        }
      }
      const warnings = view.warnings(svc);
      if (warnings.length > 0) {
        const last = warnings.at(-1)!;
        out.push(
          makeFinding(
            view,
            svc,
            last.reason ?? "WarningEvent",
            `${spec.type ?? "ClusterIP"} Service (selector ${sel || "none"}): ${describeEvent(last)}`,
          ),
        );
      }
      return out;
    });
  },
};

/** Points at a label value that differs from the pods' (the usual typo or stale rename). */
function nearMiss(view: ClusterView, ns: string, selector: Record<string, string>): string {
  const hints: string[] = [];
  for (const [k, v] of Object.entries(selector)) {
    const values = new Set(
      view
        .list("Pod", ns)
        .map((p) => p.metadata.labels?.[k])
        .filter((x): x is string => !!x),
    );
    if (values.size > 0 && !values.has(v))
      hints.push(`pods have ${k}=${listOf([...values].sort())}, not ${v}`);
  }
  return hints.length > 0 ? ` (${hints.join("; ")})` : "";
}
