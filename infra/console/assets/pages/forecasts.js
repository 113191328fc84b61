// Forecasts: a PromQL series (by default the cluster's request rate) and the engine's forecast
// with its 80 % and 95 % bands, drawn with uPlot; and what forecast-scaling holds in reserve per
// PredictiveScale (the capacity buffer), with its scored past forecasts against what happened.
/* global document, ResizeObserver, URLSearchParams */
import { getJson, h, heading, num, table, time, errorBox, badge } from "../lib.js";

async function uplot() {
  if (!document.querySelector('link[href="/console/vendor/uplot.css"]'))
    document.head.append(h("link", { rel: "stylesheet", href: "/console/vendor/uplot.css" }));
  return (await import("/console/vendor/uplot.js")).default;
}

const colors = {
  actual: "#1f4e99",
  mean: "#b3470c",
  band80: "rgba(179,71,12,0.25)",
  band95: "rgba(179,71,12,0.12)",
  provisioned: "#2d6a2d",
};

function chart(UPlot, el, title, data, series, bands) {
  const width = () => Math.max(320, Math.min(el.clientWidth || 900, 1100));
  const plot = new UPlot(
    { title, width: width(), height: 320, series: [{}, ...series], bands, axes: [{}, { size: 70 }] },
    data,
    el,
  );
  const ro = new ResizeObserver(() => plot.setSize({ width: width(), height: 320 }));
  ro.observe(el);
  return () => {
    ro.disconnect();
    plot.destroy();
  };
}

function forecastData(s) {
  const xs = [...s.actual.map((p) => p[0]), ...s.forecast.map((f) => f.t)];
  const n = s.actual.length;
  const pad = (arr, before) => [...Array(before).fill(null), ...arr];
  const last = s.actual[n - 1]?.[1] ?? null;
  // The forecast lines start at the last actual point so the chart reads as one curve.
  const fc = (k) => pad([last, ...s.forecast.map((f) => f[k])], n - 1);
  return [
    xs,
    [...s.actual.map((p) => p[1]), ...Array(s.forecast.length).fill(null)],
    fc("mean"),
    fc("lower80"),
    fc("upper80"),
    fc("lower95"),
    fc("upper95"),
  ];
}

