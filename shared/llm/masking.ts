// Masking: nothing user-defined leaves the process in a prompt. Every Kubernetes name (namespaces,
// objects, containers, images, nodes, label values, hosts, IPs, uids) becomes a token such as
// `ns-3f9a1c` — the first hex digits of HMAC-SHA256(key, name) — and the mapping stays here, so
// the model's answer can be unmasked. Tokens are deterministic for one key: the same name is the
// same token in every prompt, which lets a model (and a cache) see that two findings share an
// object without ever seeing it. Secret-looking values are scrubbed first and never restored.
import { createHmac } from "node:crypto";

/** Token prefixes by kind; anything else recognised by shape gets `id-`. */
const prefixes: Record<string, string> = {
  namespace: "ns",
  pod: "pod",
  deployment: "deploy",
  replicaset: "rs",
  statefulset: "sts",
  daemonset: "ds",
  job: "job",
  cronjob: "cj",
  service: "svc",
  endpoints: "ep",
  endpointslice: "eps",
  ingress: "ing",
  ingressclass: "ingc",
  persistentvolumeclaim: "pvc",
  persistentvolume: "pv",
  storageclass: "sc",
  node: "node",
  horizontalpodautoscaler: "hpa",
  poddisruptionbudget: "pdb",
  networkpolicy: "netpol",
  configmap: "cm",
  secret: "secret",
  container: "ctr",
  image: "img",
  host: "host",
  ip: "ip",
  label: "val",
  validatingwebhookconfiguration: "vwc",
  mutatingwebhookconfiguration: "mwc",
};

const tokenShape = /^[a-z]+-[0-9a-f]{6,64}$/;

// Values that must not reach the model, even masked: credentials in logs and event messages.
const secretPatterns: Array<[RegExp, string]> = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, "[redacted-key]"],
  [/\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, "$1 [redacted]"],
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, "[redacted-jwt]"],
  [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/g, "[redacted]"],
  [/\b(sk|pk|rk)-[A-Za-z0-9_-]{16,}/g, "[redacted]"],
  [
    /\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|glpat-[A-Za-z0-9_-]{20,})/g,
    "[redacted]",
  ],
  [/(\w+:\/\/)[^\s/:@]+:[^\s/@]+@/g, "$1[redacted]@"],
  // key="a quoted value", --password value, --token=value
  [
    /\b((?:[a-z0-9]+[_-])*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|client[_-]?secret|credentials?|auth))(\s*[:=]\s*)(["'])[^"'\n]*\3/gi,
    "$1$2$3[redacted]$3",
  ],
  [
    /(--(?:[a-z0-9]+-)*(?:password|passwd|secret|token|api-?key|access-key|private-key|client-secret|credentials?)(?:=|\s+))(?!\[redacted\])\S+/gi,
    "$1[redacted]",
  ],
  [
    /\b((?:[a-z0-9]+[_-])*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|client[_-]?secret|credentials?|auth))(["']?\s*[:=]\s*["']?)[^\s"',;&]+/gi,
    "$1$2[redacted]",
  ],
  // Long opaque mixed-case strings (base64) are keys; Kubernetes names are never mixed-case.
  [
    /(?<![A-Za-z0-9+/=_-])(?=[A-Za-z0-9+/_-]*[A-Z])(?=[A-Za-z0-9+/_-]*[a-z])(?=[A-Za-z0-9+/_-]*\d)[A-Za-z0-9+/_-]{32,}={0,2}(?![A-Za-z0-9+/=_-])/g,
    "[redacted]",
  ],
];

/** Removes credentials from a log line or event message. */
export function scrubSecrets(text: string): string {
  return secretPatterns.reduce((t, [re, by]) => t.replace(re, by), text);
}

// One scan of the text, left to right; the first alternative that matches at a position wins.
const scanner = new RegExp(
  [
    // Vocabulary that looks like a name: field paths, well-known label/taint/annotation keys.
    String.raw`(?<keep>\b(?:spec|status|metadata)(?:\.[A-Za-z][A-Za-z0-9]*)+|(?:[a-z0-9-]+\.)*(?:kubernetes\.io|k8s\.io|x-k8s\.io)(?:\/[A-Za-z0-9._-]+)?|\bnvidia\.com\/gpu\b|\bsha256\b)`,
    String.raw`(?<ip>(?<![A-Za-z0-9.:-])(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?(?:\/\d{1,2})?(?![A-Za-z0-9.-])|(?<![A-Za-z0-9:])(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?![A-Za-z0-9:]))`,
    // An image reference with a tag or digest: registry.io:5000/team/app:1.2, nginx:1.25, app@sha256:…
    String.raw`(?<image>(?<![A-Za-z0-9._/-])[a-z0-9][a-z0-9._-]*(?::\d+)?(?:\/[a-z0-9][a-z0-9._-]*)*(?::[A-Za-z0-9_][A-Za-z0-9._-]*|@sha256:[0-9a-f]{6,64})(?![A-Za-z0-9._-]))`,
    String.raw`(?<host>(?<![A-Za-z0-9._-])[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?![A-Za-z0-9_-]|\.[A-Za-z0-9]))`,
    String.raw`(?<word>(?<![A-Za-z0-9_-])[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?(?![A-Za-z0-9_-]))`,
  ].join("|"),
  "g",
);

