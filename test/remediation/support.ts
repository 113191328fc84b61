// Action specs run against the sandbox cluster through @kubernetes/client-node, exactly as
// production does: the sandbox on a free loopback port, its manual clock, and a ClusterPort
// (shared/kube/cluster-port.ts) from the kubeconfig it writes.
import { startSandbox, type Sandbox } from "../../infra/sandbox/index.js";
import type { Scenario } from "../../infra/sandbox/scenario.js";
import { kubeClusterPort } from "../../shared/kube/cluster-port.js";
import type { ClusterPort } from "../../shared/ports/cluster.js";
import { silentLogger } from "../../shared/ports/log.js";
import {
  defaultLimits,
  type ActionContext,
  type BlastRadiusLimits,
} from "../../shared/remediation/action.js";

export interface ActionSandbox {
  sb: Sandbox;
  port: ClusterPort;
  ctx: ActionContext;
  /** Advance the simulated clock (controllers reconcile each 1 s tick). */
  advance(seconds: number): void;
  close(): Promise<void>;
}

/**
 * The default scenario (shop/frontend with an HPA and a PDB, shop/cart with a ConfigMap and a
 * Secret, a StatefulSet, a DaemonSet, a CronJob, three node pools) unless another is given.
 */
export async function startActionSandbox(
  opts: { scenario?: Scenario | string; seed?: number; limits?: Partial<BlastRadiusLimits> } = {},
): Promise<ActionSandbox> {
  const sb = await startSandbox({ seed: opts.seed ?? 1, scenario: opts.scenario, flowLog: false });
  const port = kubeClusterPort({ kubeconfig: sb.kubeconfigPath });
  const ctx: ActionContext = {
    cluster: port,
    clock: sb.clock,
    log: silentLogger,
    limits: { ...defaultLimits, ...opts.limits },
    actor: "test",
    remediationId: "rem-test",
  };
  return {
    sb,
    port,
    ctx,
    advance: (seconds) => void sb.clock.advance(seconds * 1000),
    close: () => sb.close(),
  };
}
