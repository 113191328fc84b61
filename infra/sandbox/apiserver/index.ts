// Public surface of the Kubernetes API server emulator.
export { startApiServer, kubeconfigYaml, type ApiServer, type ApiServerOptions } from "./server.js";
export { ObjectStore, type StoreEvent, type DeleteOptions, type ListOptions } from "./store.js";
export { ResourceCatalog, builtinResources, type ResourceType } from "./resources.js";
export { KubeApiError } from "./errors.js";
export { budgetOf, isPodReady, writeBudgetStatus, type DisruptionBudget } from "./disruption.js";
export { emptyLogs, type PodLogSource } from "./pods.js";
export { parseLabelSelector, matcherFromSpec, selectorString, type LabelSelectorSpec } from "./selectors.js";
export type { KubeObject, ObjectMeta, OwnerReference } from "./types.js";
export {
  startWorkloadController,
  templateHash,
  type WorkloadController,
  type WorkloadControllerOptions,
} from "./controllers/workloads.js";