/** Words after which the next word is a name ("container app", "namespace shop"). */
const nameAfter =
  /(?:^|[\s(,;:])(namespace|pod|pods|container|node|service|secret|configmap|deployment|replicaset|statefulset|daemonset|job|cronjob|ingress|claim|persistentvolumeclaim|storageclass|class|image|host|hostname|serviceaccount|priorityclass|label|taint)\s+["'`]?$/i;

const nameAfterWords =
  "namespace pod pods container containers node nodes service secret configmap deployment replicaset statefulset daemonset job cronjob ingress claim class image host label taint annotation";

/** English words that follow such a keyword without being a name. */
const stopwords = new Set(
  `a an the is was are were has have had not no and or of for to in on at by with without from as but if it its this that which does did can cannot could will would should may might must be been being requires required uses using named called failed exited running pending ready restarted ${nameAfterWords}`.split(
    " ",
  ),
);

/** Hyphenated English words that are not names. */
const vocabulary = new Set([
  "back-off",
  "non-root",
  "start-up",
  "read-only",
  "built-in",
  "out-of-memory",
  "cluster-scoped",
  "re-run",
  "x-forwarded-for",
]);

/** A number, quantity, duration, count or exit code: meaning without identity. */
const quantity =
  /^(?:\d+(?:\.\d+)*(?:[KMGTPE]i?|[kmunµ]|%|ms|s|m|h|d|x)?|(?:\d+h)?(?:\d+m)?(?:\d+(?:\.\d+)?s)?|x\d+|v\d+(?:beta\d+|alpha\d+)?|[1-5]xx|0x[0-9a-f]+)$/i;

export interface Masker {
  /** The token for a name of a kind (kind decides only the token's prefix). */
  token(kind: string, value: string): string;
  /** Scrubs secrets, then masks every name it knows or recognises by shape. */
  maskText(text: string): string;
  /** Replaces every token this masker issued with its name; unknown tokens are left alone. */
  unmaskText(text: string): string;
  /** Token → name, for inspection and tests. */
  readonly mapping: ReadonlyMap<string, string>;
}

/**
 * A masker for one prompt and its answer. `key` comes from PROPHET_MASK_KEY (see ADR 0005).
 * `ownWords`: snake_case words of the caller's own prompt (action and tool names) that are sent
 * as they are; words without an underscore are ignored, as they could be Kubernetes names.
 */
export function createMasker(key: string | Uint8Array, ownWords: Iterable<string> = []): Masker {
  const keep = new Set([...ownWords].filter((w) => w.includes("_")));
  const byName = new Map<string, string>();
  const byToken = new Map<string, string>();
  const hex = (value: string) => createHmac("sha256", key).update(value).digest("hex");

  function token(kind: string, value: string): string {
    const known = byName.get(value);
    if (known) return known;
    if (byToken.has(value)) return value; // already a token
    const prefix = prefixes[kind.toLowerCase()] ?? "id";
    const h = hex(value);
    // 24 bits are plenty for one prompt; a collision lengthens the token rather than merge names.
    let len = 6;
    while (byToken.has(`${prefix}-${h.slice(0, len)}`) && len < 64) len += 2;
    const t = `${prefix}-${h.slice(0, len)}`;
    byName.set(value, t);
    byToken.set(t, value);
    return t;
  }

  function classify(word: string, before: string): string | undefined {
    if (byName.has(word)) return byName.get(word);
    // kubelet writes pods as name_namespace(uid): mask the parts, so each keeps its own token.
    if (word.includes("_") && /[a-z]/.test(word))
      return word
        .split("_")
        .map((p) => (p ? (byName.get(p) ?? (quantity.test(p) ? p : token("id", p))) : p))
        .join("_");
    if (byToken.has(word) || tokenShape.test(word)) return undefined;
    if (quantity.test(word) || vocabulary.has(word.toLowerCase())) return undefined;
    const quoted = /["'`]$/.test(before);
    // A label value (app=cart), a path segment (/files) or key: value without a space.
    const labelValue = /[=:/]$/.test(before) && !/\s[=:/]$/.test(before);
    if (quoted || labelValue) return token("id", word);
    const kw = nameAfter.exec(before)?.[1];
    if (kw && !stopwords.has(word.toLowerCase())) return token(kw.replace(/s$/, ""), word);
    // Identifier-shaped: lowercase with a digit, a hyphen or an underscore (pod names, uids, tags).
    if (/[-_\d]/.test(word) && /[a-z]/.test(word) && !/^[A-Z]/.test(word)) return token("id", word);
    if (/^[0-9a-f]{8,}$/i.test(word)) return token("id", word);
    return undefined;
  }

  function maskText(text: string): string {
    const clean = scrubSecrets(text);
    return clean.replace(scanner, (m, ...args) => {
      const offset = args[args.length - 3] as number;
      const g = args[args.length - 1] as Record<string, string | undefined>;
      if (g.keep || keep.has(m)) return m;
      if (byName.has(m)) return byName.get(m)!;
      if (g.ip) return /[0-9a-f]/i.test(m) ? token("ip", m) : m;
      if (g.image) return token("image", m);
      if (g.host) return /^\d+(\.\d+)*$/.test(m) ? m : token("host", m);
      return classify(m, clean.slice(Math.max(0, offset - 40), offset)) ?? m;
    });
  }

  function unmaskText(text: string): string {
    return text.replace(/(?<![A-Za-z0-9])[a-z]+-[0-9a-f]{6,64}(?![A-Za-z0-9])/g, (t) => byToken.get(t) ?? t);
  }

  return { token, maskText, unmaskText, mapping: byToken };
}

/** Applies `f` to every string in a JSON-like value (object keys excluded). */
export function mapStrings<T>(value: T, f: (s: string) => string): T {
  if (typeof value === "string") return f(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => mapStrings(v, f)) as T;
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, f)])) as T;
  return value;
}
