// SLO specs in every supported format (Sloth prometheus/v1 files, Sloth PrometheusServiceLevel,
// OpenSLO v1, Prophet's SLOViolation) become the same SloSpec; every invalid spec is reported with
// the field path and a reason a person can act on, and nothing throws.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { DAY, type SloSpec } from "../../shared/slo/model.js";
import {
  loadSloFiles,
  parseSloDocuments,
  parseSloObject,
  sloViolationSpecSchema,
} from "../../shared/slo/spec/index.js";
import { validate, type Schema } from "../remediation/openapi-subset.js";

const root = join(import.meta.dirname, "../..");
const samples = new URL("../../../shared/samples", import.meta.url).pathname;
const fixtures = join(root, "test/fixtures/slo");
const example = join(root, "manifests/examples/sloviolation-cart-availability.yaml");

function only(r: { slos: SloSpec[]; errors: unknown[] }): SloSpec {
  expect(r.errors).toEqual([]);
  expect(r.slos).toHaveLength(1);
  return r.slos[0]!;
}

const tiers = { disabled: false, labels: {}, annotations: {} };

describe("Sloth prometheus/v1 files", () => {
  it("reads the getting-started sample as Sloth does: id service-name, 30 days, 99.9 → 0.999", () => {
    const file = join(samples, "sloth-getting-started.spec.yml");
    const slo = only(loadSloFiles([file]));
    expect(slo).toEqual({
      id: "myservice-requests-availability",
      service: "myservice",
      name: "requests-availability",
      description: "Common SLO based on availability for HTTP request responses.",
      target: 0.999,
      periodSeconds: 30 * DAY,
      sli: {
        type: "events",
        errorQuery:
          'sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[{{.window}}]))',
        totalQuery: 'sum(rate(http_request_duration_seconds_count{job="myservice"}[{{.window}}]))',
      },
      budgeting: { method: "Occurrences" },
      labels: { owner: "myteam", repo: "myorg/myservice", tier: "2" },
      alerting: {
        name: "MyServiceHighErrorRate",
        disabled: false,
        labels: { category: "availability" },
        annotations: { summary: "High error rate on 'myservice' requests responses" },
        page: { disabled: false, labels: { severity: "pageteam", routing_key: "myteam" }, annotations: {} },
        ticket: {
          disabled: false,
          labels: { severity: "slack", slack_channel: "#alerts-myteam" },
          annotations: {},
        },
      },
      minEvents: 10,
      source: { format: "sloth", origin: file },
    });
  });

  it("reads a raw error-ratio SLI, merges per-SLO labels over the service's, and honours disable", () => {
    const slo = only(loadSloFiles([join(fixtures, "sloth-raw.yml")]));
    expect(slo.id).toBe("kube-apiserver-requests-availability");
    expect(slo.target).toBe(0.995);
    expect(slo.sli.type).toBe("raw");
    expect(slo.labels).toEqual({ owner: "platform", category: "availability" });
    expect(slo.alerting.page).toEqual({ disabled: false, labels: { severity: "critical" }, annotations: {} });
    expect(slo.alerting.ticket.disabled).toBe(true);
  });

  it("gives an SLO without alerting a default alert name and both tiers", () => {
    const slo = only(
      parseSloDocuments(
        stringify({
          version: "prometheus/v1",
          service: "cart",
          slos: [
            { name: "availability", objective: 99, sli: { raw: { error_ratio_query: "x[{{.window}}]" } } },
          ],
        }),
        "inline.yml",
      ),
    );
    expect(slo.alerting).toEqual({
      name: "CartAvailabilityErrorBudgetBurn",
      disabled: false,
      labels: {},
      annotations: {},
      page: tiers,
      ticket: tiers,
    });
    expect(slo.description).toBe("");
    expect(slo.target).toBe(0.99);
  });
});

