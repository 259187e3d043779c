const ticketId = decodeURIComponent(location.pathname.split("/").pop());
const $ = (id) => document.getElementById(id);
// The nine elements of PermenPAN-RB 14/2017, in order.
const UNSUR = ["Persyaratan", "Sistem, mekanisme dan prosedur", "Waktu penyelesaian", "Biaya/tarif",
  "Produk spesifikasi jenis pelayanan", "Kompetensi pelaksana", "Perilaku pelaksana",
  "Penanganan pengaduan, saran dan masukan", "Sarana dan prasarana"];
const STATUS = { waiting: "Menunggu", called: "Dipanggil! Silakan menuju loket", serving: "Sedang dilayani",
  completed: "Selesai", no_show: "Tidak hadir", cancelled: "Dibatalkan" };
let rated = sessionStorage.getItem(`rated-${ticketId}`) === "1";

UNSUR.forEach((name, i) => {
  const row = document.createElement("label");
  row.className = "unsur";
  row.textContent = `${i + 1}. ${name}`;
  const sel = document.createElement("select");
  sel.required = true;
  sel.append(new Option("Pilih…", ""), ...[4, 3, 2, 1].map((v) => new Option(String(v), String(v))));
  row.appendChild(sel);
  $("unsur").appendChild(row);
});

async function muat() {
  const resp = await fetch(`/api/v1/tickets/${encodeURIComponent(ticketId)}`);
  const t = await resp.json();
  if (!resp.ok) { $("pesan").textContent = t.detail || t.title; return; }
  $("instansi").textContent = t.agency_name;
  $("nomor").textContent = t.number;
  $("layanan").textContent = t.service_name;
  const closed = t.status === "cancelled" && t.cancel_reason === "day_closed";
  $("status").textContent = closed ? "Antrian ditutup"
    : STATUS[t.status] + (t.counter_name && t.status === "called" ? `: ${t.counter_name}` : "");
  $("detail").textContent = t.status === "waiting"
    ? `Posisi ${t.position}, perkiraan menunggu ${Math.max(1, Math.round(t.estimated_wait_seconds / 60))} menit.`
    : closed ? "Antrian hari itu sudah ditutup; silakan ambil nomor baru." : "";
  $("batal").classList.toggle("tersembunyi", t.status !== "waiting");
  $("survei").classList.toggle("tersembunyi", t.status !== "completed" || rated);
}

$("batal").addEventListener("click", async () => {
  if (!confirm("Batalkan nomor antrian ini?")) return;
  const resp = await fetch(`/api/v1/tickets/${encodeURIComponent(ticketId)}/cancel`, { method: "POST" });
  if (!resp.ok) $("pesan").textContent = (await resp.json()).detail;
  muat();
});

$("survei").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const scores = [...document.querySelectorAll("#unsur select")].map((s) => Number(s.value));
  const resp = await fetch(`/api/v1/tickets/${encodeURIComponent(ticketId)}/survey`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ scores }) });
  if (resp.ok || resp.status === 409) {
    rated = true; sessionStorage.setItem(`rated-${ticketId}`, "1");
    $("survei").replaceWith(Object.assign(document.createElement("p"), { textContent: "Terima kasih atas penilaian Anda." }));
  } else { $("pesan").textContent = (await resp.json()).detail; }
});

muat();
setInterval(muat, 5000);
