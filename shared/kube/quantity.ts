// Kubernetes resource quantities: CPU in millicores, everything else in plain units (bytes, pods).
const binary: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50 };
const decimal: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

export function parseQuantity(value: unknown): number {
  if (typeof value === "number") return value;
  if (typeof value !== "string") return 0;
  const m = /^([0-9.]+(?:e[0-9]+)?)([A-Za-z]*)$/.exec(value.trim());
  if (!m) return 0;
  const n = Number(m[1]);
  const unit = m[2] ?? "";
  return n * (binary[unit] ?? decimal[unit] ?? 1);
}

export const milliCpu = (value: unknown): number => Math.round(parseQuantity(value) * 1000);

export function formatMilliCpu(m: number): string {
  return m % 1000 === 0 ? String(m / 1000) : `${m}m`;
}

export function formatBytes(b: number): string {
  if (b % 2 ** 30 === 0) return `${b / 2 ** 30}Gi`;
  if (b % 2 ** 20 === 0) return `${b / 2 ** 20}Mi`;
  if (b % 2 ** 10 === 0) return `${b / 2 ** 10}Ki`;
  return String(b);
}
