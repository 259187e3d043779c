// Kiosk: one screen for every agency of the hall. A double tap or a retry
// sends the same Idempotency-Key, so it never prints two tickets.
"use strict";
const branchId = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop());
const $ = (id) => document.getElementById(id);
let hall = null;
let tz = "Asia/Makassar";

function showError(text) { $("error").textContent = text; $("error").classList.toggle("hidden", !text); }
function show(section) {
  for (const s of ["agencies", "services", "ticket"]) $(s).classList.toggle("hidden", s !== section);
}
function minutes(seconds) {
  if (seconds == null) return "-";
  const m = Math.round(seconds / 60);
  return m < 1 ? "kurang dari 1 menit" : `± ${m} menit`;
}
async function problemText(resp) {
  try { const p = await resp.json(); return p.detail || p.title || resp.statusText; }
  catch { return resp.statusText; }
}

async function load() {
  const resp = await fetch(`/api/v1/branches/${encodeURIComponent(branchId)}`);
  if (!resp.ok) { showError(await problemText(resp)); return; }
  hall = await resp.json();
  tz = hall.timezone || tz;
  $("hall").textContent = hall.name;
  const grid = $("agency-grid");
  grid.replaceChildren();
  for (const agency of hall.agencies) {
    const count = hall.services.filter((s) => s.agency_id === agency.id).length;
    if (!count) continue;
    const b = document.createElement("button");
    b.className = "tile";
    b.innerHTML = `<h3></h3><p></p>`;
    b.querySelector("h3").textContent = agency.name;
    b.querySelector("p").textContent = `${count} layanan`;
    b.addEventListener("click", () => pickAgency(agency));
    grid.append(b);
  }
}

function pickAgency(agency) {
  showError("");
  $("agency-name").textContent = agency.name;
  const grid = $("service-grid");
  grid.replaceChildren();
  for (const service of hall.services.filter((s) => s.agency_id === agency.id)) {
    const b = document.createElement("button");
    b.className = "tile";
    b.innerHTML = `<span class="prefix"></span><h3></h3>`;
    b.querySelector(".prefix").textContent = service.prefix;
    b.querySelector("h3").textContent = service.name;
    b.addEventListener("click", () => issue(service, b));
    grid.append(b);
  }
  show("services");
}

async function issue(service, button) {
  const key = crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random();
  button.disabled = true;
  showError("");
  const body = JSON.stringify({ service_id: service.id, channel: "kiosk", priority: $("priority").checked });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      let resp;
      try {
        resp = await fetch(`/api/v1/branches/${encodeURIComponent(branchId)}/tickets`, {
          method: "POST", headers: { "Content-Type": "application/json", "Idempotency-Key": key }, body });
      } catch { await new Promise((r) => setTimeout(r, 800)); continue; }  // network blip: same key again
      if (!resp.ok) { showError(await problemText(resp)); return; }
      showTicket(await resp.json(), service);
      return;
    }
    showError("Tidak dapat terhubung ke server. Silakan coba lagi.");
  } finally { button.disabled = false; }
}

function showTicket(ticket, service) {
  const agency = hall.agencies.find((a) => a.id === service.agency_id);
  $("t-agency").textContent = agency ? agency.name : "";
  $("t-service").textContent = service.name;
  $("t-number").textContent = ticket.number;
  $("t-position").textContent = ticket.position ?? "-";
  $("t-wait").textContent = minutes(ticket.estimated_wait_seconds);
  $("t-url").textContent = `${location.origin}/ticket/${ticket.id}`;
  $("t-issued").textContent = new Date(ticket.issued_at).toLocaleString("id-ID", { timeZone: tz });
  $("priority").checked = false;
  show("ticket");
}

$("back").addEventListener("click", () => show("agencies"));
$("done").addEventListener("click", () => show("agencies"));
$("print").addEventListener("click", () => window.print());
setInterval(() => {
  $("clock").textContent = new Date().toLocaleString("id-ID", { timeZone: tz, dateStyle: "full", timeStyle: "short" });
}, 1000);
load().catch((e) => showError(String(e)));
