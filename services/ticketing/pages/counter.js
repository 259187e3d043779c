// Counter client: an operator calls next (never picks), then recalls, serves,
// completes, marks a no-show or transfers. The token lives in sessionStorage
// and an expired one sends the operator back to the login form.
"use strict";
const $ = (id) => document.getElementById(id);
const store = window.sessionStorage;
let token = store.getItem("antrian.token");
let hall = null;
let counter = null;

function showError(text) { $("error").textContent = text || ""; $("error").classList.toggle("hidden", !text); }
function show(section) {
  for (const s of ["login", "setup", "desk"]) $(s).classList.toggle("hidden", s !== section);
  $("logout").classList.toggle("hidden", section === "login");
}
async function problemText(resp) {
  try { const p = await resp.json(); return p.detail || p.title || resp.statusText; }
  catch { return resp.statusText; }
}
async function api(method, path, body) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const resp = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  if (resp.status === 401) { logout("Sesi berakhir, silakan masuk lagi."); throw new Error("unauthorised"); }
  return resp;
}

function logout(message) {
  token = null; store.removeItem("antrian.token"); store.removeItem("antrian.counter");
  $("who").textContent = "Belum masuk";
  show("login"); showError(message || "");
}

$("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault(); showError("");
  const resp = await fetch("/api/v1/auth/login", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: $("username").value, password: $("password").value }) });
  if (!resp.ok) { showError(await problemText(resp)); return; }
  token = (await resp.json()).token; store.setItem("antrian.token", token);
  store.setItem("antrian.user", $("username").value);
  await setup();
});

async function setup() {
  $("who").textContent = `Petugas: ${store.getItem("antrian.user") || ""}`;
  const resp = await api("GET", "/api/v1/branches");
  const branches = (await resp.json()).items || [];
  const sel = $("branch"); sel.replaceChildren();
  for (const b of branches) sel.append(new Option(b.name, b.id));
  await loadBranch(sel.value);
  const saved = store.getItem("antrian.counter");
  if (saved && hall && hall.counters.some((c) => c.id === saved)) { useCounter(saved); return; }
  show("setup");
}
async function loadBranch(branchId) {
  if (!branchId) return;
  hall = await (await api("GET", `/api/v1/branches/${encodeURIComponent(branchId)}`)).json();
  const sel = $("counter"); sel.replaceChildren();
  for (const c of hall.counters) sel.append(new Option(`${c.name} (${c.zone})`, c.id));
}
$("branch").addEventListener("change", (e) => loadBranch(e.target.value));
$("use-counter").addEventListener("click", () => useCounter($("counter").value));
$("change").addEventListener("click", () => show("setup"));
$("logout").addEventListener("click", () => logout(""));

function useCounter(counterId) {
  counter = hall.counters.find((c) => c.id === counterId);
  store.setItem("antrian.counter", counterId);
  $("counter-name").textContent = counter.name;
  const sel = $("transfer-service"); sel.replaceChildren();
  for (const s of hall.services) sel.append(new Option(`${s.prefix} · ${s.name}`, s.id));
  show("desk"); refreshQueue();
}

function showTicket(ticket) {
  $("current").textContent = ticket ? ticket.number : "—";
  $("current-info").textContent = ticket ? `status: ${ticket.status}` : "";
}

$("call-next").addEventListener("click", async () => {
  showError("");
  const resp = await api("POST", `/api/v1/counters/${encodeURIComponent(counter.id)}/call-next`);
  if (resp.status === 204) { showError("Tidak ada antrian yang menunggu untuk loket ini."); showTicket(null); }
  else if (!resp.ok) showError(await problemText(resp));
  else showTicket(await resp.json());
  refreshQueue();
});
for (const b of document.querySelectorAll("[data-action]")) {
  b.addEventListener("click", async () => {
    showError("");
    const action = b.dataset.action;
    const body = action === "transfer" ? { service_id: $("transfer-service").value } : undefined;
    const resp = await api("POST", `/api/v1/counters/${encodeURIComponent(counter.id)}/${action}`, body);
    if (!resp.ok) { showError(await problemText(resp)); return; }
    if (resp.status !== 204) {
      const data = await resp.json();
      if (data && data.number) showTicket(["completed", "no_show", "transferred"].includes(data.status) ? null : data);
    }
    refreshQueue();
  });
}

async function refreshQueue() {
  if (!hall) return;
  const resp = await fetch(`/api/v1/branches/${encodeURIComponent(hall.id)}/queue`);
  if (!resp.ok) return;
  const queue = await resp.json();
  const mine = new Set(counter ? counter.service_ids : []);
  const grid = $("queue"); grid.replaceChildren();
  for (const item of queue.services || queue.items || []) {
    if (mine.size && !mine.has(item.service_id)) continue;
    const card = document.createElement("div"); card.className = "card";
    card.innerHTML = "<h3></h3><p></p>";
    card.querySelector("h3").textContent = `${item.waiting} menunggu`;
    card.querySelector("p").textContent = item.service_name || item.service_id;
    grid.append(card);
  }
}
setInterval(refreshQueue, 10000);
if (token) setup().catch(() => logout("")); else show("login");
