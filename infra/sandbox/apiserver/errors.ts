// Kubernetes `Status` failures as typed values: the HTTP edge writes `toStatus()` with `code`.
import type { ResourceType } from "./resources.js";

export type StatusReason =
  | "BadRequest"
  | "NotFound"
  | "AlreadyExists"
  | "Conflict"
  | "Gone"
  | "Expired"
  | "Invalid"
  | "Forbidden"
  | "TooManyRequests"
  | "MethodNotAllowed"
  | "NotAcceptable"
  | "UnsupportedMediaType"
  | "RequestEntityTooLarge"
  | "InternalError";

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = "KubeApiError";
  }

  toStatus(): Record<string, unknown> {
    return {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

function qualified(rt: ResourceType): string {
  return rt.group ? `${rt.resource}.${rt.group}` : rt.resource;
}

function detailsOf(rt: ResourceType, name: string): StatusDetails {
  return rt.group ? { name, group: rt.group, kind: rt.resource } : { name, kind: rt.resource };
}

export const apiErrors = {
  badRequest: (message: string) => new KubeApiError(400, "BadRequest", message),
  notFound: (rt: ResourceType, name: string) =>
    new KubeApiError(404, "NotFound", `${qualified(rt)} "${name}" not found`, detailsOf(rt, name)),
  namespaceNotFound: (namespace: string) =>
    new KubeApiError(404, "NotFound", `namespaces "${namespace}" not found`, {
      name: namespace,
      kind: "namespaces",
    }),
  pathNotFound: () => new KubeApiError(404, "NotFound", "the server could not find the requested resource"),
  alreadyExists: (rt: ResourceType, name: string) =>
    new KubeApiError(409, "AlreadyExists", `${qualified(rt)} "${name}" already exists`, detailsOf(rt, name)),
  conflict: (rt: ResourceType, name: string, why?: string) =>
    new KubeApiError(
      409,
      "Conflict",
      `Operation cannot be fulfilled on ${qualified(rt)} "${name}": ${
        why ?? "the object has been modified; please apply your changes to the latest version and try again"
      }`,
      detailsOf(rt, name),
    ),
  invalid: (rt: ResourceType, name: string, causes: StatusCause[]) =>
    new KubeApiError(
      422,
      "Invalid",
      `${rt.kind}${rt.group ? `.${rt.group}` : ""} "${name}" is invalid: ${causes
        .map((c) => `${c.field ? `${c.field}: ` : ""}${c.message ?? ""}`)
        .join(", ")}`,
      { ...detailsOf(rt, name), kind: rt.kind, causes },
    ),
  /** What an admission plugin's refusal looks like: `pods "web-" is forbidden: <why>`. */
  forbidden: (rt: ResourceType, name: string, why: string) =>
    new KubeApiError(
      403,
      "Forbidden",
      `${qualified(rt)} "${name}" is forbidden: ${why}`,
      detailsOf(rt, name),
    ),
  gone: (message: string) => new KubeApiError(410, "Expired", message),
  methodNotAllowed: (method: string) =>
    new KubeApiError(
      405,
      "MethodNotAllowed",
      `the server does not allow this method on the requested resource: ${method}`,
    ),
  unsupportedMediaType: (type: string) =>
    new KubeApiError(
      415,
      "UnsupportedMediaType",
      `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/merge-patch+json, application/json-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml (got ${type})`,
    ),
};
