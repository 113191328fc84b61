// Query errors carry Prometheus' API error types: `bad_data` (400) for queries that cannot be parsed or are
// not supported here, `execution` (422) for queries that fail while being evaluated.

export type PromQLErrorType = "bad_data" | "execution";

export class PromQLError extends Error {
  readonly errorType: PromQLErrorType;
  constructor(errorType: PromQLErrorType, message: string) {
    super(message);
    this.name = "PromQLError";
    this.errorType = errorType;
  }
  get status(): number {
    return this.errorType === "bad_data" ? 400 : 422;
  }
}

export function parseError(message: string): PromQLError {
  return new PromQLError("bad_data", message);
}

export function unsupported(construct: string): PromQLError {
  return new PromQLError(
    "bad_data",
    `unsupported PromQL construct in the sandbox query engine: ${construct}`,
  );
}

export function executionError(message: string): PromQLError {
  return new PromQLError("execution", message);
}
