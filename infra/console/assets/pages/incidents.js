// Incidents: the live list (refreshed every 5 s), newest first, filterable by status and cluster.
import { badge, every, getJson, h, heading, table, time, errorBox } from "../lib.js";

export async function render(main) {
  const status = h(
    "select",
    { id: "incident-status" },
    h("option", { value: "" }, "All"),
    h("option", { value: "firing" }, "Firing"),
    h("option", { value: "resolved" }, "Resolved"),
  );
  const cluster = h("select", { id: "incident-cluster" }, h("option", { value: "" }, "All clusters"));
  const updated = h("p", { class: "muted" });
  const body = h("div", { id: "incident-list" });
  main.append(
    heading("Incidents"),
    h(
      "form",
      { class: "filters", onsubmit: (e) => e.preventDefault() },
      h("label", { for: "incident-status" }, "Status "),
      status,
      h("label", { for: "incident-cluster" }, "Cluster "),
      cluster,
    ),
    updated,
    body,
  );

  let items = [];
  const draw = () => {
    const shown = items.filter((i) => !cluster.value || i.cluster === cluster.value);
    body.replaceChildren(
      table(
        "Incidents, newest first",
        ["Severity", "Alert", "Subject", "Cluster", "Status", "Opened", "Last seen"],
        shown.map((i) => [
          badge(i.severity),
          h("a", { href: `#/incidents/${encodeURIComponent(i.id)}` }, i.alertname),
          i.summary
            ? h("span", {}, i.subject, h("br"), h("small", { class: "muted" }, i.summary))
            : i.subject,
          i.cluster,
          badge(i.status),
          time(i.openedAt),
          time(i.lastSeenAt),
        ]),
        "No incidents. When an alert fires, it appears here within seconds.",
      ),
    );
  };
  const load = async () => {
    try {
      const q = status.value ? `?status=${status.value}&limit=200` : "?limit=200";
      items = (await getJson(`/api/incidents${q}`)).items;
      const names = [...new Set(items.map((i) => i.cluster))].sort();
      const known = [...cluster.options].map((o) => o.value);
      for (const n of names) if (!known.includes(n)) cluster.append(h("option", { value: n }, n));
      draw();
      updated.textContent = `${items.length} incident(s) · updated ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      body.replaceChildren(errorBox(err));
    }
  };
  status.addEventListener("change", load);
  cluster.addEventListener("change", draw);
  await load();
  return every(5000, load);
}
