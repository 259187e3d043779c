const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem("antrian-token");
let me = JSON.parse(sessionStorage.getItem("antrian-user") || "null");
let branch = null;

async function api(path, options = {}) {
  const headers = { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) };
  const resp = await fetch(path, { ...options, headers });
  if (resp.status === 401 && path !== "/api/v1/auth/login") { keluar(); throw new Error("Sesi berakhir; silakan masuk lagi."); }
  if (resp.status === 204) return null;
  const data = await resp.json();
  if (!resp.ok) throw new Error(data.detail || data.title);
  return data;
}

function keluar() { token = null; sessionStorage.clear(); $("kerja").classList.add("tersembunyi"); $("masuk").classList.remove("tersembunyi"); }

$("masuk").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    const data = await api("/api/v1/auth/login", { method: "POST", body: JSON.stringify({ username: $("username").value, password: $("password").value }) });
    token = data.token; me = data;
    sessionStorage.setItem("antrian-token", token); sessionStorage.setItem("antrian-user", JSON.stringify(data));
    $("pesan").textContent = "";
    await mulai();
  } catch (e) { $("pesan").textContent = e.message; }
});

async function mulai() {
  $("pengguna").textContent = `${me.username} (${me.role})`;
  $("masuk").classList.add("tersembunyi");
  $("kerja").classList.remove("tersembunyi");
  const ids = me.counter_ids.length ? me.counter_ids : [];
  const first = ids[0] || prompt("ID loket (admin):");
  const counter = await api(`/api/v1/counters/${encodeURIComponent(first)}`);
  branch = await api(`/api/v1/branches/${encodeURIComponent(counter.branch_id)}`);
  const allowed = me.role === "admin" ? branch.counters : branch.counters.filter((c) => ids.includes(c.id));
  $("loket").replaceChildren(...allowed.map((c) => new Option(`${c.name} (${c.zone})`, c.id)));
  $("loket").value = first;
  $("tujuan").replaceChildren(...branch.services.map((s) => new Option(`Alihkan ke: ${s.name}`, s.id)));
  await segarkan();
}

async function segarkan() {
  const counter = await api(`/api/v1/counters/${encodeURIComponent($("loket").value)}`);
  $("status-loket").textContent = `Status: ${counter.status}`;
  if (counter.active_ticket_id) {
    const t = await api(`/api/v1/tickets/${counter.active_ticket_id}`);
    $("nomor").textContent = t.number;
    $("info").textContent = `${t.service_name} · ${t.status}${t.recall_count ? ` · dipanggil ulang ${t.recall_count}×` : ""}${t.priority ? " · prioritas" : ""}`;
  } else { $("nomor").textContent = "–"; $("info").textContent = ""; }
  const q = await api(`/api/v1/branches/${encodeURIComponent(branch.id)}/queue`);
  const served = new Set(counter.service_ids);
  $("antrian").replaceChildren(...q.services.filter((s) => served.has(s.service_id)).map((s) => {
    const tr = document.createElement("tr");
    for (const v of [s.service_name, s.waiting, s.waiting_priority]) { const td = document.createElement("td"); td.textContent = v; tr.appendChild(td); }
    return tr;
  }));
}

document.querySelectorAll("[data-act]").forEach((b) => b.addEventListener("click", async () => {
  const act = b.dataset.act;
  const body = act === "transfer" ? JSON.stringify({ service_id: $("tujuan").value }) : undefined;
  b.disabled = true;
  try {
    const result = await api(`/api/v1/counters/${encodeURIComponent($("loket").value)}/${act}`, { method: "POST", body });
    $("pesan").textContent = result === null ? "Tidak ada antrian untuk loket ini." : "";
    await segarkan();
  } catch (e) { $("pesan").textContent = e.message; } finally { b.disabled = false; }
}));
$("loket").addEventListener("change", segarkan);
setInterval(() => { if (token && branch) segarkan().catch(() => {}); }, 5000);
if (token && me) mulai().catch((e) => { $("pesan").textContent = e.message; keluar(); });