describe("Sloth PrometheusServiceLevel", () => {
  it("reads the camelCase spec into the same SloSpec and records the object", () => {
    const file = join(fixtures, "sloth-crd.yaml");
    const slo = only(loadSloFiles([file]));
    expect(slo).toMatchObject({
      id: "cart-requests-availability",
      target: 0.999,
      labels: { team: "shop" },
      sli: { type: "events" },
      alerting: {
        name: "CartHighErrorRate",
        annotations: { runbook: "https://runbooks.example.com/cart" },
        page: { labels: { severity: "critical" } },
        ticket: { labels: { severity: "warning" } },
      },
      source: {
        format: "PrometheusServiceLevel",
        origin: file,
        object: {
          apiVersion: "sloth.slok.dev/v1",
          kind: "PrometheusServiceLevel",
          namespace: "shop",
          name: "cart-slos",
        },
      },
    });
  });
});

describe("OpenSLO v1", () => {
  it("refuses the sample's `Any` metric source with the path and reason", () => {
    const file = join(samples, "openslo-v1-occurrences-slo.yaml");
    expect(loadSloFiles([file])).toEqual({
      slos: [],
      errors: [
        {
          origin: file,
          path: "spec.indicator.spec.thresholdMetric.metricSource.type",
          reason: "Any: only Prometheus metric sources are supported",
        },
      ],
    });
  });

  it("resolves indicatorRef to an SLI document and turns good/total into error = total − good", () => {
    const file = join(fixtures, "openslo-ratio.yaml");
    const slo = only(loadSloFiles([file]));
    const good =
      'sum(rate(http_requests_total{namespace="shop",service="checkout",code!~"5.."}[{{.window}}]))';
    const total = 'sum(rate(http_requests_total{namespace="shop",service="checkout"}[{{.window}}]))';
    expect(slo).toMatchObject({
      id: "checkout-checkout-availability",
      service: "checkout",
      name: "checkout-availability",
      description: "99.5 % of checkout requests succeed over four weeks.",
      target: 0.995,
      periodSeconds: 28 * DAY,
      sli: { type: "events", errorQuery: `(${total}) - (${good})`, totalQuery: total },
      budgeting: { method: "Occurrences" },
      alerting: { name: "CheckoutCheckoutAvailabilityErrorBudgetBurn", disabled: false },
      source: { format: "openslo", origin: `${file}#2` },
    });
  });

  it("reads a thresholdMetric with the objective's op and value, sampled every 60 s, over 2w", () => {
    const slo = only(loadSloFiles([join(fixtures, "openslo-threshold.yaml")]));
    expect(slo.periodSeconds).toBe(14 * DAY);
    expect(slo.target).toBe(0.99);
    expect(slo.sli).toEqual({
      type: "threshold",
      query:
        'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="search"}[5m])))',
      op: "lt",
      value: 0.5,
      stepSeconds: 60,
    });
  });

  it("reads Timeslices budgeting, targetPercent and a bad/total ratio", () => {
    const slo = only(loadSloFiles([join(fixtures, "openslo-timeslices.yaml")]));
    expect(slo.target).toBe(0.999);
    expect(slo.budgeting).toEqual({ method: "Timeslices", sliceSeconds: 60, sliceTarget: 0.99 });
    expect(slo.sli).toMatchObject({
      type: "events",
      errorQuery: 'sum(rate(http_requests_total{service="payments",code=~"5.."}[{{.window}}]))',
    });
  });

  it("turns rawType success into an error ratio of 1 − (query)", () => {
    const slo = only(
      parseSloObject(
        opensloSlo({
          indicator: {
            spec: {
              ratioMetric: {
                rawType: "success",
                raw: { metricSource: { type: "Prometheus", spec: { query: "avg(up[{{.window}}])" } } },
              },
            },
          },
        }),
        "api",
      ),
    );
    expect(slo.sli).toEqual({ type: "raw", errorRatioQuery: "1 - (avg(up[{{.window}}]))" });
  });
});

