/**
 * The cluster port: the few reads diagnosis needs from one Kubernetes cluster. Objects come back
 * in the API's JSON wire format (what `kubectl get -o json` prints), Secrets without their data.
 * The adapter over @kubernetes/client-node lives in shared/kube/; tests may pass any object
 * with these methods.
 */
import type { KubeEvent, KubeObject } from "../diagnosis/objects.js";

export interface ObjectRef {
  kind: string;
  /** Absent or "" for cluster-scoped objects. */
  namespace?: string;
  name: string;
}

export interface LogOptions {
  /** The previous (crashed) container instance instead of the running one. */
  previous?: boolean;
  /** At most this many lines from the end. */
  tailLines?: number;
}

export interface ClusterPort {
  /** The cluster's name (kubeconfig context or configured name), for messages and audit. */
  readonly name: string;
  /** Every object of a kind, in one namespace or (namespace undefined) all of them. A kind the
   * server does not serve lists as empty. */
  list(kind: string, namespace?: string): Promise<KubeObject[]>;
  get(kind: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined>;
  /** The tail of a container's log; "" when there is none. */
  podLogs(namespace: string, pod: string, container: string, opts?: LogOptions): Promise<string>;
  /** Core v1 Events about one object. */
  events(involvedObject: ObjectRef): Promise<KubeEvent[]>;
}
