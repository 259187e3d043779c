// The citizen's ticket page: live over ticketing's server-sent events, a full-screen call, the survey.
const ticketId = decodeURIComponent(location.pathname.split("/").pop());
const $ = (id) => document.getElementById(id);
const TEXT = {
  id: {
    title: "Nomor Antrian Saya", notify: "Beri tahu saya saat dipanggil", cancel: "Batalkan antrian",
    survey: "Survei Kepuasan Masyarakat", scale: "Nilai 1 (tidak baik) sampai 4 (sangat baik).", send: "Kirim penilaian",
    ok: "Saya menuju ke sana", waiting: "Menunggu", called: "Dipanggil! Silakan menuju loket", serving: "Sedang dilayani",
    completed: "Selesai", no_show: "Tidak hadir", cancelled: "Dibatalkan", parked: "Ditunda: kembali ke loket sebelum batas waktu",
    closedDay: "Antrian ditutup", closedHint: "Antrian hari itu sudah ditutup; silakan ambil nomor baru.",
    position: (p, m) => `Posisi ${p}, perkiraan menunggu ${m} menit.`, soon: (n) => n === 0 ? "Anda berikutnya!" : `Tinggal ${n} orang lagi sebelum Anda.`,
    call: (n, c) => `Nomor ${n} — silakan ke ${c}`, live: "● Langsung", offline: "○ Menyambung ulang…",
    confirm: "Batalkan nomor antrian ini?", thanks: "Terima kasih atas penilaian Anda.", choose: "Pilih…", lang: "English",
    unsur: ["Persyaratan", "Sistem, mekanisme dan prosedur", "Waktu penyelesaian", "Biaya/tarif",
      "Produk spesifikasi jenis pelayanan", "Kompetensi pelaksana", "Perilaku pelaksana",
      "Penanganan pengaduan, saran dan masukan", "Sarana dan prasarana"],
  },
  en: {
    title: "My queue number", notify: "Notify me when I am called", cancel: "Cancel my ticket",
    survey: "Satisfaction survey", scale: "Score 1 (poor) to 4 (very good).", send: "Send my rating",
    ok: "I am on my way", waiting: "Waiting", called: "Called! Please go to the counter", serving: "Being served",
    completed: "Completed", no_show: "No-show", cancelled: "Cancelled", parked: "On hold: come back to the counter in time",
    closedDay: "Queue closed", closedHint: "That day's queue is closed; please take a new number.",
    position: (p, m) => `Position ${p}, about ${m} min to wait.`, soon: (n) => n === 0 ? "You are next!" : `${n} more before you.`,
    call: (n, c) => `Number ${n} — please go to ${c}`, live: "● Live", offline: "○ Reconnecting…",
    confirm: "Cancel this ticket?", thanks: "Thank you for your rating.", choose: "Choose…", lang: "Bahasa Indonesia",
    unsur: ["Requirements", "Systems, mechanisms and procedures", "Completion time", "Cost/fee",
      "Service product specification", "Staff competence", "Staff conduct",
      "Handling of complaints and suggestions", "Facilities and infrastructure"],
  },
};
let lang = localStorage.getItem("antrian-lang") || "id";
const t = (key) => TEXT[lang][key];
let rated = sessionStorage.getItem(`rated-${ticketId}`) === "1";
let ticket = null;
let source = null;
let announced = sessionStorage.getItem(`called-${ticketId}`) || "";

function buildSurvey() {
  const kept = [...document.querySelectorAll("#unsur select")].map((s) => s.value);
  $("unsur").replaceChildren(...t("unsur").map((name, i) => {
    const row = document.createElement("label");
    row.className = "unsur";
    row.append(`${i + 1}. ${name}`);
    const sel = document.createElement("select");
    sel.required = true;
    sel.append(new Option(t("choose"), ""), ...[4, 3, 2, 1].map((v) => new Option(String(v), String(v))));
    sel.value = kept[i] || "";
    row.appendChild(sel);
    return row;
  }));
}

function translate() {
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  $("bahasa").textContent = t("lang");
  $("bahasa").lang = lang === "id" ? "en" : "id";
  buildSurvey();
  render();
}

async function load() {
  const resp = await fetch(`/api/v1/tickets/${encodeURIComponent(ticketId)}`);
  const data = await resp.json();
  if (!resp.ok) { $("pesan").textContent = data.detail || data.title; return; }
  ticket = data;
  render();
  if (!source) listen();
  if (ticket.status === "called") announce();
}

