// PersistentVolumeClaims: Pending because provisioning failed (quota, capacity, a provisioner
// error: the Warning event says which), or because its StorageClass does not exist. A claim
// waiting for its first consumer or for an external provisioner is normal and stays quiet.
import type { Analyzer } from "../analyzer.js";
import { makeFinding } from "../analyzer.js";
import type { Finding } from "../finding.js";
import { specOf, statusOf } from "../objects.js";

interface PvcSpec {
  storageClassName?: string;
  volumeName?: string;
}

const problemEvents = new Set(["ProvisioningFailed", "FailedBinding", "ClaimLost", "VolumeMismatch"]);

export const persistentVolumeClaimAnalyzer: Analyzer = {
  kind: "PersistentVolumeClaim",
  analyze(view) {
    return view.list("PersistentVolumeClaim").flatMap((pvc) => {
      const spec = specOf<PvcSpec>(pvc);
      const phase = statusOf<{ phase?: string }>(pvc).phase;
      const out: Finding[] = [];
      if (phase === "Lost") {
        out.push(
          makeFinding(view, pvc, "ClaimLost", `claim lost its volume ${spec.volumeName ?? ""}`.trim()),
        );
        return out;
      }
      if (phase !== "Pending") return out;
      const sc = spec.storageClassName;
      if (sc && !view.has("StorageClass", undefined, sc)) {
        out.push(
          makeFinding(
            view,
            pvc,
            "StorageClassNotFound",
            `claim is Pending: StorageClass ${sc} does not exist`,
          ),
        );
        return out;
      }
      const failures = view.warnings(pvc).filter((e) => problemEvents.has(e.reason ?? ""));
      const last = failures.at(-1);
      if (last) {
        const text = (last.message ?? "").trim();
        let cause = "volume provisioning failed";
        if (/quota/i.test(text)) cause = "volume provisioning failed: a storage quota is exceeded";
        else if (/no persistent volumes available|no volume plugin/i.test(text))
          cause = "no PersistentVolume matches the claim";
        out.push(
          makeFinding(
            view,
            pvc,
            last.reason ?? "ProvisioningFailed",
            `claim is Pending${sc ? ` (StorageClass ${sc})` : ""}: ${cause}: ${text}`,
            {
              events: failures,
            },
          ),
        );
      }
      return out;
    });
  },
};
