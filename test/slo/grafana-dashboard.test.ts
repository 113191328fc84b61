// The SLO burn dashboard (manifests/grafana/slo-burn.json) reads only what Sloth's recording rules
// and Prophet's SLO function export: every query, template variable and annotation names only
// allowed metrics, parses as PromQL once Grafana's variables are substituted, and uses the
// `${datasource}` variable — so the dashboard works against any Prometheus holding Sloth's rules.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TimeSeriesStore } from "../../infra/sandbox/metrics/index.js";
import { parsePromQL, query } from "../../infra/sandbox/metrics/promql/index.js";

type Obj = Record<string, unknown>;
const rec = (v: unknown): Obj => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(rec) : []);

const root = new URL("../../", import.meta.url).pathname;
const dashboard = rec(JSON.parse(readFileSync(join(root, "manifests/grafana/slo-burn.json"), "utf8")));

const SLOTH_WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"];
const ALLOWED = new Set([
  ...SLOTH_WINDOWS.map((w) => `slo:sli_error:ratio_rate${w}`),
  "slo:period_error_budget_remaining:ratio",
  "slo:current_burn_rate:ratio",
  "slo:period_burn_rate:ratio",
  "slo:objective:ratio",
  "slo:error_budget:ratio",
  "prophet_slo_time_to_exhaustion_seconds",
  "prophet_slo_error_budget_remaining_ratio",
  "ALERTS",
]);

/** Panels, rows' nested panels included. */
function allPanels(panels: unknown): Obj[] {
  return arr(panels).flatMap((p) => [p, ...allPanels(p.panels)]);
}

/** What Grafana puts in place of $var, ${var}, ${var:fmt} and [[var]] (built-ins included). */
function substitute(expr: string): string {
  const values: Record<string, string> = {
    service: "checkout",
    slo: "requests-availability",
    __rate_interval: "2m",
    __interval: "1m",
    __range: "6h",
  };
  return expr.replace(
    /\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]/g,
    (whole, a?: string, b?: string, c?: string) => {
      const name = a ?? b ?? c ?? "";
      const v = values[name];
      if (v === undefined) throw new Error(`unknown template variable ${whole} in ${expr}`);
      return v;
    },
  );
}

/** Metric names of every vector selector in a parsed expression. */
function metricNames(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const n of node) metricNames(n, out);
  else if (typeof node === "object" && node !== null) {
    const o = node as Obj;
    if (o.type === "vectorSelector") {
      const byMatcher = arr(o.matchers).find((m) => m.name === "__name__" && m.type === "=")?.value;
      const name = typeof o.name === "string" ? o.name : byMatcher;
      if (typeof name !== "string") throw new Error("a selector without a metric name");
      out.add(name);
    }
    for (const v of Object.values(o)) metricNames(v, out);
  }
  return out;
}

interface Query {
  where: string;
  expr: string;
}

function queries(): Query[] {
  const out: Query[] = [];
  for (const p of allPanels(dashboard.panels))
    for (const t of arr(p.targets))
      out.push({ where: `panel "${String(p.title)}" ${String(t.refId)}`, expr: String(t.expr) });
  for (const a of arr(rec(dashboard.annotations).list))
    if (typeof a.expr === "string") out.push({ where: `annotation "${String(a.name)}"`, expr: a.expr });
  return out;
}

/** label_values(selector, label) → the selector, which must itself be valid PromQL. */
function labelValuesSelector(query: string): { selector: string; label: string } {
  const m = /^label_values\((.+),\s*(\w+)\)$/.exec(query.trim());
  if (!m?.[1] || !m[2]) throw new Error(`not a label_values() query: ${query}`);
  return { selector: m[1], label: m[2] };
}

const variable = (name: string) => arr(rec(dashboard.templating).list).find((v) => v.name === name) ?? {};
const isDatasourceVar = (ds: unknown) => rec(ds).type === "prometheus" && rec(ds).uid === "${datasource}";