export async function render(main) {
  const query = h("input", {
    id: "fc-query",
    name: "promql",
    value: "sum(rate(http_requests_total[5m]))",
    size: "50",
    spellcheck: "false",
  });
  const history = h(
    "select",
    { id: "fc-history" },
    ["3h", "6h", "12h", "1d", "3d"].map((v) => h("option", { value: v, selected: v === "6h" }, v)),
  );
  const horizon = h(
    "select",
    { id: "fc-horizon" },
    ["30m", "1h", "2h", "6h"].map((v) => h("option", { value: v, selected: v === "2h" }, v)),
  );
  const step = h(
    "select",
    { id: "fc-step" },
    ["1m", "5m", "15m"].map((v) => h("option", { value: v, selected: v === "5m" }, v)),
  );
  const plotEl = h("div", {
    class: "chart",
    id: "forecast-chart",
    role: "img",
    "aria-label": "Actual values and forecast with 80 and 95 percent bands",
  });
  const info = h("p", { class: "muted" });
  const capacity = h("div");
  const scoredEl = h("div");
  let cleanups = [];
  const clear = () => {
    for (const c of cleanups) c();
    cleanups = [];
  };
  const load = async () => {
    clear();
    info.textContent = "Forecasting…";
    try {
      const q = new URLSearchParams({
        promql: query.value,
        history: history.value,
        horizon: horizon.value,
        step: step.value,
      });
      const [data, UPlot] = await Promise.all([getJson(`/api/console/forecasts?${q}`), uplot()]);
      plotEl.replaceChildren();
      if (data.series) {
        const s = data.series;
        cleanups.push(
          chart(
            UPlot,
            plotEl,
            data.promql,
            forecastData(s),
            [
              { label: "actual", stroke: colors.actual, width: 2 },
              { label: "forecast", stroke: colors.mean, width: 2, dash: [6, 4] },
              { label: "80 % low", stroke: colors.band80, width: 1 },
              { label: "80 % high", stroke: colors.band80, width: 1 },
              { label: "95 % low", stroke: colors.band95, width: 1 },
              { label: "95 % high", stroke: colors.band95, width: 1 },
            ],
            [
              { series: [4, 3], fill: colors.band80 },
              { series: [6, 5], fill: colors.band95 },
            ],
          ),
        );
        const end = s.forecast[s.forecast.length - 1];
        info.textContent = `Methods: ${s.methods.join(", ")} · season ${s.period > 1 ? `${s.period} points` : "none"} · at the horizon: ${num(end?.mean)} (80 %: ${num(end?.lower80)}–${num(end?.upper80)}; 95 %: ${num(end?.lower95)}–${num(end?.upper95)})${data.note ? ` · ${data.note}` : ""}`;
      } else {
        info.textContent = data.note ?? "No data.";
      }
      capacity.replaceChildren(
        table(
          "Capacity buffers held by forecast-scaling",
          [
            "PredictiveScale",
            "Cluster",
            "Phase",
            "Current",
            "Predicted peak",
            "Buffer (pods)",
            "Desired replicas",
            "Lead time",
            "Why",
            "Evaluated",
          ],
          data.scales.map((c) => {
            const l = c.last ?? {};
            return [
              h("strong", {}, c.key),
              c.cluster,
              l.phase ? badge(l.phase) : "—",
              num(l.current),
              num(l.predictedPeak),
              String(c.buffer?.replicas ?? l.bufferReplicas ?? 0),
              String(l.desiredReplicas ?? "—"),
              l.leadTimeSeconds ? `${l.leadTimeSeconds} s` : "—",
              l.reason ?? "—",
              time(l.at),
            ];
          }),
          "No PredictiveScale has been evaluated yet (forecast-scaling runs on its schedule).",
        ),
      );
      const scored = data.scales.find((c) => c.scored.length >= 2);
      scoredEl.replaceChildren();
      if (scored) {
        const el = h("div", {
          class: "chart",
          role: "img",
          "aria-label": `Past forecasts of ${scored.key} against what happened`,
        });
        scoredEl.append(h("h2", {}, `Past forecasts of ${scored.key}`), el);
        cleanups.push(
          chart(
            UPlot,
            el,
            "forecast vs actual vs provisioned",
            [
              scored.scored.map((p) => p.at),
              scored.scored.map((p) => p.actual),
              scored.scored.map((p) => p.mean),
              scored.scored.map((p) => p.provisioned),
            ],
            [
              { label: "actual", stroke: colors.actual, width: 2 },
              { label: "forecast", stroke: colors.mean, width: 2, dash: [6, 4] },
              { label: "provisioned for", stroke: colors.provisioned, width: 2 },
            ],
          ),
        );
      }
    } catch (err) {
      info.replaceChildren(errorBox(err));
    }
  };
  main.append(
    heading("Forecasts"),
    h(
      "form",
      {
        class: "filters",
        onsubmit: (e) => {
          e.preventDefault();
          load();
        },
      },
      h("div", { class: "field wide" }, h("label", { for: query.id }, "PromQL"), query),
      h("div", { class: "field" }, h("label", { for: history.id }, "History"), history),
      h("div", { class: "field" }, h("label", { for: step.id }, "Step"), step),
      h("div", { class: "field" }, h("label", { for: horizon.id }, "Horizon"), horizon),
      h("button", { type: "submit" }, "Forecast"),
    ),
    plotEl,
    info,
    h("section", { "aria-labelledby": "cap" }, h("h2", { id: "cap" }, "Capacity buffer"), capacity),
    scoredEl,
  );
  await load();
  return clear;
}
