// The rules as a prometheus-operator PrometheusRule, for real clusters running kube-prometheus.
// `npx tsx infra/sandbox/alerts/prometheus-rule.ts` rewrites manifests/prometheus/prophet-sandbox-rules.yaml;
// test/sandbox/sim-alerts.test.ts checks the file matches and that promtool accepts the rules.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { ruleGroups, type RuleGroup } from "./rules.js";

export const PROMETHEUS_RULE_PATH = fileURLToPath(
  new URL("../../../manifests/prometheus/prophet-sandbox-rules.yaml", import.meta.url),
);

const HEADER =
  "# Generated from infra/sandbox/alerts/rules.ts by `npx tsx infra/sandbox/alerts/prometheus-rule.ts`; do not edit.\n";

function groupsDoc(groups: RuleGroup[]) {
  return groups.map((g) => ({
    name: g.name,
    ...(g.interval ? { interval: g.interval } : {}),
    rules: g.rules.map((r) => ({
      alert: r.alert,
      expr: r.expr,
      for: r.clusterFor ?? r.for,
      labels: r.labels,
      annotations: r.annotations,
    })),
  }));
}

/** The PrometheusRule manifest (prometheus-operator CRD). */
export function prometheusRuleYaml(groups: RuleGroup[] = ruleGroups): string {
  const doc = {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: {
      name: "prophet-sandbox-rules",
      namespace: "monitoring",
      labels: { "app.kubernetes.io/part-of": "prophet", prometheus: "k8s", role: "alert-rules" },
    },
    spec: { groups: groupsDoc(groups) },
  };
  return HEADER + stringify(doc, { lineWidth: 0 });
}

/** A plain Prometheus rule file (what `promtool check rules` reads): the PrometheusRule's spec. */
export function ruleFileYaml(groups: RuleGroup[] = ruleGroups): string {
  return stringify({ groups: groupsDoc(groups) }, { lineWidth: 0 });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(PROMETHEUS_RULE_PATH, prometheusRuleYaml());
  process.stdout.write(`wrote ${PROMETHEUS_RULE_PATH}\n`);
}
