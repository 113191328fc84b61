// Legacy discovery documents (/api, /apis, /api/v1, /apis/<group>/<version>) built from the catalog.
// Aggregated discovery is not offered: clients asking for it get the legacy lists and fall back.
import { createHash } from "node:crypto";
import { groupVersion, type ResourceCatalog, type ResourceType } from "./resources.js";

const allVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

function storageVersionHash(rt: ResourceType): string {
  return createHash("sha256").update(`${rt.group}/${rt.version}/${rt.kind}`).digest("base64").slice(0, 11);
}

function subresourceEntries(rt: ResourceType): Record<string, unknown>[] {
  return rt.subresources.map((sub) => {
    const base = { name: `${rt.resource}/${sub}`, singularName: "", namespaced: rt.namespaced };
    switch (sub) {
      case "status":
        return { ...base, kind: rt.kind, verbs: ["get", "patch", "update"] };
      case "scale":
        return {
          ...base,
          group: "autoscaling",
          version: "v1",
          kind: "Scale",
          verbs: ["get", "patch", "update"],
        };
      case "eviction":
        return { ...base, group: "policy", version: "v1", kind: "Eviction", verbs: ["create"] };
      case "binding":
        return { ...base, kind: "Binding", verbs: ["create"] };
      case "log":
        return { ...base, kind: "Pod", verbs: ["get"] };
      case "ephemeralcontainers":
        return { ...base, kind: "Pod", verbs: ["get", "patch", "update"] };
    }
  });
}

export function apiResourceList(
  catalog: ResourceCatalog,
  group: string,
  version: string,
): Record<string, unknown> | undefined {
  const resources = catalog.inGroupVersion(group, version);
  if (!resources.length) return undefined;
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: group ? `${group}/${version}` : version,
    resources: resources.flatMap((rt) => [
      {
        name: rt.resource,
        singularName: rt.singular,
        namespaced: rt.namespaced,
        kind: rt.kind,
        verbs: allVerbs,
        ...(rt.shortNames.length ? { shortNames: rt.shortNames } : {}),
        ...(rt.categories.length ? { categories: rt.categories } : {}),
        storageVersionHash: storageVersionHash(rt),
      },
      ...subresourceEntries(rt),
    ]),
  };
}

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

function apiGroup(name: string, versions: string[]): Record<string, unknown> {
  const entries = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { name, versions: entries, preferredVersion: entries[0] };
}

export function apiGroupList(catalog: ResourceCatalog): Record<string, unknown> {
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: catalog.groups().map((g) => apiGroup(g.name, g.versions)),
  };
}

export function apiGroupDoc(catalog: ResourceCatalog, name: string): Record<string, unknown> | undefined {
  const g = catalog.groups().find((x) => x.name === name);
  return g && { kind: "APIGroup", apiVersion: "v1", ...apiGroup(g.name, g.versions) };
}

export function version(): Record<string, unknown> {
  return {
    major: "1",
    minor: "32",
    gitVersion: "v1.32.0-prophet-sandbox",
    gitCommit: "0000000000000000000000000000000000000000",
    gitTreeState: "clean",
    buildDate: "2025-01-01T00:00:00Z",
    goVersion: "go1.23.4",
    compiler: "gc",
    platform: "linux/amd64",
  };
}

export { groupVersion };
