// Validating/Mutating webhooks: a webhook whose Service does not exist or has no ready endpoint
// while its failure policy is Fail blocks every matching API request.
import type { ClusterView } from "../cluster-view.js";
import type { Analyzer } from "../analyzer.js";
import { makeFinding } from "../analyzer.js";
import type { Finding } from "../finding.js";
import type { KubeObject } from "../objects.js";
import { serviceEndpoints } from "./service.js";

interface WebhookConfiguration extends KubeObject {
  webhooks?: {
    name: string;
    failurePolicy?: string;
    clientConfig?: { service?: { namespace: string; name: string } };
  }[];
}

function analyzeWebhooks(view: ClusterView, kind: string): Finding[] {
  return view.list<WebhookConfiguration>(kind).flatMap((cfg) =>
    (cfg.webhooks ?? []).flatMap((w) => {
      const s = w.clientConfig?.service;
      if (!s) return [];
      const policy = w.failurePolicy ?? "Fail";
      const effect = policy === "Fail" ? "matching API requests are rejected" : "the webhook is skipped";
      const svc = view.get("Service", s.namespace, s.name);
      if (!svc)
        return [
          makeFinding(
            view,
            cfg,
            "WebhookServiceNotFound",
            `webhook ${w.name} calls Service ${s.namespace}/${s.name}, which does not exist; ${effect} (failurePolicy ${policy})`,
          ),
        ];
      const eps = serviceEndpoints(view, svc);
      if (eps && !eps.some((e) => e.ready))
        return [
          makeFinding(
            view,
            cfg,
            "WebhookServiceUnavailable",
            `webhook ${w.name} calls Service ${s.namespace}/${s.name}, which has no ready endpoint; ${effect} (failurePolicy ${policy})`,
          ),
        ];
      return [];
    }),
  );
}

export const validatingWebhookAnalyzer: Analyzer = {
  kind: "ValidatingWebhookConfiguration",
  analyze: (view) => analyzeWebhooks(view, "ValidatingWebhookConfiguration"),
};
export const mutatingWebhookAnalyzer: Analyzer = {
  kind: "MutatingWebhookConfiguration",
  analyze: (view) => analyzeWebhooks(view, "MutatingWebhookConfiguration"),
};
