// Tool outputs have a size limit: an agent's context is small and a cluster is large. A result
// that does not fit loses the tail of its longest lists (halved until it fits) and long strings
// are clipped; the result then says what was left out and how to narrow the question.
export interface Bounded {
  text: string;
  truncated: boolean;
}

const maxString = 4_000;

function clipStrings(v: unknown): unknown {
  if (typeof v === "string")
    return v.length > maxString ? `${v.slice(0, maxString)}… [${v.length - maxString} characters cut]` : v;
  if (Array.isArray(v)) return v.map(clipStrings);
  if (v && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clipStrings(x)]));
  return v;
}

/** The longest array anywhere in the value (by serialised length), with its holder. */
function longestArray(v: unknown): unknown[] | undefined {
  let best: unknown[] | undefined;
  let bestLen = 0;
  const walk = (x: unknown) => {
    if (Array.isArray(x)) {
      const len = JSON.stringify(x).length;
      if (x.length > 1 && len > bestLen) {
        best = x;
        bestLen = len;
      }
      x.forEach(walk);
    } else if (x && typeof x === "object") Object.values(x).forEach(walk);
  };
  walk(v);
  return best;
}

/** Serialises a JSON value within `maxChars`, cutting lists (and noting it) when it must. */
export function boundJson(value: unknown, maxChars: number): Bounded {
  const full = JSON.stringify(value, null, 1);
  if (full.length <= maxChars) return { text: full, truncated: false };
  const copy = clipStrings(JSON.parse(full)) as unknown;
  let dropped = 0;
  let text = JSON.stringify(copy, null, 1);
  for (let i = 0; i < 200 && text.length > maxChars; i++) {
    const arr = longestArray(copy);
    if (!arr) break;
    const cut = Math.ceil(arr.length / 2);
    dropped += arr.length - cut;
    arr.length = cut;
    text = JSON.stringify(copy, null, 1);
  }
  const note = `output truncated to ${maxChars} characters (${full.length} in full${dropped ? `, ${dropped} list items left out` : ""}): narrow the request (limit, namespace, cluster, a shorter range)`;
  const withNote =
    copy && typeof copy === "object" && !Array.isArray(copy)
      ? JSON.stringify({ truncated: note, ...copy }, null, 1)
      : JSON.stringify({ truncated: note, items: copy }, null, 1);
  if (withNote.length <= maxChars) return { text: withNote, truncated: true };
  return {
    text: `${withNote.slice(0, Math.max(0, maxChars - note.length - 8))}\n… ${note}`,
    truncated: true,
  };
}
