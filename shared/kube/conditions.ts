// Status conditions as Kubernetes API conventions want them: `lastTransitionTime` is when the
// status last changed, so it is kept while the status stays and set to now when it flips.

export interface StatusCondition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

/** `next` with the transition time carried over from `prior` when the status did not change. */
export function nextCondition<C extends Omit<StatusCondition, "lastTransitionTime">>(
  prior: readonly StatusCondition[] | undefined,
  next: C,
  at: Date,
): C & { lastTransitionTime: string } {
  const before = prior?.find((c) => c.type === next.type);
  return {
    ...next,
    lastTransitionTime:
      before && before.status === next.status && before.lastTransitionTime
        ? before.lastTransitionTime
        : at.toISOString(),
  };
}