function render() {
  if (!ticket) return;
  const tk = ticket;
  $("instansi").textContent = tk.agency_name;
  $("nomor").textContent = tk.number;
  $("layanan").textContent = tk.service_name;
  const closed = tk.status === "cancelled" && tk.cancel_reason === "day_closed";
  $("status").textContent = closed ? t("closedDay") : t(tk.status) + (tk.counter_name && tk.status === "called" ? `: ${tk.counter_name}` : "");
  $("detail").textContent = tk.status === "waiting"
    ? t("position")(tk.position, Math.max(1, Math.round(tk.estimated_wait_seconds / 60))) : closed ? t("closedHint") : "";
  const ahead = tk.position - 1;
  $("segera").classList.toggle("tersembunyi", !(tk.status === "waiting" && ahead <= 3));
  $("segera").textContent = t("soon")(ahead);
  $("batal").classList.toggle("tersembunyi", tk.status !== "waiting");
  $("izin").classList.toggle("tersembunyi", !("Notification" in window) || Notification.permission !== "default" || ["completed", "cancelled"].includes(tk.status));
  $("survei").classList.toggle("tersembunyi", tk.status !== "completed" || rated);
  if (tk.status !== "called") $("panggilan").classList.add("tersembunyi");
}

// Called: full screen, vibration, a chime and a system notification when allowed; once per call.
function announce() {
  const key = `${ticket.called_at}|${ticket.recall_count}`;
  const text = t("call")(ticket.number, ticket.counter_name || "");
  $("teks-panggilan").textContent = text;
  $("panggilan").classList.remove("tersembunyi");
  $("tutup-panggilan").focus();
  if (announced === key) return;
  announced = key;
  sessionStorage.setItem(`called-${ticketId}`, key);
  if (navigator.vibrate) navigator.vibrate([400, 200, 400, 200, 400]);
  chime();
  if ("Notification" in window && Notification.permission === "granted") new Notification(text, { tag: ticketId });
}

function chime() {
  try {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    const ctx = new Ctx();
    [660, 880, 990].forEach((freq, i) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.25, ctx.currentTime + i * 0.35);
      gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + i * 0.35 + 0.3);
      osc.connect(gain).connect(ctx.destination);
      osc.start(ctx.currentTime + i * 0.35);
      osc.stop(ctx.currentTime + i * 0.35 + 0.32);
    });
  } catch (e) { /* no audio device: the screen and vibration still tell */ }
}

// Live: any change of the hall may move this ticket; refetch it (the hint itself is public and small).
function listen() {
  source = new EventSource(`/api/v1/branches/${encodeURIComponent(ticket.branch_id)}/live`);
  source.addEventListener("ready", () => { $("koneksi").textContent = t("live"); load(); });
  source.addEventListener("change", () => { $("koneksi").textContent = t("live"); load(); });
  source.onerror = () => { $("koneksi").textContent = t("offline"); };
}

$("batal").addEventListener("click", async () => {
  if (!confirm(t("confirm"))) return;
  const resp = await fetch(`/api/v1/tickets/${encodeURIComponent(ticketId)}/cancel`, { method: "POST" });
  if (!resp.ok) $("pesan").textContent = (await resp.json()).detail;
  load();
});
$("izin").addEventListener("click", async () => { await Notification.requestPermission(); render(); });
$("tutup-panggilan").addEventListener("click", () => $("panggilan").classList.add("tersembunyi"));
$("bahasa").addEventListener("click", () => { lang = lang === "id" ? "en" : "id"; localStorage.setItem("antrian-lang", lang); translate(); });

$("survei").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const scores = [...document.querySelectorAll("#unsur select")].map((s) => Number(s.value));
  const resp = await fetch(`/api/v1/tickets/${encodeURIComponent(ticketId)}/survey`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ scores }) });
  if (resp.ok || resp.status === 409) {
    rated = true; sessionStorage.setItem(`rated-${ticketId}`, "1");
    $("survei").replaceWith(Object.assign(document.createElement("p"), { id: "terima-kasih", textContent: t("thanks") }));
  } else { $("pesan").textContent = (await resp.json()).detail; }
});

translate();
load();
