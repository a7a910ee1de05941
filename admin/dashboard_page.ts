/**
 * The dashboard page: hand-written HTML and CSS (light and dark, cards,
 * responsive), with its script from `dashboard_script.ts` inline. No CDN,
 * no build step: the router serves this string as it is.
 *
 * @module
 */

import { DASHBOARD_SCRIPT } from "./dashboard_script.ts";

const STYLE = `
:root{--bg:#f4f6f8;--card:#fff;--fg:#17212b;--muted:#66727f;--line:#e3e8ee;--accent:#1f9d6b;
--accent2:#3b74e0;--warn:#d98a00;--bad:#d64545;--chip:#eef2f5;--shadow:0 1px 2px rgba(16,24,40,.06),0 1px 3px rgba(16,24,40,.08);
color-scheme:light}
:root[data-theme=dark]{--bg:#0f141a;--card:#161d25;--fg:#e6edf3;--muted:#8b98a5;--line:#26313c;--accent:#34c88a;
--accent2:#6e9cff;--warn:#f0b429;--bad:#ff6b6b;--chip:#1f2933;--shadow:none;color-scheme:dark}
@media (prefers-color-scheme:dark){:root:not([data-theme=light]){--bg:#0f141a;--card:#161d25;--fg:#e6edf3;
--muted:#8b98a5;--line:#26313c;--accent:#34c88a;--accent2:#6e9cff;--warn:#f0b429;--bad:#ff6b6b;--chip:#1f2933;
--shadow:none;color-scheme:dark}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,sans-serif;-webkit-font-smoothing:antialiased}
header{display:flex;align-items:center;gap:14px;padding:14px 24px;border-bottom:1px solid var(--line);
background:var(--card);position:sticky;top:0;z-index:2}
header h1{font-size:17px;margin:0;font-weight:650;letter-spacing:.2px}
header .sub{color:var(--muted);font-size:12.5px}
header .spacer{flex:1}
.pill{white-space:nowrap;display:inline-flex;align-items:center;gap:6px;padding:3px 10px;border-radius:999px;background:var(--chip);
font-size:12px;color:var(--muted)}
.pill i{width:8px;height:8px;border-radius:50%;background:var(--muted)}
.pill.live i{background:var(--accent);box-shadow:0 0 0 3px color-mix(in srgb,var(--accent) 25%,transparent)}
.pill.down i{background:var(--bad)}
button.theme{border:1px solid var(--line);background:var(--card);color:var(--fg);border-radius:8px;
padding:5px 10px;cursor:pointer;font:inherit;font-size:12.5px}
main{padding:20px 24px 40px;max-width:1500px;margin:0 auto;display:grid;gap:16px;
grid-template-columns:repeat(12,minmax(0,1fr))}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;box-shadow:var(--shadow);
padding:16px 18px;min-width:0}
.card h2{font-size:12px;text-transform:uppercase;letter-spacing:.7px;color:var(--muted);margin:0 0 10px;font-weight:600;
display:flex;justify-content:space-between;align-items:baseline}
.card h2 small{text-transform:none;letter-spacing:0;font-weight:500}
.kpis{grid-column:1/-1;display:grid;gap:16px;grid-template-columns:repeat(auto-fit,minmax(150px,1fr))}
.kpi .value{font-size:clamp(20px,2vw,26px);font-weight:650;font-variant-numeric:tabular-nums;letter-spacing:-.3px;
white-space:nowrap}
.kpi .note{color:var(--muted);font-size:12px;font-variant-numeric:tabular-nums}
.kpi.bad .value{color:var(--bad)}
.span-8{grid-column:span 8}.span-4{grid-column:span 4}.span-6{grid-column:span 6}.span-12{grid-column:1/-1}
@media (max-width:1100px){.span-8,.span-4,.span-6{grid-column:1/-1}}
.chart{position:relative;height:220px}
.chart canvas{width:100%;height:100%;display:block}
.legend{display:flex;gap:16px;font-size:12.5px;color:var(--muted);margin-top:8px}
.legend b{color:var(--fg);font-variant-numeric:tabular-nums;font-weight:600}
.legend i{display:inline-block;width:10px;height:3px;border-radius:2px;margin-right:6px;vertical-align:middle}
table{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums}
th{font-weight:600;color:var(--muted);font-size:12px;text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);
white-space:nowrap}
td{padding:7px 8px;border-bottom:1px solid var(--line);white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:260px}
tr:last-child td{border-bottom:0}
td.num,th.num{text-align:right}
.scroll{overflow:auto;max-height:420px}
.chip{display:inline-block;padding:1px 8px;border-radius:999px;background:var(--chip);font-size:12px}
.bar{position:relative}
.bar span{position:absolute;left:0;top:3px;bottom:3px;border-radius:4px;background:color-mix(in srgb,var(--accent2) 16%,transparent)}
.bar em{position:relative;font-style:normal}
.empty{color:var(--muted);font-size:13px;padding:10px 2px}
.recent{list-style:none;margin:0;padding:0;max-height:300px;overflow:auto}
.recent li{display:grid;grid-template-columns:64px 52px 1fr;gap:10px;padding:7px 2px;border-bottom:1px solid var(--line);
font-size:13px;align-items:baseline}
.recent li:last-child{border-bottom:0}
.recent time{color:var(--muted);font-variant-numeric:tabular-nums;font-size:12px}
.tag{font-size:11px;font-weight:600;text-transform:uppercase;letter-spacing:.4px}
.tag.auth{color:var(--bad)}.tag.error{color:var(--warn)}.tag.abort{color:var(--muted)}
.recent .text{overflow-wrap:anywhere}
.outcomes{display:flex;height:10px;border-radius:6px;overflow:hidden;background:var(--chip);margin:6px 0 10px}
.outcomes div{height:100%}
.kv{display:grid;grid-template-columns:1fr auto;gap:6px 12px;font-size:13px}
.kv span:nth-child(odd){color:var(--muted)}
.kv b{font-weight:600;font-variant-numeric:tabular-nums;text-align:right}
dialog{border:1px solid var(--line);border-radius:12px;background:var(--card);color:var(--fg);padding:20px}
dialog input{font:inherit;padding:6px 8px;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg);width:280px}
`;

