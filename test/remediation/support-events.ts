// Real events for remediation specs: an Alertmanager alert about a live sandbox object goes through
// alert-intake (incident) and alert-diagnosis (findings), as in production, and the resulting
// diagnosis.completed is what llm-remediation receives.
import { readFileSync } from "node:fs";
import { alertDiagnosis } from "../../functions/alert-diagnosis/index.js";
import { alertIntake } from "../../functions/alert-intake/index.js";
import type { ProphetEvent } from "../../shared/events/envelope.js";
import type { AlertEventData } from "../../shared/events/schemas/alert.js";
import type { DiagnosisCompletedData } from "../../shared/events/schemas/diagnosis.js";
import type { Deps } from "../../shared/function.js";
import { alertTarget } from "../../shared/events/edge/alertmanager.js";

const sample = JSON.parse(
  readFileSync(new URL("../../events/catalog/io.prophet.alert.firing.json", import.meta.url), "utf8"),
) as ProphetEvent<AlertEventData>;

export function alertEvent(
  labels: Record<string, string>,
  at: Date,
  fingerprint = "f00dfeed0001",
): ProphetEvent<AlertEventData> {
  const all: Record<string, string> = { severity: "warning", ...labels };
  return {
    ...sample,
    id: `${fingerprint}-${at.toISOString()}`,
    time: at.toISOString(),
    cluster: "test",
    subject: `${all.alertname} ${all.namespace ?? ""}`,
    data: {
      ...sample.data,
      fingerprint,
      alertname: all.alertname!,
      severity: all.severity!,
      labels: all,
      annotations: { summary: "test alert" },
      startsAt: at.toISOString(),
      target: alertTarget(all),
    },
  };
}

/** alert → incident.opened → diagnosis.completed, through the two real functions. */
export async function diagnosisFor(
  deps: Deps,
  labels: Record<string, string>,
  fingerprint?: string,
): Promise<ProphetEvent<DiagnosisCompletedData>> {
  const alert = alertEvent(labels, deps.clock.now(), fingerprint);
  const [opened] = await alertIntake.handle(alert, deps);
  if (!opened) throw new Error("alert-intake opened no incident");
  const [diag] = await alertDiagnosis.handle(opened, deps);
  if (!diag) throw new Error("alert-diagnosis emitted nothing");
  return diag as ProphetEvent<DiagnosisCompletedData>;
}
