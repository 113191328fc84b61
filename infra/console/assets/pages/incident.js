// One incident: what fired, the timeline from alert to assessment (the audit trail), the
// diagnosis (explanation, root cause, findings with evidence) and the actions, with the
// approve/reject form while an action is proposed. Refreshed every 5 s while open.
import { badge, every, getJson, h, heading, num, time, errorBox } from "../lib.js";
import { decisionForm } from "./decide.js";

const stepNames = {
  "alert.firing": "Alert fired",
  "alert.resolved": "Alert resolved",
  "diagnosis.completed": "Diagnosed",
  "notification.firing": "Notified",
  "notification.resolved": "Notified (resolved)",
  "remediation.decided": "Action decided",
  "remediation.gated": "Policy gate",
  "remediation.proposed": "Action proposed",
  "remediation.approved": "Approved",
  "remediation.rejected": "Rejected",
  "remediation.regated": "Gate re-checked",
  "remediation.executed": "Action executed",
  "remediation.verified": "Verified",
  "remediation.failed": "Action failed",
  "remediation.assessed": "Assessed",
  "remediation.expired": "Proposal expired",
};

function detailOf(step) {
  const d = step.details ?? {};
  const parts = [];
  for (const k of ["status", "verdict", "reason", "action", "score", "summary", "comment", "change"]) {
    const v = d[k];
    if (v !== undefined && v !== null && typeof v !== "object") parts.push(`${k}: ${v}`);
  }
  return parts.join(" · ");
}

function timeline(data) {
  return h(
    "ol",
    { class: "timeline" },
    data.timeline.map((s) =>
      h(
        "li",
        { class: `step step-${s.action.split(".")[0]}` },
        h("time", { datetime: s.at }, time(s.at)),
        " ",
        h("strong", {}, stepNames[s.action] ?? s.action),
        " ",
        h("span", { class: "muted" }, `by ${s.actor}`),
        detailOf(s) ? h("div", { class: "detail" }, detailOf(s)) : null,
      ),
    ),
  );
}

function findings(diag) {
  if (diag.findings.length === 0) return h("p", { class: "empty" }, "No findings.");
  return h(
    "ul",
    { class: "findings" },
    diag.findings.map((f) =>
      h(
        "li",
        { class: f.rootCause ? "finding root" : "finding" },
        h(
          "p",
          {},
          f.rootCause ? badge("root cause", "critical") : null,
          " ",
          h("strong", {}, f.reason),
          ` on ${f.kind} ${f.namespace}/${f.name}`,
        ),
        h("p", {}, f.message),
        h("details", {}, h("summary", {}, "Evidence"), h("pre", {}, JSON.stringify(f.evidence, null, 2))),
      ),
    ),
  );
}

function action(rem, refresh) {
  const target = rem.target ? `${rem.target.kind} ${rem.target.namespace ?? ""}/${rem.target.name}` : "";
  return h(
    "article",
    { class: "action", "aria-labelledby": `rem-${rem.id}` },
    h(
      "h3",
      { id: `rem-${rem.id}` },
      rem.action ?? "no action",
      " ",
      h("span", { class: "muted" }, target),
      " ",
      badge(rem.status),
    ),
    h(
      "dl",
      {},
      h("dt", {}, "Why"),
      h("dd", {}, rem.rationale ?? rem.rootCause ?? "—"),
      h("dt", {}, "Decided by"),
      h("dd", {}, `${rem.decider} (confidence ${num(rem.confidence)}) · mode ${rem.mode ?? "—"}`),
      h("dt", {}, "Gate"),
      h("dd", {}, `${rem.gate.verdict}${rem.gate.reason ? ` — ${rem.gate.reason}` : ""}`),
      rem.approvalReasons?.length
        ? [h("dt", {}, "Needs approval because"), h("dd", {}, rem.approvalReasons.join("; "))]
        : null,
      rem.params ? [h("dt", {}, "Parameters"), h("dd", {}, h("code", {}, JSON.stringify(rem.params)))] : null,
      rem.decidedBy ? [h("dt", {}, "Reviewed by"), h("dd", { class: "decided-by" }, rem.decidedBy)] : null,
      rem.executedAt ? [h("dt", {}, "Executed"), h("dd", {}, time(rem.executedAt))] : null,
      rem.changes?.length
        ? [
            h("dt", {}, "Changes"),
            h(
              "dd",
              {},
              rem.changes.map((c) => h("div", {}, typeof c === "string" ? c : JSON.stringify(c))),
            ),
          ]
        : null,
      rem.score !== null && rem.score !== undefined
        ? [
            h("dt", {}, "Effectiveness"),
            h("dd", {}, num(typeof rem.score === "object" ? rem.score.score : rem.score)),
          ]
        : null,
    ),
    rem.status === "proposed" ? decisionForm(rem, refresh) : null,
  );
}

export async function render(main, [id]) {
  const body = h("div");
  main.append(body);
  let last = "";
  const load = async () => {
    let data;
    try {
      data = await getJson(`/api/console/incidents/${encodeURIComponent(id)}`);
    } catch (err) {
      body.replaceChildren(heading("Incident"), errorBox(err));
      return;
    }
    const sig = JSON.stringify(data);
    if (sig === last) return;
    // Keep what someone is typing into an open approval form across a refresh.
    const typed = new Map([...body.querySelectorAll("input, textarea")].map((el) => [el.id, el.value]));
    const focused = document.activeElement?.id;
    const opened = [...body.querySelectorAll("details")].map((d) => d.open);
    last = sig;
    const i = data.incident;
    const diag = data.diagnoses[data.diagnoses.length - 1];
    body.replaceChildren(
      h("p", { class: "crumbs" }, h("a", { href: "#/incidents" }, "← Incidents")),
      heading(`${i.alertname} `, badge(i.severity), " ", badge(i.status)),
      h("p", { class: "lead" }, i.summary || i.subject),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Cluster"),
        h("dd", {}, i.cluster),
        h("dt", {}, "Subject"),
        h("dd", {}, i.subject),
        h("dt", {}, "Opened"),
        h("dd", {}, time(i.openedAt)),
        h("dt", {}, i.resolvedAt ? "Resolved" : "Last seen"),
        h("dd", {}, time(i.resolvedAt ?? i.lastSeenAt)),
      ),
      h(
        "div",
        { class: "columns" },
        h(
          "section",
          { "aria-labelledby": "s-actions" },
          h("h2", { id: "s-actions" }, "Actions"),
          data.remediations.length
            ? data.remediations.map((r) =>
                action(r, () => {
                  last = "";
                  load();
                }),
              )
            : h("p", { class: "empty" }, "No action decided yet."),
        ),
        h(
          "section",
          { "aria-labelledby": "s-timeline" },
          h("h2", { id: "s-timeline" }, "Timeline"),
          timeline(data),
        ),
      ),
      h(
        "section",
        { "aria-labelledby": "s-diagnosis" },
        h("h2", { id: "s-diagnosis" }, "Diagnosis"),
        diag
          ? [h("p", { class: "explanation" }, badge(diag.status), " ", diag.summary), findings(diag)]
          : h("p", { class: "empty" }, "Not diagnosed yet."),
      ),
    );
    for (const [k, v] of typed) {
      const el = k ? document.getElementById(k) : null;
      if (el && v) el.value = v;
    }
    if (focused) document.getElementById(focused)?.focus();
    body.querySelectorAll("details").forEach((d, n) => (d.open = opened[n] ?? false));
  };
  await load();
  return every(5000, load);
}
/* global document */
