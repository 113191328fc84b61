// Every deployable function. Adding one = a folder under functions/ and one line here.
import type { ProphetFunction } from "../shared/function.js";
import { alertDiagnosis } from "./alert-diagnosis/index.js";
import { anomalyTrigger } from "./anomaly-trigger/index.js";
import { alertIntake } from "./alert-intake/index.js";
import { auditVerify } from "./audit-verify/index.js";
import { incidentNotify } from "./incident-notify/index.js";
import { llmRemediation } from "./llm-remediation/index.js";
import { remediationAssessor } from "./remediation-assessor/index.js";
import { forecastScaling } from "./forecast-scaling/index.js";
import { hubbleQuarantine } from "./hubble-quarantine/index.js";
import { sloCheck } from "./slo-check/index.js";

export const functions: readonly ProphetFunction[] = [
  alertIntake,
  auditVerify,
  alertDiagnosis,
  incidentNotify,
  llmRemediation,
  remediationAssessor,
  sloCheck,
  anomalyTrigger,
  forecastScaling,
  hubbleQuarantine,
];

export function findFunction(name: string): ProphetFunction | undefined {
  return functions.find((f) => f.name === name);
}