describe("SLOViolation", () => {
  it("reads the example with its enforcement, id service-sloName and origin namespace/name", () => {
    const slo = only(loadSloFiles([example]));
    expect(slo).toEqual({
      id: "cart-availability",
      service: "cart",
      name: "availability",
      description: "Cart requests answered without a server error.",
      target: 0.999,
      periodSeconds: 30 * DAY,
      sli: {
        type: "events",
        errorQuery:
          'sum(rate(http_requests_total{namespace="shop",service="cart",code=~"5.."}[{{.window}}]))',
        totalQuery: 'sum(rate(http_requests_total{namespace="shop",service="cart"}[{{.window}}]))',
      },
      budgeting: { method: "Occurrences" },
      labels: {},
      alerting: {
        name: "CartAvailabilityErrorBudgetBurn",
        disabled: false,
        labels: { team: "shop" },
        annotations: {},
        page: { disabled: false, labels: { severity: "critical" }, annotations: {} },
        ticket: { disabled: false, labels: { severity: "warning" }, annotations: {} },
      },
      minEvents: 10,
      enforcement: {
        targetRef: { kind: "Deployment", namespace: "shop", name: "cart" },
        errorBudgetThreshold: 20,
        actions: ["alert", "scale", "rollback", "freeze"],
        hpaRef: { namespace: "shop", name: "cart", step: 1, maxReplicas: 10 },
        freeze: { namespaces: ["shop"], argoApplications: [] },
        enableChaos: false,
      },
      source: {
        format: "SLOViolation",
        origin: "shop/cart-availability",
        object: {
          apiVersion: "aiops.prophet.io/v1alpha1",
          kind: "SLOViolation",
          namespace: "shop",
          name: "cart-availability",
        },
      },
    });
  });

  it("defaults service to the namespace, sloName to the name, and the CRD's defaults", () => {
    const slo = only(
      parseSloObject(violation({ sloTarget: 99.5, sli: { errorRatioQuery: "r[{{.window}}]" } }), "x"),
    );
    expect(slo).toMatchObject({
      id: "shop-cart-slo",
      service: "shop",
      name: "cart-slo",
      target: 0.995,
      periodSeconds: 30 * DAY,
      minEvents: 10,
      enforcement: {
        errorBudgetThreshold: 20,
        actions: ["alert"],
        freeze: { namespaces: ["shop"], argoApplications: [] },
        enableChaos: false,
      },
    });
    expect(slo.enforcement?.targetRef).toBeUndefined();
    expect(slo.enforcement?.hpaRef).toBeUndefined();
  });

  it("has CRD defaults equal to the zod schema's, and the example conforms to the CRD", () => {
    const [crdDoc] = parseAllDocuments(readFileSync(join(root, "manifests/crds/sloviolation.yaml"), "utf8"));
    const crd = crdDoc!.toJS() as {
      spec: { versions: { schema: { openAPIV3Schema: Schema } }[] };
    };
    const schema = crd.spec.versions[0]!.schema.openAPIV3Schema;
    const spec = schema.properties!.spec!;
    const d = Object.fromEntries(
      Object.entries(spec.properties!)
        .filter(([, s]) => s.default !== undefined)
        .map(([k, s]) => [k, s.default]),
    );
    const parsed = sloViolationSpecSchema.parse({ sloTarget: 99, sli: {} });
    expect(d).toEqual({
      window: parsed.window,
      minEvents: parsed.minEvents,
      errorBudgetThreshold: parsed.errorBudgetThreshold,
      actions: parsed.actions,
      enableChaos: parsed.enableChaos,
    });
    expect(spec.properties!.alerting!.properties!.disable!.default).toBe(parsed.alerting.disable);
    expect(spec.properties!.hpaRef!.properties!.step!.default).toBe(1);
    const [exampleDoc] = parseAllDocuments(readFileSync(example, "utf8"));
    expect(validate(schema, exampleDoc!.toJS())).toEqual([]);
  });
});

function violation(spec: unknown, name = "cart-slo", namespace = "shop"): object {
  return {
    apiVersion: "aiops.prophet.io/v1alpha1",
    kind: "SLOViolation",
    metadata: { name, namespace },
    spec,
  };
}

const prom = (query: string) => ({ metricSource: { type: "Prometheus", spec: { query } } });

function opensloSlo(spec: Record<string, unknown>, name = "api-availability"): object {
  return {
    apiVersion: "openslo/v1",
    kind: "SLO",
    metadata: { name },
    spec: {
      service: "api",
      indicator: {
        spec: { ratioMetric: { counter: true, bad: prom("e[{{.window}}]"), total: prom("t[{{.window}}]") } },
      },
      timeWindow: [{ duration: "30d", isRolling: true }],
      budgetingMethod: "Occurrences",
      objectives: [{ target: 0.99 }],
      ...spec,
    },
  };
}