const BODY = `
<header>
  <svg width="28" height="28" viewBox="0 0 32 32" aria-hidden="true"><g fill="var(--accent)">
  <circle cx="11" cy="11" r="7"/><circle cx="21" cy="11" r="7"/><circle cx="11" cy="21" r="7"/>
  <circle cx="21" cy="21" r="7"/></g><circle cx="16" cy="16" r="3" fill="var(--card)"/></svg>
  <div><h1>Cloverleaf</h1><div class="sub" id="version">WAMP router</div></div>
  <div class="spacer"></div>
  <span class="pill" id="status"><i></i><span>connecting</span></span>
  <span class="pill" id="uptime">up —</span>
  <button class="theme" id="theme" type="button">Theme</button>
</header>
<main>
  <section class="kpis">
    <div class="card kpi"><h2>Sessions</h2><div class="value" id="kpi-sessions">—</div>
      <div class="note" id="kpi-realms">—</div></div>
    <div class="card kpi"><h2>Messages in</h2><div class="value" id="rate-in">—</div>
      <div class="note">per second</div></div>
    <div class="card kpi"><h2>Messages out</h2><div class="value" id="rate-out">—</div>
      <div class="note">per second</div></div>
    <div class="card kpi"><h2>Events</h2><div class="value" id="rate-events">—</div>
      <div class="note" id="kpi-pubs">—</div></div>
    <div class="card kpi"><h2>Calls</h2><div class="value" id="rate-calls">—</div>
      <div class="note" id="kpi-calls">—</div></div>
    <div class="card kpi" id="kpi-drop-card"><h2>Dropped</h2><div class="value" id="kpi-dropped">—</div>
      <div class="note">events, slow consumers</div></div>
    <div class="card kpi" id="kpi-auth-card"><h2>Auth failures</h2><div class="value" id="kpi-auth">—</div>
      <div class="note" id="kpi-denials">—</div></div>
    <div class="card kpi"><h2>Memory</h2><div class="value" id="kpi-rss">—</div>
      <div class="note" id="kpi-lag">—</div></div>
  </section>
  <section class="card span-8"><h2>Message rate <small id="chart-note">last 2 minutes</small></h2>
    <div class="chart"><canvas id="chart"></canvas></div>
    <div class="legend"><span><i style="background:var(--accent)"></i>in <b id="legend-in">—</b></span>
    <span><i style="background:var(--accent2)"></i>out <b id="legend-out">—</b></span>
    <span>bytes in <b id="legend-bin">—</b></span><span>bytes out <b id="legend-bout">—</b></span></div>
  </section>
  <section class="card span-4"><h2>Realms <small id="realms-note"></small></h2>
    <table><thead><tr><th>Realm</th><th class="num">Sessions</th><th class="num">Subs</th><th class="num">Regs</th></tr></thead>
    <tbody id="realms"></tbody></table>
    <h2 style="margin-top:18px">Calls</h2><div class="outcomes" id="outcomes"></div><div class="kv" id="calls"></div>
  </section>
  <section class="card span-6"><h2>Top topics <small>publications/s</small></h2>
    <table><tbody id="topics"></tbody></table></section>
  <section class="card span-6"><h2>Top procedures <small>calls/s</small></h2>
    <table><tbody id="procedures"></tbody></table></section>
  <section class="card span-12"><h2>Sessions <small id="sessions-note">—</small></h2>
    <div class="scroll"><table><thead><tr><th>Session</th><th>Realm</th><th>Authid</th><th>Role</th><th>Method</th>
    <th>Transport</th><th>Serializer</th><th>Peer</th><th class="num">Age</th><th class="num">Backlog</th>
    <th class="num">Dropped</th></tr></thead><tbody id="sessions"></tbody></table></div></section>
  <section class="card span-8"><h2>Recent errors and authentication failures</h2>
    <ul class="recent" id="recent"></ul></section>
  <section class="card span-4"><h2>Listeners</h2><div class="kv" id="listeners"></div>
    <h2 style="margin-top:18px">Cluster</h2><div class="kv" id="cluster"></div></section>
</main>
<dialog id="login"><form method="dialog"><p>This admin listener needs its token.</p>
<input id="token" type="password" autocomplete="off" placeholder="Bearer token"> <button>Open</button></form></dialog>
`;

/** The page, served at `GET /`. */
export const DASHBOARD_HTML: string = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Cloverleaf</title><style>${STYLE}</style></head>
<body>${BODY}<script>${DASHBOARD_SCRIPT}</script></body></html>
`;
