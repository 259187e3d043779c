// The counter console: live over ticketing's server-sent events (no polling), keyboard first.
const $ = (id) => document.getElementById(id);
const TEXT = {
  id: {
    title: "Konsol Loket", login: "Masuk petugas", username: "Nama pengguna", password: "Kata sandi", signin: "Masuk",
    counter: "Loket", active: "Tiket aktif", timer: "Waktu layanan", recalls: "Panggil ulang", noshowAt: "Tidak hadir boleh",
    call: "Panggil berikutnya", recall: "Panggil ulang", start: "Mulai layani", complete: "Selesai", park: "Parkir (keluar sebentar)",
    transfer: "Alihkan…", noshow: "Tidak hadir", open: "Buka", pause: "Istirahat…", close: "Tutup",
    served: "Dilayani hari ini", average: "Rata-rata layanan", ikm: "IKM hari ini", queue: "Antrian menunggu",
    number: "Nomor", service: "Layanan", waited: "Menunggu", flags: "Tanda", backSoon: "Parkir dan tidak hadir",
    transferTo: "Alihkan ke layanan", search: "Cari layanan", transferGo: "Alihkan", cancel: "Batal",
    pauseWhy: "Alasan istirahat", reason: "Alasan", pauseGo: "Istirahat", relogin: "Sesi berakhir: masuk lagi",
    r_istirahat: "Istirahat", r_sholat: "Sholat", r_rapat: "Rapat", r_gangguan: "Gangguan",
    s_open: "Buka", s_paused: "Istirahat", s_closed: "Tutup", t_called: "dipanggil", t_serving: "dilayani",
    live: "● Langsung", offline: "○ Menyambung ulang…", nobody: "Tidak ada antrian untuk loket ini.",
    now: "sekarang", returnBtn: "Kembalikan", reactivateBtn: "Aktifkan lagi", until: "s.d.", priority: "Prioritas",
    transferred: "Dialihkan", returned: "Kembali", parked: "parkir", no_show: "tidak hadir", lang: "English",
  },
  en: {
    title: "Counter console", login: "Operator sign-in", username: "User name", password: "Password", signin: "Sign in",
    counter: "Counter", active: "Active ticket", timer: "Serving time", recalls: "Recalls", noshowAt: "No-show allowed",
    call: "Call next", recall: "Recall", start: "Start serving", complete: "Complete", park: "Park (steps out)",
    transfer: "Transfer…", noshow: "No-show", open: "Open", pause: "Pause…", close: "Close",
    served: "Served today", average: "Average service", ikm: "IKM today", queue: "Waiting",
    number: "Number", service: "Service", waited: "Waited", flags: "Flags", backSoon: "Parked and no-shows",
    transferTo: "Transfer to service", search: "Search services", transferGo: "Transfer", cancel: "Cancel",
    pauseWhy: "Reason for the pause", reason: "Reason", pauseGo: "Pause", relogin: "Session expired: sign in again",
    r_istirahat: "Break", r_sholat: "Prayer", r_rapat: "Meeting", r_gangguan: "Fault",
    s_open: "Open", s_paused: "Paused", s_closed: "Closed", t_called: "called", t_serving: "serving",
    live: "● Live", offline: "○ Reconnecting…", nobody: "Nobody waits for this counter.",
    now: "now", returnBtn: "Return", reactivateBtn: "Reactivate", until: "until", priority: "Priority",
    transferred: "Transferred", returned: "Returned", parked: "parked", no_show: "no-show", lang: "Bahasa Indonesia",
  },
};
let lang = localStorage.getItem("antrian-lang") || "id";
const t = (key) => TEXT[lang][key] || key;
let token = sessionStorage.getItem("antrian-token");
let me = JSON.parse(sessionStorage.getItem("antrian-user") || "null");
let branch = null;
let state = null;
let queue = null;
let source = null;
let pending = null;
let refreshing = false;
let again = false;

function translate() {
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  $("bahasa").textContent = t("lang");
  $("bahasa").lang = lang === "id" ? "en" : "id";
  render();
}

class Expired extends Error {}

async function api(path, options = {}) {
  const headers = { ...(options.body ? { "Content-Type": "application/json" } : {}), ...(token ? { Authorization: `Bearer ${token}` } : {}) };
  const resp = await fetch(path, { ...options, headers });
  if (resp.status === 401 && path !== "/api/v1/auth/login") throw new Expired(t("relogin"));
  if (resp.status === 204) return null;
  const data = await resp.json();
  if (!resp.ok) throw new Error(data.detail || data.title);
  return data;
}