function sloth(slo: Record<string, unknown>, top: Record<string, unknown> = {}): object {
  return {
    version: "prometheus/v1",
    service: "cart",
    slos: [
      {
        name: "availability",
        objective: 99.9,
        sli: { raw: { error_ratio_query: "r[{{.window}}]" } },
        ...slo,
      },
    ],
    ...top,
  };
}

const slothCrd = (slo: Record<string, unknown>): object => ({
  apiVersion: "sloth.slok.dev/v1",
  kind: "PrometheusServiceLevel",
  metadata: { name: "cart", namespace: "shop" },
  spec: {
    service: "cart",
    slos: [
      { name: "availability", objective: 99.9, sli: { raw: { errorRatioQuery: "r[{{.window}}]" } }, ...slo },
    ],
  },
});

const vspec = (extra: Record<string, unknown>) => ({
  sloTarget: 99.9,
  sli: { errorQuery: "e[{{.window}}]", totalQuery: "t[{{.window}}]" },
  ...extra,
});

describe("invalid specs", () => {
  const cases: [string, object | object[], string, string | RegExp][] = [
    ["Sloth objective of 100", sloth({ objective: 100 }), "slos[0].objective", /strictly between 0 and 100/],
    ["Sloth objective of 0", sloth({ objective: 0 }), "slos[0].objective", /strictly between 0 and 100/],
    [
      "Sloth objective as text",
      sloth({ objective: "99.9" }),
      "slos[0].objective",
      "expected number, got string",
    ],
    [
      "Sloth query without {{.window}}",
      sloth({ sli: { events: { error_query: "sum(rate(e[5m]))", total_query: "t[{{.window}}]" } } }),
      "slos[0].sli.events.error_query",
      /must use \{\{\.window\}\} as its range/,
    ],
    [
      "Sloth SLI plugin",
      sloth({ sli: { plugin: { id: "sloth-common/availability" } } }),
      "slos[0].sli.plugin",
      /^plugins are not supported/,
    ],
    ["Sloth SLI with neither events nor raw", sloth({ sli: {} }), "slos[0].sli", /needs events .* or raw/],
    ["Sloth misspelt field", sloth({ objetive: 99 }), "slos[0].objetive", "unknown field"],
    ["Sloth missing objective", sloth({ objective: undefined }), "slos[0].objective", "required"],
    ["Sloth bad label name", sloth({}, { labels: { "team-name": "x" } }), "labels.team-name", /label name/],
    [
      "Sloth duplicate SLO name",
      sloth(
        {},
        {
          slos: [0, 1].map(() => ({
            name: "a",
            objective: 99,
            sli: { raw: { error_ratio_query: "r[{{.window}}]" } },
          })),
        },
      ),
      "slos[1].name",
      /^duplicate id cart-a/,
    ],
    [
      "PrometheusServiceLevel query without {{.window}}",
      slothCrd({ sli: { events: { errorQuery: "e[{{.window}}]", totalQuery: "t" } } }),
      "spec.slos[0].sli.events.totalQuery",
      /\{\{\.window\}\}/,
    ],
    [
      "PrometheusServiceLevel snake_case field",
      slothCrd({ alerting: { page_alert: { disable: true } } }),
      "spec.slos[0].alerting.page_alert",
      "unknown field",
    ],
    [
      "OpenSLO unknown duration",
      opensloSlo({ timeWindow: [{ duration: "1month", isRolling: true }] }),
      "spec.timeWindow[0].duration",
      /not a duration/,
    ],
    [
      "OpenSLO calendar unit",
      opensloSlo({ timeWindow: [{ duration: "1M", isRolling: true }] }),
      "spec.timeWindow[0].duration",
      /calendar unit/,
    ],
    [
      "OpenSLO window shorter than a day",
      opensloSlo({ timeWindow: [{ duration: "1h", isRolling: true }] }),
      "spec.timeWindow[0].duration",
      /at least 1d/,
    ],
    [
      "OpenSLO calendar-aligned window",
      opensloSlo({ timeWindow: [{ duration: "30d", isRolling: false }] }),
      "spec.timeWindow[0].isRolling",
      /only rolling/,
    ],
    [
      "OpenSLO target above 1",
      opensloSlo({ objectives: [{ target: 1.5 }] }),
      "spec.objectives[0].target",
      /between 0 and 1/,
    ],
    [
      "OpenSLO targetPercent of 100",
      opensloSlo({ objectives: [{ targetPercent: 100 }] }),
      "spec.objectives[0].targetPercent",
      /between 0 and 100/,
    ],
    [
      "OpenSLO Timeslices without a slice target",
      opensloSlo({ budgetingMethod: "Timeslices", objectives: [{ target: 0.99, timeSliceWindow: "1m" }] }),
      "spec.objectives[0].timeSliceTarget",
      "required for Timeslices",
    ],
    [
      "OpenSLO Timeslices without a slice window",
      opensloSlo({ budgetingMethod: "Timeslices", objectives: [{ target: 0.99, timeSliceTarget: 0.9 }] }),
      "spec.objectives[0].timeSliceWindow",
      "required for Timeslices",
    ],
    [
      "OpenSLO rate query without {{.window}}",
      opensloSlo({
        indicator: {
          spec: {
            ratioMetric: { counter: true, bad: prom("e[{{.window}}]"), total: prom("sum(rate(t[5m]))") },
          },
        },
      }),
      "spec.indicator.spec.ratioMetric.total.metricSource.spec.query",
      /must use \{\{\.window\}\}/,
    ],
    [
      "OpenSLO Datadog source",
      opensloSlo({
        indicator: {
          spec: {
            ratioMetric: {
              counter: true,
              bad: { metricSource: { type: "Datadog", spec: { query: "x" } } },
              total: prom("t[{{.window}}]"),
            },
          },
        },
      }),
      "spec.indicator.spec.ratioMetric.bad.metricSource.type",
      "Datadog: only Prometheus metric sources are supported",
    ],
    [
      "OpenSLO indicatorRef to a missing SLI",
      opensloSlo({ indicator: undefined, indicatorRef: "nope" }),
      "spec.indicatorRef",
      /no SLI named nope/,
    ],
    [
      "OpenSLO threshold objective without op",
      opensloSlo({
        indicator: { spec: { thresholdMetric: prom("latency") } },
        objectives: [{ target: 0.9, value: 1 }],
      }),
      "spec.objectives[0]",
      /needs op/,
    ],
    ["SLOViolation misspelt field", violation(vspec({ sloTargt: 99 })), "spec.sloTargt", "unknown field"],
    [
      "SLOViolation target above 100",
      violation(vspec({ sloTarget: 100.5 })),
      "spec.sloTarget",
      /between 0 and 100/,
    ],
    [
      "SLOViolation unknown duration",
      violation(vspec({ window: "30 days" })),
      "spec.window",
      /not a duration/,
    ],
    [
      "SLOViolation scale without hpaRef",
      violation(vspec({ actions: ["scale"] })),
      "spec.hpaRef",
      "action scale needs an hpaRef",
    ],
    [
      "SLOViolation rollback without targetRef",
      violation(vspec({ actions: ["rollback"] })),
      "spec.targetRef",
      "action rollback needs a targetRef",
    ],
    [
      "SLOViolation unknown action",
      violation(vspec({ actions: ["explode"] })),
      "spec.actions[0]",
      /scale.*alert.*rollback.*freeze/,
    ],
    [
      "SLOViolation both SLI forms",
      violation(
        vspec({
          sli: {
            errorQuery: "e[{{.window}}]",
            totalQuery: "t[{{.window}}]",
            errorRatioQuery: "r[{{.window}}]",
          },
        }),
      ),
      "spec.sli",
      /not both/,
    ],
    [
      "SLOViolation threshold above 100",
      violation(vspec({ errorBudgetThreshold: 120 })),
      "spec.errorBudgetThreshold",
      /100/,
    ],
    [
      "SLOViolation without a name",
      { apiVersion: "aiops.prophet.io/v1alpha1", kind: "SLOViolation", metadata: {}, spec: vspec({}) },
      "metadata.name",
      "required",
    ],
    [
      "two SLOViolations with the same id",
      [
        violation(vspec({ service: "cart", sloName: "a" }), "one"),
        violation(vspec({ service: "cart", sloName: "a" }), "two"),
      ],
      "spec.sloName",
      "duplicate id cart-a: already defined in shop/one",
    ],
  ];

  it.each(cases)("%s → %s", (_what, input, path, reason) => {
    const docs = Array.isArray(input) ? input : [input];
    const text = docs.map((d) => stringify(d)).join("---\n");
    let r: ReturnType<typeof parseSloDocuments> | undefined;
    expect(() => (r = parseSloDocuments(text, "specs.yaml"))).not.toThrow();
    const hit = r!.errors.find((e) => e.path === path);
    expect(hit, JSON.stringify(r!.errors)).toBeDefined();
    if (typeof reason === "string") expect(hit!.reason).toBe(reason);
    else expect(hit!.reason).toMatch(reason);
  });

  it("reports YAML syntax errors and inputs without any SLO, and never throws", () => {
    expect(parseSloDocuments("slos: [", "bad.yml").errors).toEqual([
      { origin: "bad.yml", path: "", reason: expect.stringMatching(/^not valid YAML: /) },
    ]);
    expect(parseSloDocuments("kind: ConfigMap\napiVersion: v1\n", "cm.yml").errors[0]).toMatchObject({
      origin: "cm.yml",
      reason: expect.stringMatching(/^no SLO spec found/),
    });
    for (const junk of [
      null,
      42,
      "text",
      [],
      { version: "prometheus/v1" },
      { version: "prometheus/v1", slos: "x" },
    ])
      expect(() => parseSloObject(junk, "junk")).not.toThrow();
    expect(parseSloObject({ version: "prometheus/v1", service: "a", slos: [] }, "o").errors).toEqual([
      { origin: "o", path: "slos", reason: "at least one SLO is needed" },
    ]);
  });
});

