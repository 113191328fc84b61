// The console's router: one page module per hash route (#/incidents, #/incidents/<id>, …). Each
// page renders into <main> and may return a function that stops its refresh timer.
/* global window, document */
import { announce, errorBox } from "./lib.js";

const routes = [
  [/^#\/incidents\/(.+)$/, () => import("./pages/incident.js")],
  [/^#\/incidents$/, () => import("./pages/incidents.js")],
  [/^#\/approvals$/, () => import("./pages/approvals.js")],
  [/^#\/forecasts$/, () => import("./pages/forecasts.js")],
  [/^#\/slos$/, () => import("./pages/slos.js")],
  [/^#\/network$/, () => import("./pages/network.js")],
  [/^#\/audit$/, () => import("./pages/audit.js")],
  [/^#\/clusters$/, () => import("./pages/clusters.js")],
];

let stop = () => {};
let navigation = 0;
let firstPage = true;

async function show() {
  const hash = window.location.hash || "#/incidents";
  const found = routes.find(([re]) => re.test(hash));
  if (!found) {
    window.location.hash = "#/incidents";
    return;
  }
  const [re, load] = found;
  const params = (re.exec(hash) ?? []).slice(1).map(decodeURIComponent);
  stop();
  stop = () => {};
  const mine = ++navigation;
  for (const a of document.querySelectorAll("nav a")) {
    const current = hash === a.getAttribute("href") || hash.startsWith(`${a.getAttribute("href")}/`);
    if (current) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const main = document.getElementById("main");
  try {
    const page = await load();
    if (mine !== navigation) return;
    main.replaceChildren();
    const cleanup = await page.render(main, params);
    if (mine !== navigation) {
      cleanup?.();
      return;
    }
    stop = cleanup ?? (() => {});
  } catch (err) {
    main.replaceChildren(errorBox(err));
  }
  // After a navigation, keyboard and screen-reader users land on the new page's heading, not at
  // the old position; the first page keeps the browser's own start (the skip link comes first).
  const h1 = main.querySelector("h1");
  document.title = `${h1?.textContent ?? "Console"} · Prophet`;
  if (!firstPage) (h1 ?? main).focus();
  firstPage = false;
}

window.addEventListener("hashchange", () => {
  announce("");
  show();
});
show();
