// Deployment-level remediation settings (environment wiring; the policies themselves are
// AutonomousAction objects).
import type { BlastRadiusLimits } from "./action.js";
import type { ApprovalMode, RemediationPolicy } from "./policy.js";

export interface RemediationSettings {
  /** The default policy's mode when the cluster has no AutonomousAction (default human-in-loop). */
  defaultMode: ApprovalMode;
  /** Base URL of approval links (`<publicUrl>/approvals/<id>?token=…`); no link when absent. */
  publicUrl?: string;
  /** HMAC key of approval tokens; a random key kept in the store when absent. */
  approvalKey?: string;
  /** How long after an action the assessor scores it (default 300 s). */
  stabilizationSeconds: number;
  limits?: Partial<BlastRadiusLimits>;
  /** Policies from somewhere other than the cluster (YAML files locally, tests). */
  policies?: () => Promise<RemediationPolicy[]>;
}

export const defaultRemediationSettings: RemediationSettings = {
  defaultMode: "human-in-loop",
  stabilizationSeconds: 300,
};
