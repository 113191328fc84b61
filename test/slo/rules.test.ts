// Prometheus rules in Sloth's layout: for Sloth's getting-started spec the same groups, rules,
// labels and expressions as the file Sloth generates; burn factors that scale with the period; the
// exact period ratio on request; and every generated file accepted by `promtool check rules`.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { generateRules, sloRuleGroups, type PrometheusRule, type RuleGroup } from "../../shared/slo/rules.js";
import type { SloSpec } from "../../shared/slo/model.js";
import { loadSloFiles } from "../../shared/slo/spec/index.js";
import { missingBinaries, PROMTOOL_BIN } from "../integration/support-processes.js";

const root = join(import.meta.dirname, "../..");
const samples = new URL("../../../shared/samples", import.meta.url).pathname;
const fixtures = join(root, "test/fixtures/slo");

function load(file: string): SloSpec {
  const r = loadSloFiles([file]);
  expect(r.errors).toEqual([]);
  return r.slos[0]!;
}

const sample = () => load(join(samples, "sloth-getting-started.spec.yml"));
const groupsOf = (yaml: string) => (parse(yaml) as { groups: RuleGroup[] }).groups;

/**
 * Whitespace collapsed, and numbers to 12 significant digits: Sloth prints (100 − 99.9) / 100 as
 * 0.0009999999999999432 and Prophet 1 − 0.999 as 0.0010000000000000009, the same budget.
 */
function normalised(expr: string): string {
  return expr
    .replace(/\s+/g, " ")
    .trim()
    .replace(/\d+\.\d+(e-?\d+)?/g, (n) => String(Number(Number(n).toPrecision(12))));
}

/** Labels Sloth sets to describe its own run (`cli-gen-prom`, `dev`), not the SLO. */
const runLabels = ["sloth_mode", "sloth_version"];

function comparable(groups: RuleGroup[]) {
  return groups.map((g) => ({
    name: g.name,
    rules: g.rules.map((r: PrometheusRule) => ({
      name: r.record ?? r.alert,
      expr: normalised(r.expr),
      labels: Object.fromEntries(Object.entries(r.labels ?? {}).filter(([k]) => !runLabels.includes(k))),
      annotations: r.annotations ?? {},
    })),
  }));
}

describe("rules for Sloth's getting-started spec", () => {
  it("match the rules Sloth generates: groups, rule names, labels, annotations and expressions", () => {
    const ours = groupsOf(generateRules([sample()], { extraLabels: { cmd: "examplesgen.sh" } }));
    const sloths = groupsOf(readFileSync(join(samples, "sloth-getting-started.generated-rules.yml"), "utf8"));
    expect(comparable(ours)).toEqual(comparable(sloths));
    expect(ours.map((g) => g.name)).toEqual([
      "sloth-slo-sli-recordings-myservice-requests-availability",
      "sloth-slo-meta-recordings-myservice-requests-availability",
      "sloth-slo-alerts-myservice-requests-availability",
    ]);
  });

  it("print the target as written (0.999) and the budget as errorBudget() computes it", () => {
    const meta = sloRuleGroups(sample())[1]!.rules;
    expect(meta.find((r) => r.record === "slo:objective:ratio")?.expr).toBe("vector(0.999)");
    expect(meta.find((r) => r.record === "slo:error_budget:ratio")?.expr).toBe("vector(1-0.999)");
    const info = meta.find((r) => r.record === "sloth_slo_info")!;
    expect(info.labels).toMatchObject({ sloth_objective: "99.9", sloth_spec: "prometheus/v1" });
    const page = sloRuleGroups(sample())[2]!.rules[0]!.expr;
    expect(page).toContain(`> (14.4 * ${1 - 0.999})`);
  });

  it("with optimizedPeriod false, record the exact ratio of the queries over the whole period", () => {
    const sli = sloRuleGroups(sample(), { optimizedPeriod: false })[0]!.rules;
    const period = sli.find((r) => r.record === "slo:sli_error:ratio_rate30d")!;
    expect(period.expr).toBe(
      '(sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[30d])))\n/\n' +
        '(sum(rate(http_request_duration_seconds_count{job="myservice"}[30d])))\n',
    );
    expect(period.labels?.sloth_window).toBe("30d");
  });
});