describe("SLO burn dashboard", () => {
  it("is a current Grafana dashboard on a ${datasource} variable of Prometheus type", () => {
    expect(Number(dashboard.schemaVersion)).toBeGreaterThanOrEqual(36);
    expect(dashboard.uid).toBe("prophet-slo-burn");
    expect(variable("datasource")).toMatchObject({ type: "datasource", query: "prometheus" });
    const panels = allPanels(dashboard.panels);
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels.filter((x) => x.type !== "row")) {
      expect(isDatasourceVar(p.datasource), `panel "${String(p.title)}"`).toBe(true);
      expect(arr(p.targets).length, `panel "${String(p.title)}" has queries`).toBeGreaterThan(0);
      for (const t of arr(p.targets)) expect(isDatasourceVar(t.datasource)).toBe(true);
    }
  });

  it("has service and slo variables from Sloth's 5m SLI series", () => {
    const service = variable("service");
    const slo = variable("slo");
    expect(service.type).toBe("query");
    expect(slo.type).toBe("query");
    expect(isDatasourceVar(service.datasource) && isDatasourceVar(slo.datasource)).toBe(true);
    const s = labelValuesSelector(String(service.query));
    expect(s).toEqual({ selector: "slo:sli_error:ratio_rate5m", label: "sloth_service" });
    const l = labelValuesSelector(String(slo.query));
    expect(l.label).toBe("sloth_slo");
    expect([...metricNames(parsePromQL(substitute(l.selector)))]).toEqual(["slo:sli_error:ratio_rate5m"]);
  });

  it("every query parses as PromQL after substitution and reads only allowed metrics", () => {
    const used = new Set<string>();
    const all = queries();
    expect(all.length).toBeGreaterThan(10);
    for (const q of all) {
      let names: Set<string>;
      try {
        names = metricNames(parsePromQL(substitute(q.expr)));
      } catch (err) {
        throw new Error(`${q.where}: ${q.expr}: ${(err as Error).message}`);
      }
      expect(names.size, q.where).toBeGreaterThan(0);
      for (const n of names) {
        expect(ALLOWED.has(n), `${q.where} reads ${n}`).toBe(true);
        used.add(n);
      }
      // Scoped to the selected SLOs: each selector of an SLO series filters on the variables.
      expect(q.expr, q.where).toContain('sloth_service="$service"');
    }
    // Nothing on the allow-list goes unshown (the burn-rate windows, Prophet's series, the alerts).
    expect([...ALLOWED].filter((n) => !used.has(n))).toEqual([]);
  });

  it("draws the burn rate of each Sloth window against the 14.4/6/3/1 tiers", () => {
    const burn = allPanels(dashboard.panels).find((p) => p.title === "Burn rate per window");
    const exprs = arr(burn?.targets).map((t) => String(t.expr));
    for (const w of ["5m", "30m", "1h", "6h", "1d", "3d"])
      expect(
        exprs.some(
          (e) => e.startsWith(`slo:sli_error:ratio_rate${w}{`) && e.includes("slo:error_budget:ratio"),
        ),
      ).toBe(true);
    const steps = arr(rec(rec(rec(burn?.fieldConfig).defaults).thresholds).steps).map((s) => s.value);
    expect(steps).toEqual(expect.arrayContaining([1, 3, 6, 14.4]));
  });

  it("every query returns data from Sloth-shaped series (the label matching holds)", () => {
    // What Sloth's rules and Prophet's function record for one SLO burning at 16×, plus a page alert.
    const store = new TimeSeriesStore();
    const slo = {
      sloth_id: "checkout-requests-availability",
      sloth_service: "checkout",
      sloth_slo: "requests-availability",
    };
    const at = Date.parse("2026-01-05T12:00:00Z");
    const series: [Record<string, string>, number][] = [
      ...SLOTH_WINDOWS.map((w): [Record<string, string>, number] => [
        { __name__: `slo:sli_error:ratio_rate${w}`, ...slo, sloth_window: w },
        0.016,
      ]),
      [{ __name__: "slo:objective:ratio", ...slo }, 0.999],
      [{ __name__: "slo:error_budget:ratio", ...slo }, 0.001],
      [{ __name__: "slo:current_burn_rate:ratio", ...slo }, 16],
      [{ __name__: "slo:period_burn_rate:ratio", ...slo }, 0.4],
      [{ __name__: "slo:period_error_budget_remaining:ratio", ...slo }, 0.6],
      [{ __name__: "prophet_slo_error_budget_remaining_ratio", ...slo }, 0.6],
      [{ __name__: "prophet_slo_time_to_exhaustion_seconds", ...slo }, 97_200],
      [
        {
          __name__: "ALERTS",
          alertname: "CheckoutAvailabilityBurn",
          alertstate: "firing",
          ...slo,
          sloth_severity: "page",
        },
        1,
      ],
    ];
    for (const [labels, v] of series)
      for (let t = at - 600_000; t <= at; t += 30_000) store.append(labels, t, v);
    for (const q of queries()) {
      const r = query(store, substitute(q.expr), at);
      expect(r.resultType, q.where).toBe("vector");
      expect(Array.isArray(r.result) && r.result.length > 0, `${q.where}: ${q.expr} returned nothing`).toBe(
        true,
      );
    }
    const burn = queries().find(
      (q) => q.expr.startsWith("slo:sli_error:ratio_rate5m{") && q.expr.includes(" / "),
    );
    const r = query(store, substitute(burn?.expr ?? ""), at);
    expect(r.resultType === "vector" && r.result[0]?.value).toBeCloseTo(16, 6);
  });
});
