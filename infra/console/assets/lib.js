// Small helpers every page uses: building elements (text is always set as text, never parsed as
// HTML), the JSON API with the session's CSRF token, the live status line, formatting.
/* global document, fetch, localStorage, Node, setTimeout, clearTimeout */

/** h("a", { href: "#/x", class: "c" }, "text", child): an element; null/false children are skipped. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function parse(res) {
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, body.message ?? `${res.status} ${res.statusText}`);
  return body;
}

export const getJson = (path) => fetch(path, { headers: { accept: "application/json" } }).then(parse);

const csrf = () => document.querySelector('meta[name="prophet-csrf"]')?.content ?? "";

/** A state-changing request: same-origin, with the token the host checks against its cookie. */
export const postJson = (path, data) =>
  fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", accept: "application/json", "x-prophet-csrf": csrf() },
    body: JSON.stringify(data),
  }).then(parse);

/** Tells screen readers and sighted users what just happened (the status line is aria-live). */
export function announce(message, kind = "info") {
  const el = document.getElementById("status");
  if (!el) return;
  el.textContent = message;
  el.dataset.kind = kind;
}

export const remembered = {
  get name() {
    return localStorage.getItem("prophet.approver") ?? "";
  },
  set name(v) {
    localStorage.setItem("prophet.approver", v);
  },
};

export function time(v) {
  if (!v) return "—";
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? String(v) : d.toISOString().replace("T", " ").slice(0, 19) + "Z";
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  const s = Math.abs(seconds);
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}

export const pct = (v, digits = 1) =>
  v === null || v === undefined ? "—" : `${(v * 100).toFixed(digits)} %`;

export const num = (v, digits = 2) =>
  v === null || v === undefined || !Number.isFinite(Number(v)) ? "—" : Number(v).toFixed(digits);

export function badge(text, kind = text) {
  return h(
    "span",
    {
      class: `badge badge-${String(kind)
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")}`,
    },
    text,
  );
}

/** A table with a caption, column headings and rows of cells (nodes or text). */
export function table(caption, headings, rows, empty = "Nothing to show.") {
  if (rows.length === 0) return h("p", { class: "empty" }, empty);
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      h("caption", {}, caption),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          headings.map((t) => h("th", { scope: "col" }, t)),
        ),
      ),
      h(
        "tbody",
        {},
        rows.map((r) =>
          h(
            "tr",
            {},
            r.map((c) => h("td", {}, c)),
          ),
        ),
      ),
    ),
  );
}

export function errorBox(err) {
  return h("p", { class: "error", role: "alert" }, err instanceof Error ? err.message : String(err));
}

export function heading(text, ...rest) {
  return h("h1", { tabindex: "-1" }, text, ...rest);
}

/** Runs `fn` again `ms` after each run ends (the page runs it once first); the returned function stops it. */
export function every(ms, fn) {
  let timer;
  let stopped = false;
  const run = async () => {
    try {
      await fn();
    } finally {
      if (!stopped) timer = setTimeout(run, ms);
    }
  };
  timer = setTimeout(run, ms);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
