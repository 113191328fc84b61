// The action registry: every action Prophet can take, by name. Planners, the LLM decider, the
// policy gate and `prophet actions list` all read this one list.
import type { ActionDefinition } from "../action.js";
import { createHeapDump } from "./create-heap-dump.js";
import { repairDatabase } from "./repair-database.js";
import { failoverDatabase } from "./failover-database.js";
import { compactStorage } from "./compact-storage.js";
import { cleanupStorage } from "./cleanup-storage.js";
import { auditLogs } from "./audit-logs.js";
import { backupData } from "./backup-data.js";
import { collectDiagnostics } from "./collect-diagnostics.js";
import { cordonNode } from "./cordon-node.js";
import { drainNode } from "./drain-node.js";
import { enableDebugMode } from "./enable-debug-mode.js";
import { expandPvc } from "./expand-pvc.js";
import { increaseResources } from "./increase-resources.js";
import { migrateWorkload } from "./migrate-workload.js";
import { notifyOnly } from "./notify-only.js";
import { quarantinePod } from "./quarantine-pod.js";
import { resetServiceMesh } from "./reset-service-mesh.js";
import { restartDaemonset } from "./restart-daemonset.js";
import { restartNetwork } from "./restart-network.js";
import { restartPod } from "./restart-pod.js";
import { rollbackDeployment } from "./rollback-deployment.js";
import { rolloutRestart } from "./rollout-restart.js";
import { rotateSecrets } from "./rotate-secrets.js";
import { scaleDeployment } from "./scale-deployment.js";
import { scaleStatefulset } from "./scale-statefulset.js";
import { uncordonNode } from "./uncordon-node.js";
import { updateHpa } from "./update-hpa.js";
import { updateNetworkPolicy } from "./update-network-policy.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const actions: readonly ActionDefinition<any>[] = [
  auditLogs,
  backupData,
  cleanupStorage,
  collectDiagnostics,
  compactStorage,
  cordonNode,
  createHeapDump,
  drainNode,
  enableDebugMode,
  expandPvc,
  failoverDatabase,
  increaseResources,
  migrateWorkload,
  notifyOnly,
  quarantinePod,
  repairDatabase,
  resetServiceMesh,
  restartDaemonset,
  restartNetwork,
  restartPod,
  rollbackDeployment,
  rolloutRestart,
  rotateSecrets,
  scaleDeployment,
  scaleStatefulset,
  uncordonNode,
  updateHpa,
  updateNetworkPolicy,
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const byName = new Map<string, ActionDefinition<any>>(actions.map((a) => [a.name, a]));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function actionNamed(name: string): ActionDefinition<any> | undefined {
  return byName.get(name);
}

export const actionNames: readonly string[] = actions.map((a) => a.name);
