// The approve/reject form for one proposal, shared by the incident page and the approvals page.
// The approver names themselves (recorded as user:<name>) and gives a reason; the request carries
// the session's CSRF token. A proposal can be decided once: a second verdict is a 409, shown as is.
import { ApiError, announce, h, postJson, remembered } from "../lib.js";

export function decisionForm(rem, onDecided) {
  const id = `decide-${rem.id.replace(/[^a-zA-Z0-9_-]/g, "-")}`;
  const name = h("input", {
    id: `${id}-name`,
    name: "actor",
    autocomplete: "name",
    required: true,
    maxlength: "100",
    value: remembered.name,
  });
  const reason = h("textarea", {
    id: `${id}-reason`,
    name: "comment",
    required: true,
    rows: "2",
    maxlength: "1000",
  });
  const result = h("p", { class: "result", role: "alert" });
  const approve = h("button", { type: "submit", value: "approve", class: "approve" }, "Approve");
  const reject = h("button", { type: "submit", value: "reject", class: "reject" }, "Reject");
  const form = h(
    "form",
    {
      class: "decide",
      "aria-label": `Decide on ${rem.action ?? "proposal"} for ${rem.target?.name ?? rem.id}`,
    },
    h("div", { class: "field" }, h("label", { for: name.id }, "Your name"), name),
    h("div", { class: "field" }, h("label", { for: reason.id }, "Reason"), reason),
    h("div", { class: "buttons" }, approve, " ", reject),
    result,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const verdict = e.submitter?.value === "reject" ? "reject" : "approve";
    if (!form.reportValidity()) return;
    remembered.name = name.value.trim();
    approve.disabled = reject.disabled = true;
    result.className = "result";
    result.textContent = verdict === "approve" ? "Approving… the action runs now." : "Rejecting…";
    try {
      const out = await postJson(`/api/approvals/${encodeURIComponent(rem.id)}/${verdict}`, {
        actor: name.value.trim(),
        comment: reason.value.trim(),
      });
      const status = out.remediation?.status ?? "decided";
      result.className = "result ok";
      result.textContent = `${verdict === "approve" ? "Approved" : "Rejected"}: the remediation is now ${status}.`;
      announce(result.textContent);
      onDecided?.(out.remediation);
    } catch (err) {
      result.className = "result error";
      result.textContent =
        err instanceof ApiError && err.status === 409
          ? `Already decided: ${err.message}`
          : `Could not ${verdict}: ${err.message}`;
      approve.disabled = reject.disabled = false;
    }
  });
  return form;
}
