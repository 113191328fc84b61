// Masking of tool outputs (PROPHET_MCP_MASK=true): the same keyed tokens the LLM prompts use
// (shared/llm/masking.ts, PROPHET_MASK_KEY), so an agent sees `ns-3f9a1c` and `pod-b72e04` instead
// of names. Tokens an output issued are remembered (bounded), so an agent can pass a token back as
// an argument and the tool reads the real object; the mapping never leaves the process.
import { createMasker } from "../llm/masking.js";

/** Keys whose string values are names of that kind; a `Kind/ns/name` value names each part. */
const nameKeys: Record<string, string> = {
  namespace: "namespace",
  name: "name",
  pod: "pod",
  node: "node",
  container: "container",
  service: "service",
  deployment: "deployment",
  statefulset: "statefulset",
  daemonset: "daemonset",
  workload: "id",
  identity: "id",
  owner: "id",
  parent: "id",
  subject: "id",
  ownerKey: "id",
  targetKey: "id",
  persistentvolumeclaim: "persistentvolumeclaim",
  image: "image",
  instance: "host",
  host: "host",
  app: "label",
  from: "id",
  to: "id",
  id: "id",
};

const isoTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/;
const kindLike = /^[A-Z][A-Za-z]+$/;
const tokenLike = /^[a-z]+-[0-9a-f]{6,64}$/;

export interface NameMask {
  /** The value with every name replaced by its token. */
  maskOutput<T>(value: T): T;
  /** The value with every token an output issued replaced by its name. */
  unmaskInput<T>(value: T): T;
}

function mapDeep(v: unknown, f: (s: string) => string): unknown {
  if (typeof v === "string") return f(v);
  if (Array.isArray(v)) return v.map((x) => mapDeep(x, f));
  if (v && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [f(k), mapDeep(x, f)]));
  return v;
}

export function createNameMask(
  key: string | Uint8Array,
  opts: { keep?: Iterable<string>; maxRemembered?: number } = {},
): NameMask {
  const keep = [...(opts.keep ?? [])];
  const keepSet = new Set(keep);
  const max = opts.maxRemembered ?? 50_000;
  const remembered = new Map<string, string>();

  function hints(v: unknown, add: (kind: string, value: string) => void): void {
    if (Array.isArray(v)) for (const x of v) hints(x, add);
    else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        const kind = nameKeys[k];
        if (typeof x === "string" && kind && !(k === "id" && tokenLike.test(x))) {
          // `name` of an action (snake_case) or a policy id stays: it is the product's word.
          for (const part of x.split("/"))
            if (
              part &&
              !kindLike.test(part) &&
              !keepSet.has(part) &&
              !tokenLike.test(part) &&
              !isoTime.test(part)
            )
              add(kind, part);
        } else hints(x, add);
      }
    }
  }

  return {
    maskOutput<T>(value: T): T {
      const masker = createMasker(key, keep);
      const plain = JSON.parse(JSON.stringify(value ?? null)) as unknown;
      hints(plain, (kind, name) => masker.token(kind, name));
      const out = mapDeep(plain, (s) => (isoTime.test(s) || keepSet.has(s) ? s : masker.maskText(s))) as T;
      for (const [token, name] of masker.mapping) {
        remembered.delete(token);
        remembered.set(token, name);
      }
      while (remembered.size > max) remembered.delete(remembered.keys().next().value!);
      return out;
    },
    unmaskInput<T>(value: T): T {
      return mapDeep(value, (s) =>
        s.replace(/(?<![A-Za-z0-9])[a-z]+-[0-9a-f]{6,64}(?![A-Za-z0-9])/g, (t) => remembered.get(t) ?? t),
      ) as T;
    },
  };
}
