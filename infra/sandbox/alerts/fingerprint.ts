// Moved to shared/events/fingerprint.ts (slo-check computes the same fingerprints).
export { fingerprint } from "../../../shared/events/fingerprint.js";
