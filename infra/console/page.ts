// The console's one HTML page: a skip link, the navigation, a live region and a <main> the
// browser-side router fills. The session's CSRF token is written into the page (the cookie that
// holds the same value is HttpOnly, so scripts cannot read it there).

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

export const consolePages: ReadonlyArray<{ path: string; label: string }> = [
  { path: "#/incidents", label: "Incidents" },
  { path: "#/approvals", label: "Approvals" },
  { path: "#/forecasts", label: "Forecasts" },
  { path: "#/slos", label: "SLOs" },
  { path: "#/network", label: "Network" },
  { path: "#/audit", label: "Audit log" },
  { path: "#/clusters", label: "Clusters" },
];

export function consolePage(opts: { csrfToken: string; cluster: string }): string {
  const nav = consolePages.map((p) => `<li><a href="${p.path}">${escape(p.label)}</a></li>`).join("");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="prophet-csrf" content="${escape(opts.csrfToken)}">
<meta name="prophet-cluster" content="${escape(opts.cluster)}">
<title>Prophet console</title>
<link rel="stylesheet" href="/console/style.css">
<script type="module" src="/console/app.js"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<p class="brand"><a href="#/incidents">Prophet</a> <span class="muted">${escape(opts.cluster)}</span></p>
<nav aria-label="Console"><ul>${nav}</ul></nav>
</header>
<div id="status" class="status" role="status" aria-live="polite"></div>
<main id="main" tabindex="-1"><p>Loading…</p></main>
<noscript><p>The console needs JavaScript. The JSON API is at <a href="/api/incidents">/api/incidents</a>.</p></noscript>
</body>
</html>`;
}