// A 401 opens the re-login dialog; the console keeps its state and retries what failed.
function relogin() {
  if (!pending) {
    pending = new Promise((resolve) => {
      const dialog = $("dialog-masuk");
      $("form-masuk-lagi").onsubmit = async (ev) => {
        ev.preventDefault();
        try {
          const data = await api("/api/v1/auth/login", { method: "POST", body: JSON.stringify({ username: me.username, password: $("password-lagi").value }) });
          token = data.token; sessionStorage.setItem("antrian-token", token);
          $("password-lagi").value = ""; dialog.close(); pending = null; resolve();
        } catch (e) { $("pesan").textContent = e.message; }
      };
      dialog.showModal();
    });
  }
  return pending;
}

async function withLogin(fn) {
  for (;;) {
    try { return await fn(); } catch (e) { if (e instanceof Expired && me) { await relogin(); continue; } throw e; }
  }
}

$("masuk").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    const data = await api("/api/v1/auth/login", { method: "POST", body: JSON.stringify({ username: $("username").value, password: $("password").value }) });
    token = data.token; me = data;
    sessionStorage.setItem("antrian-token", token); sessionStorage.setItem("antrian-user", JSON.stringify(data));
    $("pesan").textContent = "";
    await begin();
  } catch (e) { $("pesan").textContent = e.message; }
});

async function begin() {
  $("pengguna").textContent = `${me.username} (${me.role})`;
  $("masuk").classList.add("tersembunyi");
  $("kerja").classList.remove("tersembunyi");
  const params = new URLSearchParams(location.search);
  const first = params.get("counter") || me.counter_ids[0];
  const counter = await withLogin(() => api(`/api/v1/counters/${encodeURIComponent(first)}`));
  branch = await api(`/api/v1/branches/${encodeURIComponent(counter.branch_id)}`);
  const allowed = me.counter_ids.length ? branch.counters.filter((c) => me.counter_ids.includes(c.id)) : branch.counters;
  $("loket").replaceChildren(...allowed.map((c) => new Option(`${c.name}${c.zone ? ` (${c.zone})` : ""}`, c.id)));
  $("loket").value = first;
  fillServices("");
  listen();
  await refresh();
}

// Live: every committed change of the branch arrives as a hint; the console refetches its state.
function listen() {
  if (source) source.close();
  source = new EventSource(`/api/v1/branches/${encodeURIComponent(branch.id)}/live`);
  const online = () => { $("koneksi").textContent = t("live"); $("koneksi").dataset.live = "1"; };
  source.addEventListener("ready", () => { online(); refresh(); });
  source.addEventListener("change", online);
  source.addEventListener("change", () => refresh());
  source.onerror = () => { $("koneksi").textContent = t("offline"); $("koneksi").dataset.live = "0"; };
}

async function refresh() {
  if (refreshing) { again = true; return; }
  refreshing = true;
  try {
    const id = encodeURIComponent($("loket").value);
    [state, queue] = await withLogin(() => Promise.all([api(`/api/v1/counters/${id}/console`), api(`/api/v1/counters/${id}/queue`)]));
    render();
  } catch (e) { $("pesan").textContent = e.message; } finally {
    refreshing = false;
    if (again) { again = false; refresh(); }
  }
}

