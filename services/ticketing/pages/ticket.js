// Citizen view of one ticket: live position and estimate, cancel while
// waiting, and the nine-element IKM survey once the service is completed.
"use strict";
const ticketId = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop());
const $ = (id) => document.getElementById(id);
// PermenPAN-RB 14/2017, in the regulation's order.
const ELEMENTS = [
  "Persyaratan", "Sistem, mekanisme, dan prosedur", "Waktu penyelesaian", "Biaya/tarif",
  "Produk spesifikasi jenis pelayanan", "Kompetensi pelaksana", "Perilaku pelaksana",
  "Penanganan pengaduan, saran dan masukan", "Sarana dan prasarana",
];
const LABELS = ["Tidak baik", "Kurang baik", "Baik", "Sangat baik"];
const STATUS = {
  waiting: "Menunggu", called: "Dipanggil — silakan menuju loket", serving: "Sedang dilayani",
  completed: "Selesai", no_show: "Tidak hadir", cancelled: "Dibatalkan", transferred: "Dialihkan",
};
let surveyShown = false;
let timer = null;

function showError(text) { $("error").textContent = text || ""; $("error").classList.toggle("hidden", !text); }
async function problemText(resp) {
  try { const p = await resp.json(); return p.detail || p.title || resp.statusText; }
  catch { return resp.statusText; }
}

async function refresh() {
  let resp;
  try { resp = await fetch(`/api/v1/tickets/${encodeURIComponent(ticketId)}`); }
  catch { showError("Koneksi terputus, mencoba lagi…"); return; }
  if (!resp.ok) { showError(await problemText(resp)); return; }
  showError("");
  const t = await resp.json();
  $("number").textContent = t.number;
  $("status").textContent = STATUS[t.status] || t.status;
  const parts = [];
  if (t.status === "waiting") {
    parts.push(`Antrian di depan Anda: ${t.position ?? "-"}`);
    if (t.estimated_wait_seconds != null) parts.push(`perkiraan ± ${Math.max(1, Math.round(t.estimated_wait_seconds / 60))} menit`);
  }
  if (t.counter_name) parts.push(t.counter_name);
  $("detail").textContent = parts.join(" · ");
  $("cancel").classList.toggle("hidden", t.status !== "waiting");
  if (t.status === "completed" && !surveyShown) buildSurvey();
  if (["completed", "no_show", "cancelled"].includes(t.status) && timer) { clearInterval(timer); timer = null; }
}

function buildSurvey() {
  surveyShown = true;
  const form = $("survey-form");
  ELEMENTS.forEach((name, i) => {
    const field = document.createElement("fieldset");
    field.style.border = "0"; field.style.padding = "6px 0";
    field.innerHTML = `<legend style="font-weight:600">${i + 1}. </legend><div class="row"></div>`;
    field.querySelector("legend").append(name);
    LABELS.forEach((label, j) => {
      const l = document.createElement("label");
      l.style.fontWeight = "400"; l.style.display = "inline-flex"; l.style.gap = "6px";
      l.innerHTML = `<input type="radio" required style="width:auto">`;
      l.querySelector("input").name = `u${i}`; l.querySelector("input").value = String(j + 1);
      l.append(`${j + 1} ${label}`);
      field.querySelector(".row").append(l);
    });
    form.append(field);
  });
  const submit = document.createElement("button"); submit.type = "submit"; submit.textContent = "Kirim penilaian";
  form.append(submit);
  $("survey").classList.remove("hidden");
}

$("survey-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const data = new FormData(ev.target);
  const scores = ELEMENTS.map((_, i) => Number(data.get(`u${i}`)));
  const resp = await fetch(`/api/v1/tickets/${encodeURIComponent(ticketId)}/survey`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ scores }) });
  if (resp.status === 201 || resp.status === 409) {
    $("survey").classList.add("hidden"); $("thanks").classList.remove("hidden"); return;
  }
  showError(await problemText(resp));
});

$("cancel").addEventListener("click", async () => {
  if (!confirm("Batalkan nomor antrian ini?")) return;
  const resp = await fetch(`/api/v1/tickets/${encodeURIComponent(ticketId)}/cancel`, { method: "POST" });
  if (!resp.ok) showError(await problemText(resp));
  refresh();
});

refresh();
timer = setInterval(refresh, 5000);
