// Network: the service map hubble-quarantine learned from flows, drawn with cytoscape; edges first
// seen after learning ended (novel) and workloads with flow detections are highlighted in red,
// and the same facts are listed in tables (a canvas is not readable by a screen reader).
/* global document */
import { badge, every, getJson, h, heading, num, table, time, errorBox } from "../lib.js";

const style = [
  {
    selector: "node",
    style: {
      label: "data(label)",
      "font-size": 11,
      color: "#1b1b1b",
      "text-valign": "bottom",
      "text-margin-y": 4,
      "background-color": "#5b7fb8",
      width: 18,
      height: 18,
    },
  },
  {
    selector: "node[kind = 'external'], node[kind = 'dns'], node[kind = 'reserved']",
    style: { shape: "diamond", "background-color": "#8a8a8a" },
  },
  {
    selector: "node.flagged",
    style: { "background-color": "#b3261e", "border-width": 3, "border-color": "#5e0c08" },
  },
  {
    selector: "node.quarantined",
    style: { shape: "octagon", "border-width": 3, "border-style": "double", "border-color": "#5e0c08" },
  },
  {
    selector: "edge",
    style: {
      width: 1.5,
      "line-color": "#9aa7b8",
      "target-arrow-color": "#9aa7b8",
      "target-arrow-shape": "triangle",
      "curve-style": "bezier",
    },
  },
  {
    selector: "edge.novel",
    style: {
      width: 3,
      "line-color": "#b3261e",
      "target-arrow-color": "#b3261e",
      "line-style": "dashed",
      label: "data(label)",
      "font-size": 10,
      color: "#6e1410",
      "text-background-color": "#fff",
      "text-background-opacity": 0.85,
    },
  },
];

/** One edge per (from, to): a port scan is one red arrow listing its ports, not hundreds. */
function pairs(edges) {
  const out = new Map();
  for (const e of edges) {
    const key = `${e.from}\u0000${e.to}`;
    const p = out.get(key) ?? { from: e.from, to: e.to, ports: [], novelPorts: [], flows: 0, rate: 0 };
    const port = `${e.port}/${e.protocol}`;
    p.ports.push(port);
    if (e.novel) p.novelPorts.push(port);
    p.flows += e.flows;
    p.rate += e.rate;
    out.set(key, p);
  }
  return [...out.values()];
}

const portList = (ports) =>
  ports.length > 8 ? `${ports.slice(0, 8).join(", ")} … +${ports.length - 8} more` : ports.join(", ");

export async function render(main) {
  const graphEl = h("div", {
    id: "service-map",
    class: "graph",
    role: "img",
    "aria-label": "Service map; anomalous edges are red and dashed",
  });
  const info = h("p", { class: "muted" });
  const tables = h("div");
  main.append(heading("Network"), info, graphEl, tables);
  let cy;
  let last = "";
  const load = async () => {
    try {
      const cluster = document.querySelector('meta[name="prophet-cluster"]')?.content ?? "";
      const data = await getJson(`/api/console/network?cluster=${encodeURIComponent(cluster)}`);
      info.textContent = data.learned
        ? `${data.nodes.length} peers, ${data.edges.length} edges learned from flows · updated ${time(data.updatedAt)}`
        : "No flows have been analysed for this cluster yet.";
      const flagged = new Set(data.detections.map((d) => d.identity));
      const quarantined = new Set(data.quarantined.map((q) => `${q.namespace}/${q.pod}`));
      const links = pairs(data.edges);
      const novel = links.filter((l) => l.novelPorts.length > 0);
      tables.replaceChildren(
        h("h2", {}, "Quarantined workloads"),
        table(
          "Pods under quarantine",
          ["Pod", "Remediation", "Expires"],
          data.quarantined.map((q) => [`${q.namespace}/${q.pod}`, q.remediationId ?? "—", time(q.expires)]),
          "No pod is quarantined.",
        ),
        h("h2", {}, "Anomalous edges"),
        table(
          "Edges seen after learning ended",
          ["From", "To", "New ports", "Flows"],
          novel.map((l) => [l.from, l.to, portList(l.novelPorts), String(l.flows)]),
          "No novel edges.",
        ),
        h("h2", {}, "Flow detections"),
        table(
          "Recent detections",
          ["Workload", "Detector", "Score", "Message", "Count", "Last seen"],
          data.detections.map((d) => [
            d.identity,
            badge(d.detector, "warning"),
            num(d.score),
            d.message,
            String(d.count),
            time(d.lastSeen),
          ]),
          "No detections.",
        ),
        h(
          "details",
          {},
          h("summary", {}, `All ${links.length} connections`),
          table(
            "Every learned connection",
            ["From", "To", "Ports", "Flows", "Rate /min"],
            links.map((l) => [l.from, l.to, portList(l.ports), String(l.flows), num(l.rate)]),
          ),
        ),
      );
      const sig = JSON.stringify([
        data.nodes,
        data.edges.map((e) => [e.from, e.to, e.port, e.novel]),
        [...flagged],
        [...quarantined],
      ]);
      if (sig === last) return;
      last = sig;
      if (data.nodes.length === 0) {
        graphEl.replaceChildren(h("p", { class: "empty" }, "The map appears once flows have been learned."));
        return;
      }
      const { default: cytoscape } = await import("/console/vendor/cytoscape.js");
      cy?.destroy();
      graphEl.replaceChildren();
      const elements = [
        ...data.nodes.map((n) => ({
          data: { id: n.id, label: n.id, kind: n.kind },
          classes: [
            flagged.has(n.id) ? "flagged" : "",
            [...quarantined].some((q) => q.startsWith(`${n.id}-`) || q === n.id) ? "quarantined" : "",
          ].join(" "),
        })),
        ...links.map((l, i) => ({
          data: {
            id: `e${i}`,
            source: l.from,
            target: l.to,
            label: l.novelPorts.length
              ? `${l.novelPorts.length} new port${l.novelPorts.length > 1 ? "s" : ""}`
              : "",
          },
          classes: l.novelPorts.length ? "novel" : "",
        })),
      ];
      cy = cytoscape({
        container: graphEl,
        elements,
        style,
        layout: { name: "breadthfirst", directed: true, spacingFactor: 1.1, animate: false },
        wheelSensitivity: 0.3,
      });
    } catch (err) {
      info.replaceChildren(errorBox(err));
    }
  };
  await load();
  const stop = every(15000, load);
  return () => {
    stop();
    cy?.destroy();
  };
}