describe("rules for other periods and SLI kinds", () => {
  it("scale the burn factors with a 28-day period: 13.44, 5.6, 2.8, 0.933…", () => {
    const slo = load(join(fixtures, "openslo-ratio.yaml"));
    const [sli, meta, alerts] = sloRuleGroups(slo);
    expect(sli!.rules.map((r) => r.record).at(-1)).toBe("slo:sli_error:ratio_rate28d");
    expect(meta!.rules.find((r) => r.record === "slo:time_period:days")?.expr).toBe("vector(28)");
    const factors = alerts!.rules.flatMap((r) => [...r.expr.matchAll(/> \(([\d.]+) \* ([\d.e-]+)\)/g)]);
    expect([...new Set(factors.map((m) => Number(m[1])))]).toEqual([13.44, 5.6, 2.8, 0.9333333333333333]);
    expect(new Set(factors.map((m) => m[2]))).toEqual(new Set([String(1 - 0.995)]));
  });

  it("record a raw SLI's query itself, and leave out a disabled ticket alert", () => {
    const [sli, , alerts] = sloRuleGroups(load(join(fixtures, "sloth-raw.yml")));
    const oneHour = sli!.rules.find((r) => r.record === "slo:sli_error:ratio_rate1h")!;
    expect(oneHour.expr).toBe(
      'sum(rate(apiserver_request_total{code=~"5.."}[1h]))\n/\nsum(rate(apiserver_request_total[1h]))\n',
    );
    expect(alerts!.rules.map((r) => r.labels?.sloth_severity)).toEqual(["page"]);
  });

  it("record a threshold SLI as the share of bad points, by a subquery stepped every 60 s", () => {
    const [sli] = sloRuleGroups(load(join(fixtures, "openslo-threshold.yaml")), { optimizedPeriod: false });
    expect(sli!.rules.find((r) => r.record === "slo:sli_error:ratio_rate14d")?.expr).toBe(
      "1 - avg_over_time(((histogram_quantile(0.99, sum by (le) " +
        '(rate(http_request_duration_seconds_bucket{service="search"}[5m])))) < bool 0.5)[14d:1m])',
    );
  });

  it("record Timeslices as the share of bad slices, a slice being bad above 1 − sliceTarget", () => {
    const [sli] = sloRuleGroups(load(join(fixtures, "openslo-timeslices.yaml")), { optimizedPeriod: false });
    expect(sli!.rules[0]).toMatchObject({
      record: "slo:sli_slice_error:ratio_rate1m",
      labels: { sloth_window: "1m" },
    });
    expect(sli!.rules.find((r) => r.record === "slo:sli_error:ratio_rate1h")?.expr).toBe(
      'avg_over_time((slo:sli_slice_error:ratio_rate1m{sloth_id="payments-payments-minutes", ' +
        'sloth_service="payments", sloth_slo="payments-minutes"} > bool 0.01)[1h:1m])',
    );
  });

  it("give no alert group when alerting is disabled, and an empty file for no SLOs", () => {
    const slo = { ...sample(), alerting: { ...sample().alerting, disabled: true } };
    expect(sloRuleGroups(slo).map((g) => g.name)).toEqual([
      "sloth-slo-sli-recordings-myservice-requests-availability",
      "sloth-slo-meta-recordings-myservice-requests-availability",
    ]);
    expect(groupsOf(generateRules([]))).toEqual([]);
  });
});

// Outside CI a missing promtool skips these; under CI=true missingBinaries throws.
const missing = missingBinaries(PROMTOOL_BIN);

describe.skipIf(missing.length > 0)("promtool check rules", () => {
  const dir = mkdtempSync(join(tmpdir(), "prophet-slo-rules-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const specs: [string, string][] = [
    ["the Sloth sample", join(samples, "sloth-getting-started.spec.yml")],
    ["an OpenSLO ratio spec (28d)", join(fixtures, "openslo-ratio.yaml")],
    ["a raw Sloth spec", join(fixtures, "sloth-raw.yml")],
    ["an OpenSLO threshold spec", join(fixtures, "openslo-threshold.yaml")],
    ["an OpenSLO Timeslices spec", join(fixtures, "openslo-timeslices.yaml")],
    ["a Sloth PrometheusServiceLevel", join(fixtures, "sloth-crd.yaml")],
    ["the SLOViolation example", join(root, "manifests/examples/sloviolation-cart-availability.yaml")],
  ];

  it.each(
    specs.flatMap(([what, file]) =>
      [true, false].map((optimizedPeriod) => [what, optimizedPeriod, file] as const),
    ),
  )("accepts the rules of %s (optimizedPeriod %s)", (_what, optimizedPeriod, file) => {
    const out = join(dir, `rules-${Math.random().toString(36).slice(2)}.yml`);
    writeFileSync(out, generateRules([load(file)], { optimizedPeriod }));
    const stdout = execFileSync(PROMTOOL_BIN, ["check", "rules", out], { encoding: "utf8" });
    expect(stdout).toMatch(/SUCCESS: \d+ rules found/);
  });
});
