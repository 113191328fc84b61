// Reading the request: Accept negotiation (JSON, Table, PartialObjectMetadata) and body decoding.
import type { IncomingMessage } from "node:http";
import { parse as parseYaml } from "yaml";
import { KubeApiError, apiErrors } from "./errors.js";
import { isRecord, type KubeObject } from "./types.js";

export type ResponseShape =
  { as: "object" } | { as: "table"; version: string } | { as: "metadata"; version: string };

/** The first Accept entry the server can produce decides; JSON or Table, never protobuf. */
export function negotiate(accept: string | undefined): ResponseShape {
  if (!accept) return { as: "object" };
  let sawUnsupported = false;
  for (const entry of accept.split(",")) {
    const [type = "", ...paramParts] = entry.split(";").map((s) => s.trim());
    const params = Object.fromEntries(
      paramParts.map((p) => p.split("=").map((s) => s.trim()) as [string, string]),
    );
    if (type !== "application/json" && type !== "*/*" && type !== "application/*") {
      sawUnsupported = true;
      continue;
    }
    if (!params.as) return { as: "object" };
    if (params.g !== "meta.k8s.io") continue;
    if (params.as === "Table") return { as: "table", version: params.v ?? "v1" };
    if (params.as === "PartialObjectMetadata" || params.as === "PartialObjectMetadataList") {
      return { as: "metadata", version: params.v ?? "v1" };
    }
  }
  if (sawUnsupported) {
    throw new KubeApiError(
      406,
      "NotAcceptable",
      `only the following media types are accepted: application/json`,
    );
  }
  return { as: "object" };
}

const maxBody = 16 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBody) throw new KubeApiError(413, "RequestEntityTooLarge", "request entity too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function mediaType(req: IncomingMessage): string {
  return (req.headers["content-type"] ?? "application/json").split(";")[0]?.trim().toLowerCase() ?? "";
}

export function decode(body: Buffer, type: string): unknown {
  const text = body.toString("utf8");
  if (!text.trim()) return undefined;
  try {
    if (type.includes("yaml")) return parseYaml(text) as unknown;
    if (type.includes("json") || type === "*/*" || type === "") return JSON.parse(text) as unknown;
  } catch (err) {
    throw apiErrors.badRequest(`error decoding request body: ${(err as Error).message}`);
  }
  if (type.includes("protobuf") || type.includes("cbor")) throw apiErrors.unsupportedMediaType(type);
  throw apiErrors.unsupportedMediaType(type);
}

export function decodeObject(body: Buffer, type: string): KubeObject {
  const value = decode(body, type);
  if (!isRecord(value)) throw apiErrors.badRequest("the request body must be a JSON object");
  const metadata = isRecord(value.metadata) ? value.metadata : {};
  return { ...value, metadata } as KubeObject;
}
