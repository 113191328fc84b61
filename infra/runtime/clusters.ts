// The clusters a deployment serves besides its default one: the registry's file
// (PROPHET_CLUSTERS_FILE, only when set: a deployment never picks up ~/.prophet implicitly). The
// file is re-read when it changes, so `prophet clusters add` reaches a running host; each cluster's
// ports are made once and kept (their credentials refresh themselves, shared/clusters/port.ts).
import { statSync } from "node:fs";
import type { ClusterDefinition } from "../../shared/clusters/definition.js";
import type { ClusterDirectory } from "../../shared/function.js";
import type { ClusterPort } from "../../shared/ports/cluster.js";
import type { MetricsPort } from "../../shared/ports/metrics.js";

export async function clusterDirectory(
  file: string | undefined,
  opts: { informers?: boolean } = {},
): Promise<ClusterDirectory | undefined> {
  if (!file) return undefined;
  const [{ ClusterRegistry }, { readClustersFile }, { prometheusMetrics }, { enableInformers }] =
    await Promise.all([
      import("../../shared/clusters/registry.js"),
      import("../../shared/clusters/file.js"),
      import("../../shared/metrics/prometheus.js"),
      import("../../shared/kube/snapshot.js"),
    ]);
  const registry = new ClusterRegistry({ file });
  let stamp = "";
  let defs = new Map<string, ClusterDefinition>();
  const ports = new Map<string, { def: ClusterDefinition; kube: ClusterPort; metrics?: MetricsPort }>();
  const current = (): Map<string, ClusterDefinition> => {
    let now = "missing";
    try {
      const s = statSync(file);
      now = `${s.mtimeMs}:${s.size}`;
    } catch {
      // No file yet: no clusters besides the default one.
    }
    if (now !== stamp) {
      // A bad file keeps the clusters we had and says why on the next event's refusal.
      defs = new Map(readClustersFile(file).clusters.map((c) => [c.name, c]));
      stamp = now;
    }
    return defs;
  };
  current(); // a bad file stops start-up, naming it
  return {
    names: () => [...current().keys()].sort(),
    ports(name) {
      const def = current().get(name);
      if (!def) return undefined;
      const known = ports.get(name);
      // Same definition: same ports (their caches and connections); changed: new ones.
      if (known && JSON.stringify(known.def) === JSON.stringify(def)) return known;
      const kube = registry.port(name);
      if (opts.informers) enableInformers(kube);
      const made = {
        def,
        kube,
        ...(def.prometheus ? { metrics: prometheusMetrics({ url: def.prometheus }) } : {}),
      };
      ports.set(name, made);
      return made;
    },
  };
}
