// A minimal OpenAPI v3 index: one document per group/version declaring, for each kind, a PATCH
// operation that accepts `fieldValidation`. That is what kubectl checks before `apply`/`create` to use
// server-side field validation; no schemas are published, so kubectl computes strategic merge patches
// from its built-in types and uses JSON merge patches for custom resources. /openapi/v2 answers 404.
import { createHash } from "node:crypto";
import type { ResourceCatalog, ResourceType } from "./resources.js";

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

function gvHash(resources: ResourceType[]): string {
  const h = createHash("sha512");
  for (const rt of resources) h.update(`${rt.resource}:${rt.kind}:${rt.namespaced};`);
  return h.digest("hex").slice(0, 32).toUpperCase();
}

export function openApiV3Index(catalog: ResourceCatalog): Record<string, unknown> {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  const seen = new Set<string>();
  for (const rt of catalog.all()) {
    const key = gvPath(rt.group, rt.version);
    if (seen.has(key)) continue;
    seen.add(key);
    const hash = gvHash(catalog.inGroupVersion(rt.group, rt.version));
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
  }
  return { paths };
}

const queryParams = ["dryRun", "fieldManager", "fieldValidation", "force"].map((name) => ({
  name,
  in: "query",
  description: name,
  schema: { type: name === "force" ? "boolean" : "string", uniqueItems: true },
}));

export function openApiV3Document(
  catalog: ResourceCatalog,
  group: string,
  version: string,
): Record<string, unknown> | undefined {
  const resources = catalog.inGroupVersion(group, version);
  if (!resources.length) return undefined;
  const paths: Record<string, unknown> = {};
  for (const rt of resources) {
    const base = `/${gvPath(group, version)}${rt.namespaced ? "/namespaces/{namespace}" : ""}/${rt.resource}/{name}`;
    paths[base] = {
      patch: {
        description: `partially update the specified ${rt.kind}`,
        operationId: `patch${rt.kind}`,
        parameters: queryParams,
        responses: { "200": { description: "OK" } },
        "x-kubernetes-action": "patch",
        "x-kubernetes-group-version-kind": { group, version, kind: rt.kind },
      },
    };
  }
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: "v1.32.0" },
    paths,
    components: { schemas: {} },
  };
}