function minutes(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function render() {
  if (!state) { tick(); return; }
  const c = state.counter;
  const a = state.active;
  $("status-loket").textContent = t(`s_${c.status}`) + (c.pause_reason ? ` · ${t(`r_${c.pause_reason}`)}` : "");
  $("nomor").textContent = a ? a.number : "–";
  $("info").textContent = a ? `${a.service_name} · ${t(`t_${a.status}`)}${a.priority ? ` · ${t("priority")}` : ""}` : "";
  $("recall").textContent = a ? String(a.recall_count) : "–";
  $("dilayani").textContent = String(state.served_today);
  $("rerata").textContent = state.average_service_seconds_today === null ? "–" : minutes(state.average_service_seconds_today);
  $("ikm").textContent = state.ikm_today === null ? "–" : `${state.ikm_today.toFixed(2)} (${state.ikm_responses_today})`;
  tick();
  renderQueue();
}

function canNoShow(a) {
  return a && a.status === "called" && a.recall_count >= state.no_show_min_recalls
    && state.no_show_allowed_at && Date.now() >= Date.parse(state.no_show_allowed_at);
}

function allowed() {
  const a = state && state.active;
  const status = state ? state.counter.status : "closed";
  return {
    "call-next": status === "open" && !a,
    recall: Boolean(a && a.status === "called"),
    start: Boolean(a && a.status === "called"),
    complete: Boolean(a && a.status === "serving"),
    park: Boolean(a),
    transfer: Boolean(a && a.status === "serving"),
    "no-show": Boolean(canNoShow(a)),
    open: status !== "open",
    pause: status === "open" && !a,
    close: status !== "closed" && !a,
  };
}

// Once a second: the serving timer, the no-show countdown and the buttons that depend on them.
function tick() {
  if (!state) { document.querySelectorAll("[data-act]").forEach((b) => { b.disabled = true; }); return; }
  const a = state.active;
  const since = a && (a.serving_at || a.called_at);
  $("timer").textContent = since ? minutes((Date.now() - Date.parse(since)) / 1000) : "–";
  if (a && a.status === "called" && state.no_show_allowed_at) {
    const left = (Date.parse(state.no_show_allowed_at) - Date.now()) / 1000;
    $("noshow").textContent = left > 0 ? minutes(left) : t("now");
  } else { $("noshow").textContent = "–"; }
  const ok = allowed();
  document.querySelectorAll("[data-act]").forEach((b) => { b.disabled = !ok[b.dataset.act]; });
}

function renderQueue() {
  $("jumlah").textContent = String(queue ? queue.waiting : 0);
  $("antrian").replaceChildren(...(queue ? queue.items : []).map((item) => {
    const tr = document.createElement("tr");
    const cells = [item.number, item.service_name, minutes(item.waited_seconds + (Date.now() - loadedAt) / 1000)];
    for (const v of cells) { const td = document.createElement("td"); td.textContent = v; tr.appendChild(td); }
    const flags = document.createElement("td");
    for (const [on, cls, key] of [[item.priority, "prio", "priority"], [item.transferred, "alih", "transferred"], [item.returned, "balik", "returned"]]) {
      if (on) { const s = document.createElement("span"); s.className = `tanda ${cls}`; s.textContent = t(key); flags.appendChild(s); }
    }
    tr.appendChild(flags);
    return tr;
  }));
  $("kembali").replaceChildren(...(queue ? queue.back_soon : []).map((item) => {
    const li = document.createElement("li");
    const label = document.createElement("span");
    const until = new Date(item.until).toLocaleTimeString(lang === "id" ? "id-ID" : "en-GB", { hour: "2-digit", minute: "2-digit" });
    label.textContent = `${item.number} · ${t(item.status)} · ${t("until")} ${until}`;
    const b = document.createElement("button");
    const path = item.status === "parked" ? "return" : "reactivate";
    b.type = "button"; b.className = "sekunder";
    b.textContent = t(path === "return" ? "returnBtn" : "reactivateBtn");
    b.setAttribute("aria-label", `${b.textContent} ${item.number}`);
    b.addEventListener("click", () => act(`/api/v1/tickets/${item.ticket_id}/${path}`));
    li.append(label, b);
    return li;
  }));
}
let loadedAt = Date.now();

async function act(path, body) {
  try {
    const result = await withLogin(() => api(path, { method: "POST", body: body ? JSON.stringify(body) : undefined }));
    $("pesan").textContent = result === null ? t("nobody") : "";
    await refresh();
    loadedAt = Date.now();
  } catch (e) { $("pesan").textContent = e.message; }
}

function counterAct(name, body) { return act(`/api/v1/counters/${encodeURIComponent($("loket").value)}/${name}`, body); }

function fillServices(query) {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const services = branch ? branch.services.filter((s) => words.every((w) => s.name.toLowerCase().includes(w) || s.prefix.toLowerCase() === w)) : [];
  $("pilih-layanan").replaceChildren(...services.map((s) => new Option(`${s.prefix} · ${s.name}`, s.id)));
  if (services.length) $("pilih-layanan").selectedIndex = 0;
}

function closeOn(dialog) { dialog.querySelector(".batal").addEventListener("click", () => dialog.close()); }
closeOn($("dialog-alih"));
closeOn($("dialog-jeda"));
$("cari-layanan").addEventListener("input", () => fillServices($("cari-layanan").value));
$("form-alih").addEventListener("submit", () => { if ($("pilih-layanan").value) counterAct("transfer", { service_id: $("pilih-layanan").value }); });
$("form-jeda").addEventListener("submit", () => counterAct("pause", { reason: $("alasan").value }));

function press(name) {
  if (!state || !allowed()[name]) return;
  if (name === "transfer") { $("cari-layanan").value = ""; fillServices(""); $("dialog-alih").showModal(); return; }
  if (name === "pause") { $("dialog-jeda").showModal(); return; }
  counterAct(name);
}

document.querySelectorAll("[data-act]").forEach((b) => b.addEventListener("click", () => press(b.dataset.act)));
document.addEventListener("keydown", (ev) => {
  if (ev.ctrlKey || ev.altKey || ev.metaKey || !state || document.querySelector("dialog[open]")) return;
  if (["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName)) return;
  const button = document.querySelector(`[data-key="${ev.key.toLowerCase()}"]`);
  if (button) { ev.preventDefault(); press(button.dataset.act); }
});
$("loket").addEventListener("change", refresh);
$("bahasa").addEventListener("click", () => { lang = lang === "id" ? "en" : "id"; localStorage.setItem("antrian-lang", lang); translate(); });
setInterval(tick, 1000);
translate();
if (token && me) begin().catch((e) => { $("pesan").textContent = e.message; });
