/**
 * The dashboard's script (plain browser JavaScript, inlined in the page):
 * reads `/events` with `fetch` (so it can send the bearer token that
 * `#token=…` in the URL or the login box gives it), turns the totals into
 * rates, draws the rate chart on a canvas and fills the tables, all with
 * `textContent` (nothing the router reports is parsed as HTML).
 *
 * @module
 */

/** The script. */
export const DASHBOARD_SCRIPT: string = String.raw`
"use strict";
const $ = (id) => document.getElementById(id);
const HISTORY = 120;
const series = { in: [], out: [] };
let prev = null;
let token = sessionStorage.getItem("cloverleaf-admin-token") || "";
const hashToken = /(?:^#|&)token=([^&]+)/.exec(location.hash);
if (hashToken) {
  token = decodeURIComponent(hashToken[1]);
  sessionStorage.setItem("cloverleaf-admin-token", token);
  history.replaceState(null, "", location.pathname);
}

// ---- theme ----
const root = document.documentElement;
const savedTheme = localStorage.getItem("cloverleaf-theme");
if (savedTheme) root.dataset.theme = savedTheme;
$("theme").onclick = () => {
  const dark = getComputedStyle(root).colorScheme.includes("dark");
  root.dataset.theme = dark ? "light" : "dark";
  localStorage.setItem("cloverleaf-theme", root.dataset.theme);
  draw();
};

// ---- formatting ----
function num(n) {
  if (n === null || n === undefined || !isFinite(n)) return "—";
  if (n >= 1e9) return (n / 1e9).toFixed(1) + "G";
  if (n >= 1e6) return (n / 1e6).toFixed(1) + "M";
  if (n >= 1e4) return (n / 1e3).toFixed(1) + "k";
  if (n >= 100 || Number.isInteger(n)) return String(Math.round(n));
  return n.toFixed(1);
}
function bytes(n) {
  if (!isFinite(n)) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 || n >= 100 ? String(Math.round(n)) : n.toFixed(1)) + " " + units[i];
}
function age(s) {
  if (s < 60) return s + "s";
  if (s < 3600) return Math.floor(s / 60) + "m " + (s % 60) + "s";
  if (s < 86400) return Math.floor(s / 3600) + "h " + Math.floor((s % 3600) / 60) + "m";
  return Math.floor(s / 86400) + "d " + Math.floor((s % 86400) / 3600) + "h";
}
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}
function row(cells, numeric) {
  const tr = el("tr");
  cells.forEach((c, i) => tr.append(el("td", String(c), numeric && numeric.includes(i) ? "num" : "")));
  return tr;
}
function fill(id, rows, empty, cols) {
  const body = $(id);
  if (rows.length === 0) {
    const tr = el("tr");
    const td = el("td", empty, "empty");
    td.colSpan = cols || 1;
    tr.append(td);
    body.replaceChildren(tr);
  } else body.replaceChildren(...rows);
}
function kv(id, pairs) {
  const box = $(id);
  box.replaceChildren(...pairs.flatMap(([k, v]) => [el("span", k), el("b", String(v))]));
}
function status(state, text) {
  const pill = $("status");
  pill.className = "pill " + state;
  pill.lastChild.textContent = text;
}

// ---- chart ----
function draw() {
  const canvas = $("chart");
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== w * ratio || canvas.height !== h * ratio) {
    canvas.width = w * ratio;
    canvas.height = h * ratio;
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const css = getComputedStyle(root);
  const color = (name) => css.getPropertyValue(name).trim();
  const left = 48, bottom = 20, top = 8, right = 8;
  const max = Math.max(10, ...series.in, ...series.out) * 1.15;
  const x = (i) => left + (w - left - right) * (i / (HISTORY - 1));
  const y = (v) => top + (h - top - bottom) * (1 - v / max);
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = color("--muted");
  ctx.strokeStyle = color("--line");
  ctx.lineWidth = 1;
  for (let g = 0; g <= 4; g++) {
    const v = (max / 4) * g;
    ctx.beginPath();
    ctx.moveTo(left, Math.round(y(v)) + 0.5);
    ctx.lineTo(w - right, Math.round(y(v)) + 0.5);
    ctx.stroke();
    ctx.fillText(num(v), 4, y(v) + 4);
  }
  ctx.fillText("-2 min", left, h - 4);
  ctx.fillText("now", w - right - 22, h - 4);
  for (const [key, name] of [["in", "--accent"], ["out", "--accent2"]]) {
    const data = series[key];
    if (data.length < 2) continue;
    const offset = HISTORY - data.length;
    ctx.beginPath();
    data.forEach((v, i) => (i === 0 ? ctx.moveTo(x(offset + i), y(v)) : ctx.lineTo(x(offset + i), y(v))));
    ctx.strokeStyle = color(name);
    ctx.lineWidth = 2;
    ctx.lineJoin = "round";
    ctx.stroke();
    ctx.lineTo(x(HISTORY - 1), y(0));
    ctx.lineTo(x(offset), y(0));
    ctx.closePath();
    const gradient = ctx.createLinearGradient(0, top, 0, h - bottom);
    gradient.addColorStop(0, color(name) + "40");
    gradient.addColorStop(1, color(name) + "00");
    ctx.fillStyle = gradient;
    ctx.fill();
  }
}
window.addEventListener("resize", draw);

// ---- a snapshot ----
function render(s) {
  const t = s.totals;
  const dt = prev ? (s.time - prev.time) / 1000 : 0;
  const rate = (f) => (prev && dt > 0 ? Math.max(0, (f(t) - f(prev.totals)) / dt) : null);
  const calls = (c) => c.calls.result + c.calls.error + c.calls.timeout + c.calls.canceled;
  const rIn = rate((x) => x.messagesIn), rOut = rate((x) => x.messagesOut);
  if (rIn !== null) {
    series.in.push(rIn);
    series.out.push(rOut);
    if (series.in.length > HISTORY) { series.in.shift(); series.out.shift(); }
  }
  $("version").textContent = "WAMP router · v" + s.version;
  $("uptime").textContent = "up " + age(s.uptime);
  $("kpi-sessions").textContent = num(s.sessions.total);
  $("kpi-realms").textContent = s.realms.total + (s.realms.total === 1 ? " realm" : " realms");
  $("rate-in").textContent = num(rIn);
  $("rate-out").textContent = num(rOut);
  $("rate-events").textContent = num(rate((x) => x.events));
  $("kpi-pubs").textContent = num(rate((x) => x.publications)) + " publications/s";
  $("rate-calls").textContent = num(rate(calls));
  $("kpi-calls").textContent = num(calls(t)) + " answered";
  $("kpi-dropped").textContent = num(t.eventsDropped);
  $("kpi-drop-card").classList.toggle("bad", t.eventsDropped > 0);
  $("kpi-auth").textContent = num(t.authFailures);
  $("kpi-auth-card").classList.toggle("bad", t.authFailures > 0);
  $("kpi-denials").textContent = num(t.authorizationDenials) + " authorization denials";
  $("kpi-rss").textContent = bytes(s.process.rss);
  $("kpi-lag").textContent = "heap " + bytes(s.process.heapUsed) + " · lag " + (s.process.lag * 1000).toFixed(1) + " ms";
  $("legend-in").textContent = num(rIn) + "/s";
  $("legend-out").textContent = num(rOut) + "/s";
  $("legend-bin").textContent = bytes(rate((x) => x.bytesIn) || 0) + "/s";
  $("legend-bout").textContent = bytes(rate((x) => x.bytesOut) || 0) + "/s";
  $("realms-note").textContent = s.realms.total > s.realms.rows.length
    ? "showing " + s.realms.rows.length + " of " + s.realms.total + ", most sessions first"
    : "";
  fill("realms", s.realms.rows.map((r) => row([r.name, r.sessions, r.subscriptions, r.registrations], [1, 2, 3])), "No realms", 4);
  const total = Math.max(1, calls(t));
  const parts = [["result", "--accent"], ["error", "--warn"], ["timeout", "--bad"], ["canceled", "--muted"]];
  $("outcomes").replaceChildren(...parts.map(([k, c]) => {
    const d = el("div");
    d.style.width = (100 * t.calls[k] / total) + "%";
    d.style.background = "var(" + c + ")";
    d.title = k;
    return d;
  }));
  kv("calls", parts.map(([k]) => [k, num(t.calls[k])]));
  for (const [id, list, empty] of [["topics", s.topics, "No publications"], ["procedures", s.procedures, "No calls"]]) {
    const top = list.length ? list[0][1] : 1;
    fill(id, list.map(([uri, perSecond]) => {
      const tr = el("tr");
      const td = el("td", undefined, "bar");
      const bar = el("span");
      bar.style.width = (100 * perSecond / top) + "%";
      td.append(bar, el("em", uri));
      td.style.maxWidth = "520px";
      tr.append(td, el("td", num(perSecond), "num"));
      return tr;
    }), empty, 2);
  }
  $("sessions-note").textContent = s.sessions.total > s.sessions.rows.length
    ? "showing " + s.sessions.rows.length + " of " + s.sessions.total
    : s.sessions.total + (s.sessions.total === 1 ? " session" : " sessions");
  fill("sessions", s.sessions.rows.map((r) => {
    const tr = row([r.id, r.realm, r.authid, r.authrole, r.authmethod, r.transport, r.serializer || "—", r.peer || "—",
      age(r.age), bytes(r.backlog), r.dropped], [8, 9, 10]);
    tr.dataset.session = String(r.id);
    return tr;
  }), "No sessions", 11);
  const recent = s.recent.map((e) => {
    const li = el("li");
    li.append(el("time", new Date(e.time).toLocaleTimeString([], { hour12: false })), el("span", e.kind, "tag " + e.kind),
      el("span", (e.realm ? e.realm + " · " : "") + e.text, "text"));
    return li;
  });
  if (recent.length === 0) $("recent").replaceChildren(el("li", "Nothing yet", "empty"));
  else $("recent").replaceChildren(...recent);
  kv("listeners", s.listeners.length === 0 ? [["(embedded)", "—"]] : s.listeners.flatMap((l) => [
    [l.name, l.connections + " open"], ["  accepted / refused", l.accepted + " / " + l.refused]]));
  kv("cluster", s.cluster === null ? [["mode", "single node"]] : [["node", s.cluster.node],
    ["NATS", s.cluster.connected ? "connected" : "disconnected"], ["nodes", s.cluster.nodes.length]]);
  prev = s;
  draw();
}

// ---- the event stream ----
async function connect() {
  try {
    const headers = token ? { authorization: "Bearer " + token } : {};
    const response = await fetch("events", { headers, cache: "no-store" });
    if (response.status === 401) {
      status("down", "token needed");
      $("login").showModal();
      $("login").onclose = () => {
        token = $("token").value.trim();
        sessionStorage.setItem("cloverleaf-admin-token", token);
        connect();
      };
      return;
    }
    if (!response.ok || !response.body) throw new Error("HTTP " + response.status);
    status("live", "live");
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const chunk = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = chunk.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
        if (data) render(JSON.parse(data));
      }
    }
    throw new Error("stream ended");
  } catch (error) {
    status("down", "reconnecting");
    setTimeout(connect, 2000);
  }
}
draw();
connect();
`;
