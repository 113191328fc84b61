// remediation-assessor: every minute, scores the actions whose stabilization window has passed
// (health, alert resolved, metric improvement; drift since the action) and expires proposals
// nobody answered. The scores feed the next decisions (planner demotion, LLM history).
import {
  RemediationAssessed,
  RemediationRejected,
  ScheduleTick,
  isEvent,
} from "../../shared/events/catalog.js";
import { defineFunction, functionSource } from "../../shared/function.js";
import { assessDue } from "../../shared/remediation/pipeline.js";

const name = "remediation-assessor";

export const remediationAssessor = defineFunction({
  name,
  description: "Scores executed remediations after their stabilization window and expires stale proposals.",
  accepts: [ScheduleTick.type],
  schedules: [{ name: "remediation-assess", cron: "* * * * *" }],
  emits: [RemediationAssessed.type, RemediationRejected.type],
  async handle(event, deps) {
    if (!isEvent(event, ScheduleTick) || event.data.schedule !== "remediation-assess") return [];
    return assessDue({ deps, source: functionSource(name), actor: `function:${name}` }, event);
  },
});
