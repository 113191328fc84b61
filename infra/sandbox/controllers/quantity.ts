// Quantities live in shared/ (remediation sizes resources with them too).
export * from "../../../shared/kube/quantity.js";
