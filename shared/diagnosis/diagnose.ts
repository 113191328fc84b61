// Runs every analyzer over a view and returns the findings in a stable order.
import type { Analyzer } from "./analyzer.js";
import { analyzers as registry } from "./analyzers/index.js";
import type { ClusterView } from "./cluster-view.js";
import type { Finding } from "./finding.js";

export interface DiagnoseOptions {
  /** Only report objects in this namespace (cluster-scoped objects are always included). */
  namespace?: string;
  analyzers?: readonly Analyzer[];
}

export function diagnose(view: ClusterView, opts: DiagnoseOptions = {}): Finding[] {
  const findings = (opts.analyzers ?? registry).flatMap((a) => a.analyze(view));
  const ns = opts.namespace;
  return ns === undefined ? findings : findings.filter((f) => f.namespace === "" || f.namespace === ns);
}
