// Approvals: every proposal waiting for a person, with its reasons and the approve/reject form,
// and the most recent decisions. Refreshed every 10 s (not while someone is typing a reason).
/* global document */
import { badge, every, getJson, h, heading, table, time, errorBox } from "../lib.js";
import { decisionForm } from "./decide.js";

function proposal(rem, refresh) {
  const target = rem.target ? `${rem.target.kind} ${rem.target.namespace ?? ""}/${rem.target.name}` : "";
  return h(
    "article",
    { class: "action" },
    h("h2", {}, rem.action ?? "no action", " ", h("span", { class: "muted" }, target)),
    h(
      "dl",
      {},
      h("dt", {}, "Root cause"),
      h("dd", {}, rem.rootCause ?? "—"),
      h("dt", {}, "Why this action"),
      h("dd", {}, rem.rationale ?? "—"),
      h("dt", {}, "Needs approval because"),
      h("dd", {}, rem.approvalReasons.join("; ") || "—"),
      h("dt", {}, "Expires"),
      h("dd", {}, time(rem.expiresAt)),
      h("dt", {}, "Incident"),
      h(
        "dd",
        {},
        rem.incidentId
          ? h("a", { href: `#/incidents/${encodeURIComponent(rem.incidentId)}` }, "open the incident")
          : "—",
      ),
    ),
    decisionForm(rem, refresh),
  );
}

export async function render(main) {
  const waiting = h("div", { id: "waiting" });
  const recent = h("div");
  main.append(
    heading("Approvals"),
    h("section", { "aria-label": "Waiting for a decision" }, waiting),
    h("section", { "aria-labelledby": "recent" }, h("h2", { id: "recent" }, "Recent decisions"), recent),
  );
  let last = "";
  const load = async (force = false) => {
    const typing =
      main.contains(document.activeElement) && /INPUT|TEXTAREA/.test(document.activeElement.tagName);
    if (typing && !force) return;
    try {
      const [open, all] = await Promise.all([
        getJson("/api/approvals"),
        getJson("/api/remediations?limit=20"),
      ]);
      const sig = JSON.stringify(open.items.map((r) => r.id));
      if (sig !== last || force) {
        last = sig;
        waiting.replaceChildren(
          ...(open.items.length
            ? open.items.map((r) => proposal(r, () => load(true)))
            : [h("p", { class: "empty" }, "Nothing is waiting for approval.")]),
        );
      }
      recent.replaceChildren(
        table(
          "The latest remediations",
          ["Action", "Target", "Status", "Reviewed by", "Created", "Executed"],
          all.items.map((r) => [
            r.incidentId
              ? h("a", { href: `#/incidents/${encodeURIComponent(r.incidentId)}` }, r.action ?? "—")
              : (r.action ?? "—"),
            r.target ? `${r.target.namespace ?? ""}/${r.target.name}` : "—",
            badge(r.status),
            r.decidedBy ?? "—",
            time(r.createdAt),
            time(r.executedAt),
          ]),
        ),
      );
    } catch (err) {
      waiting.replaceChildren(errorBox(err));
    }
  };
  await load(true);
  return every(10000, () => load());
}