describe("loadSloFiles", () => {
  const dir = mkdtempSync(join(tmpdir(), "prophet-slo-spec-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("loads every fixture of a directory, all formats, with no errors", () => {
    const r = loadSloFiles([fixtures, example]);
    expect(r.errors).toEqual([]);
    expect(r.slos.map((s) => [s.source.format, s.id]).sort()).toEqual([
      ["PrometheusServiceLevel", "cart-requests-availability"],
      ["SLOViolation", "cart-availability"],
      ["openslo", "checkout-checkout-availability"],
      ["openslo", "payments-payments-minutes"],
      ["openslo", "web-shop-search-latency"],
      ["sloth", "kube-apiserver-requests-availability"],
    ]);
  });

  it("resolves an indicatorRef across files, skips other kinds in a directory, reports unreadable paths", () => {
    const [sli, slo] = readFileSync(join(fixtures, "openslo-ratio.yaml"), "utf8").split(/^---$/m);
    writeFileSync(join(dir, "sli.yaml"), sli!);
    writeFileSync(join(dir, "slo.yml"), slo!);
    writeFileSync(
      join(dir, "deployment.yaml"),
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n",
    );
    writeFileSync(join(dir, "notes.txt"), "not yaml: [");
    const r = loadSloFiles([dir, join(dir, "missing.yml")]);
    expect(r.slos.map((s) => s.id)).toEqual(["checkout-checkout-availability"]);
    expect(r.errors).toEqual([
      { origin: join(dir, "missing.yml"), path: "", reason: expect.stringMatching(/^cannot be read: /) },
    ]);
    expect(loadSloFiles([join(dir, "deployment.yaml")]).errors[0]?.reason).toMatch(/^no SLO spec found/);
  });
});

describe("shipped SLO files", () => {
  it("manifests/slos/ (the sandbox's demo SLOs for npm start) parse without errors", () => {
    const r = loadSloFiles([new URL("../../manifests/slos", import.meta.url).pathname]);
    expect(r.errors).toEqual([]);
    expect(r.slos.map((s) => s.id)).toEqual([
      "frontend-availability",
      "frontend-latency",
      "checkout-availability",
    ]);
  });
});
