// Audit log: the append-only, hash-chained record of what every function and person did,
/* global URLSearchParams */
// filterable, with the chain's verification.
import { badge, getJson, h, heading, table, time, errorBox } from "../lib.js";

export async function render(main) {
  const chain = h("p", { id: "chain", class: "chain" }, "Verifying the hash chain…");
  const fields = ["actor", "action", "subject", "q"].map((k) =>
    h(
      "div",
      { class: "field" },
      h("label", { for: `audit-${k}` }, k === "q" ? "Details contain" : k[0].toUpperCase() + k.slice(1)),
      h("input", { id: `audit-${k}`, name: k, type: "search" }),
    ),
  );
  const body = h("div");
  const load = async () => {
    const q = new URLSearchParams({ limit: "300" });
    for (const f of form.querySelectorAll("input")) if (f.value.trim()) q.set(f.name, f.value.trim());
    try {
      const { items } = await getJson(`/api/console/audit?${q}`);
      body.replaceChildren(
        table(
          `Audit entries (${items.length}, newest first)`,
          ["#", "At", "Actor", "Action", "Subject", "Details"],
          items.map((a) => [
            String(a.seq),
            time(a.at),
            a.actor,
            a.action,
            a.details?.incidentId
              ? h("a", { href: `#/incidents/${encodeURIComponent(a.details.incidentId)}` }, a.subject)
              : a.subject,
            h(
              "details",
              {},
              h("summary", {}, "details"),
              h("pre", {}, JSON.stringify(a.details, null, 2)),
              h("p", { class: "muted mono" }, `hash ${a.hash}`),
            ),
          ]),
          "No entries match.",
        ),
      );
    } catch (err) {
      body.replaceChildren(errorBox(err));
    }
  };
  const form = h(
    "form",
    {
      class: "filters",
      role: "search",
      onsubmit: (e) => {
        e.preventDefault();
        load();
      },
    },
    fields,
    h("button", { type: "submit" }, "Filter"),
  );
  main.append(heading("Audit log"), chain, form, body);
  getJson("/api/audit/verify")
    .then((v) =>
      chain.replaceChildren(
        v.ok ? badge("chain intact", "ok") : badge("chain broken", "critical"),
        " ",
        v.ok
          ? `${v.rows} entries verified; head ${String(v.headHash ?? "—").slice(0, 16)}…`
          : `first bad entry #${v.firstBadSeq}: ${v.reason}`,
      ),
    )
    .catch((err) => chain.replaceChildren(errorBox(err)));
  await load();
}
