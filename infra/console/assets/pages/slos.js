// SLOs: what slo-check last evaluated: the error budget left, the burn rate per window and when
// the budget runs out at the current pace.
import { badge, duration, every, getJson, h, heading, num, pct, table, time, errorBox } from "../lib.js";

function exhaustion(e) {
  if (!e || typeof e !== "object") return "—";
  if (e.status === "exhausted") return "exhausted";
  if (e.status === "projected")
    return `in ${duration(e.seconds)}${e.earliest !== undefined ? ` (earliest ${duration(e.earliest)})` : ""}`;
  if (e.status === "not_within_horizon") return "not within the period";
  return "not enough data";
}

function budget(v) {
  if (v === null || v === undefined) return "—";
  const clamped = Math.max(0, Math.min(1, v));
  return h(
    "span",
    { class: "budget" },
    h("meter", {
      min: "0",
      max: "1",
      low: "0.25",
      high: "0.5",
      optimum: "1",
      value: String(clamped),
      "aria-label": `budget remaining ${pct(v)}`,
    }),
    " ",
    pct(v),
  );
}

export async function render(main) {
  const body = h("div");
  main.append(
    heading("SLOs"),
    h(
      "p",
      { class: "muted" },
      "Burn rate = error ratio ÷ (1 − target); 1 spends the budget exactly over the period.",
    ),
    body,
  );
  const load = async () => {
    try {
      const { items } = await getJson("/api/console/slos");
      const windows = [...new Set(items.flatMap((s) => (s.evaluation?.windows ?? []).map((w) => w.window)))];
      body.replaceChildren(
        table(
          "Service level objectives",
          [
            "SLO",
            "Cluster",
            "Phase",
            "Budget remaining",
            ...windows.map((w) => `Burn ${w}`),
            "Exhausted",
            "Evaluated",
          ],
          items.map((s) => {
            const e = s.evaluation ?? {};
            const byWindow = new Map((e.windows ?? []).map((w) => [w.window, w]));
            return [
              h(
                "span",
                {},
                h("strong", {}, e.slo ?? s.slo),
                e.service ? h("small", { class: "muted" }, ` ${e.service}`) : null,
              ),
              s.cluster,
              [
                badge(s.phase),
                s.firing.length ? [" ", badge(`firing ${s.firing.join(", ")}`, "critical")] : null,
              ],
              budget(e.budgetRemaining),
              ...windows.map((w) => {
                const r = byWindow.get(w)?.burnRate;
                return h("span", { class: r >= 1 ? "hot" : "" }, num(r));
              }),
              exhaustion(e.timeToExhaustion),
              time(s.evaluatedAt),
            ];
          }),
          "No SLO has been evaluated yet: slo-check runs every minute.",
        ),
      );
    } catch (err) {
      body.replaceChildren(errorBox(err));
    }
  };
  await load();
  return every(15000, load);
}
