// Clusters: the federated view, one row per cluster this host serves or its store has rows for.
import { badge, every, getJson, h, heading, pct, table, errorBox } from "../lib.js";

export async function render(main) {
  const body = h("div");
  main.append(heading("Clusters"), body);
  const load = async () => {
    try {
      const { items } = await getJson("/api/clusters");
      body.replaceChildren(
        table(
          "Clusters",
          [
            "Cluster",
            "Status",
            "Firing",
            "Critical",
            "Awaiting approval",
            "Executed (24 h)",
            "Failed (24 h)",
            "SLOs violated",
            "Lowest budget",
            "Buffer pods",
            "Flow detections (24 h)",
          ],
          items.map((c) => [
            h("strong", {}, c.cluster, c.registered ? "" : " (seen in stored rows only)"),
            badge(c.status),
            c.incidents.firing,
            c.incidents.critical,
            c.remediations.awaitingApproval
              ? h("a", { href: "#/approvals" }, String(c.remediations.awaitingApproval))
              : "0",
            c.remediations.executedLastDay,
            c.remediations.failedLastDay,
            `${c.slos.violated} / ${c.slos.total}`,
            pct(c.slos.lowestBudgetRemaining),
            c.capacity.bufferPods,
            c.network.detectionsLastDay,
          ]),
        ),
      );
    } catch (err) {
      body.replaceChildren(errorBox(err));
    }
  };
  await load();
  return every(15000, load);
}
