// Remediation policy: what may be done where, and who must approve it. Read from the seeds'
// AutonomousAction objects (aiops.prophet.io/v1alpha1) in the cluster, from YAML files locally,
// or the built-in default when there are none (see policy-source.ts).
import { z } from "zod";

export const approvalModes = ["autonomous", "human-in-loop", "dry-run"] as const;
export type ApprovalMode = (typeof approvalModes)[number];

export interface RemediationPolicy {
  /** "namespace/name" of the AutonomousAction, or "default". */
  id: string;
  /** "cluster": an AutonomousAction of the incident's cluster; "global": of the home cluster. */
  source: "cluster" | "global" | "file" | "default";
  /** Which incidents it covers; every list empty = all. */
  trigger: {
    alertnames: string[];
    severities: string[];
    namespaces: string[];
    findingReasons: string[];
  };
  approvalMode: ApprovalMode;
  /** Actions it allows; empty = none (a policy must opt actions in); "*" = every action. */
  allowedActions: string[];
  forbiddenNamespaces: string[];
  cooldownSeconds: number;
  maxConcurrent: number;
  /** Decisions below this confidence need approval (default 0.8). */
  minConfidence: number;
  /** Actions that always need approval in autonomous mode, on top of the registry's defaults. */
  requireApprovalFor: string[];
  /** How long a proposal waits for a human (default 1 h). */
  approvalTtlSeconds: number;
  llm?: { provider?: string; model?: string; endpoint?: string; temperature?: number };
  context: { includeLogs: boolean; includeEvents: boolean; includeMetrics: boolean; includeHistory: boolean };
}

export const systemNamespaces = ["kube-system", "kube-public", "kube-node-lease"];

/** When no AutonomousAction exists: propose (never execute) the rule planner's actions. */
export function defaultPolicy(mode: ApprovalMode = "human-in-loop"): RemediationPolicy {
  return {
    id: "default",
    source: "default",
    trigger: { alertnames: [], severities: [], namespaces: [], findingReasons: [] },
    approvalMode: mode,
    allowedActions: ["*"],
    forbiddenNamespaces: [...systemNamespaces],
    cooldownSeconds: 300,
    maxConcurrent: 3,
    minConfidence: 0.8,
    requireApprovalFor: [],
    approvalTtlSeconds: 3600,
    context: { includeLogs: true, includeEvents: true, includeMetrics: true, includeHistory: true },
  };
}

export const approvalModeSchema = z.enum(approvalModes);
