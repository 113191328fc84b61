// Pod priority as kube-apiserver's Priority admission plugin applies it: a pod gets spec.priority
// and spec.preemptionPolicy from its priorityClassName, else from the globalDefault class, else 0
// and PreemptLowerPriority; a missing class or a priority that disagrees is refused with 403.
// Also the PriorityClass rules: reserved "system-" names, the user value ceiling, one default.
import { apiErrors, type StatusCause } from "./errors.js";
import type { ResourceType } from "./resources.js";
import { isRecord, type KubeObject } from "./types.js";

export const PRIORITY_CLASSES = "priorityclasses.scheduling.k8s.io";
const HIGHEST_USER_PRIORITY = 1_000_000_000;
const PREEMPT_LOWER = "PreemptLowerPriority";

/** The classes every cluster has (kube-apiserver creates them at start). */
export const systemPriorityClasses: KubeObject[] = [
  {
    name: "system-node-critical",
    value: 2_000_001_000,
    description: "Used for system critical pods that must not be moved from their current node.",
  },
  {
    name: "system-cluster-critical",
    value: 2_000_000_000,
    description:
      "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
  },
].map(({ name, value, description }) => ({
  apiVersion: "scheduling.k8s.io/v1",
  kind: "PriorityClass",
  metadata: { name },
  value,
  description,
  preemptionPolicy: PREEMPT_LOWER,
}));

/** Read access to the stored PriorityClasses, by name and all of them. */
export interface PriorityClasses {
  get(name: string): KubeObject | undefined;
  all(): Iterable<KubeObject>;
}

function globalDefault(classes: PriorityClasses): KubeObject | undefined {
  // The real plugin picks the lowest-valued default should several exist.
  let best: KubeObject | undefined;
  for (const pc of classes.all())
    if (pc.globalDefault === true && (!best || Number(pc.value) < Number(best.value))) best = pc;
  return best;
}

/** The Priority admission plugin on pod create; `name` is metadata.name or the generateName prefix. */
export function admitPodPriority(
  rt: ResourceType,
  pod: KubeObject,
  name: string,
  classes: PriorityClasses,
): KubeObject {
  const spec = isRecord(pod.spec) ? pod.spec : {};
  const className = typeof spec.priorityClassName === "string" ? spec.priorityClassName : "";
  const pc = className ? classes.get(className) : globalDefault(classes);
  if (className && !pc)
    throw apiErrors.forbidden(rt, name, `no PriorityClass with name ${className} was found`);
  const priority = pc ? Number(pc.value ?? 0) : 0;
  const policy = pc ? String(pc.preemptionPolicy ?? PREEMPT_LOWER) : PREEMPT_LOWER;
  if (spec.priority !== undefined && spec.priority !== null && spec.priority !== priority) {
    throw apiErrors.forbidden(
      rt,
      name,
      `the integer value of priority (${String(spec.priority)}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`,
    );
  }
  if (typeof spec.preemptionPolicy === "string" && spec.preemptionPolicy !== policy) {
    throw apiErrors.forbidden(
      rt,
      name,
      `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${policy} from the given PriorityClass name`,
    );
  }
  const out: Record<string, unknown> = { ...spec, priority, preemptionPolicy: policy };
  if (!className && pc) out.priorityClassName = pc.metadata.name;
  return { ...pod, spec: out };
}

/** A second globalDefault class is refused, as the plugin does for PriorityClass writes. */
export function admitPriorityClass(rt: ResourceType, pc: KubeObject, classes: PriorityClasses): void {
  if (pc.globalDefault !== true) return;
  for (const other of classes.all()) {
    if (other.globalDefault === true && other.metadata.name !== pc.metadata.name) {
      throw apiErrors.forbidden(
        rt,
        pc.metadata.name ?? "",
        `PriorityClass ${other.metadata.name} is already marked as default. Only one default can exist`,
      );
    }
  }
}

export function defaultPriorityClass(pc: KubeObject): KubeObject {
  return pc.preemptionPolicy === undefined ? { ...pc, preemptionPolicy: PREEMPT_LOWER } : pc;
}

export function priorityClassCauses(pc: KubeObject, old: KubeObject | undefined): StatusCause[] {
  const name = pc.metadata.name ?? "";
  const causes: StatusCause[] = [];
  if (typeof pc.value !== "number" || !Number.isInteger(pc.value))
    return [{ reason: "FieldValueRequired", message: "Required value", field: "value" }];
  const system = systemPriorityClasses.find((s) => s.metadata.name === name);
  if (name.startsWith("system-") && (!system || system.value !== pc.value)) {
    causes.push({
      reason: "FieldValueForbidden",
      message: "Forbidden: priority class names with 'system-' prefix are reserved for system use only",
      field: "metadata.name",
    });
  } else if (!system && pc.value > HIGHEST_USER_PRIORITY) {
    causes.push({
      reason: "FieldValueForbidden",
      message: `Forbidden: maximum allowed value of a user defined priority is ${HIGHEST_USER_PRIORITY}`,
      field: "value",
    });
  }
  if (!["PreemptLowerPriority", "Never"].includes(String(pc.preemptionPolicy))) {
    causes.push({
      reason: "FieldValueNotSupported",
      message: `Unsupported value: "${String(pc.preemptionPolicy)}": supported values: "Never", "PreemptLowerPriority"`,
      field: "preemptionPolicy",
    });
  }
  if (old && old.value !== pc.value)
    causes.push({
      reason: "FieldValueForbidden",
      message: "Forbidden: may not be changed in an update.",
      field: "value",
    });
  if (old && old.preemptionPolicy !== pc.preemptionPolicy)
    causes.push({
      reason: "FieldValueInvalid",
      message: `Invalid value: "${String(pc.preemptionPolicy)}": field is immutable`,
      field: "preemptionPolicy",
    });
  return causes;
}
