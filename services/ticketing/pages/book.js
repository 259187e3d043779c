// Antrian online: agency → service → date → slot; the answer is a code and a QR code.
const branchId = decodeURIComponent(location.pathname.split("/").pop());
const $ = (id) => document.getElementById(id);
const TEXT = {
  id: {
    title: "Antrian Online", book: "Pesan jadwal", agency: "Instansi", service: "Layanan", date: "Tanggal",
    slot: "Jam", name: "Nama (opsional)", phone: "Nomor HP untuk pengingat (opsional)",
    nik: "NIK (16 digit, wajib untuk layanan ini)", submit: "Pesan", booked: "Jadwal Anda", code: "Kode booking",
    checkin: "Check-in sekarang", cancel: "Batalkan", move: "Pindah ke jam terpilih", moved: "Jadwal dipindah.", have: "Sudah punya kode?", open: "Buka",
    noslot: "Tidak ada jadwal tersedia pada tanggal ini.", pick: "Pilih jam terlebih dahulu.",
    left: "sisa", window: "Check-in di kiosk atau di sini: {a}–{b}.", cancelled: "Booking dibatalkan.",
    ticket: "Nomor antrian Anda: {n}. Pantau di ", status: { booked: "Terjadwal", checked_in: "Sudah check-in",
      cancelled: "Dibatalkan", expired: "Kedaluwarsa (tidak hadir)" }, switch: "EN", switchLabel: "Switch to English",
  },
  en: {
    title: "Online queue", book: "Book a slot", agency: "Agency", service: "Service", date: "Date",
    slot: "Time", name: "Name (optional)", phone: "Phone for reminders (optional)",
    nik: "NIK (16 digits, required for this service)", submit: "Book", booked: "Your booking", code: "Booking code",
    checkin: "Check in now", cancel: "Cancel", move: "Move to the chosen time", moved: "Booking moved.", have: "Already have a code?", open: "Open",
    noslot: "No slots available on this date.", pick: "Choose a time first.",
    left: "left", window: "Check in at the kiosk or here: {a}–{b}.", cancelled: "Booking cancelled.",
    ticket: "Your queue number: {n}. Follow it at ", status: { booked: "Booked", checked_in: "Checked in",
      cancelled: "Cancelled", expired: "Expired (no-show)" }, switch: "ID", switchLabel: "Ganti ke Bahasa Indonesia",
  },
};
let lang = localStorage.getItem("antrian-lang") === "en" ? "en" : "id";
let branch = null, chosen = null, current = null, timezone = "UTC";
const t = (key) => TEXT[lang][key];

function translate() {
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
  $("bahasa").textContent = t("switch");
  $("bahasa").setAttribute("aria-label", t("switchLabel"));
  if (current) show(current);
}
$("bahasa").addEventListener("click", () => {
  lang = lang === "id" ? "en" : "id";
  localStorage.setItem("antrian-lang", lang);
  translate();
});

function hhmm(iso) {
  return new Date(iso).toLocaleTimeString("id-ID", { hour: "2-digit", minute: "2-digit", timeZone: timezone });
}
function fail(data) { $("pesan").textContent = data.detail || data.title || String(data); }

async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  const resp = await fetch(path, init);
  const data = resp.status === 204 ? {} : await resp.json();
  if (!resp.ok) throw data;
  return data;
}

function fillServices() {
  const agency = $("instansi").value;
  $("layanan").replaceChildren(...branch.services.filter((s) => s.agency_id === agency)
    .map((s) => new Option(s.name, s.id)));
  loadSlots();
}

async function loadSlots() {
  chosen = null;
  $("pesan").textContent = "";
  const box = $("slot");
  box.replaceChildren();
  if (!$("layanan").value || !$("tanggal").value) return;
  try {
    const data = await api("GET", `/api/v1/services/${encodeURIComponent($("layanan").value)}/slots?date=${$("tanggal").value}`);
    timezone = data.timezone;
    $("nik-box").classList.toggle("tersembunyi", !data.require_nik);
    $("nik").required = data.require_nik;
    const open = data.items.filter((s) => s.available > 0);
    if (!open.length) { box.textContent = t("noslot"); return; }
    for (const slot of open) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "slot";
      b.dataset.start = slot.start;
      b.setAttribute("aria-pressed", "false");
      b.textContent = `${hhmm(slot.start)} (${slot.available} ${t("left")})`;
      b.addEventListener("click", () => {
        chosen = slot.start;
        box.querySelectorAll("button").forEach((x) => x.setAttribute("aria-pressed", String(x === b)));
      });
      box.appendChild(b);
    }
  } catch (e) { fail(e); }
}

function show(booking) {
  current = booking;
  timezone = timezone || "UTC";
  $("hasil").classList.remove("tersembunyi");
  $("kode").textContent = booking.code;
  $("jadwal").textContent = `${booking.service_name}, ${booking.date} ${hhmm(booking.slot_start)}–${hhmm(booking.slot_end)}`
    + ` · ${t("status")[booking.status]}`;
  $("qr").src = `/api/v1/bookings/${encodeURIComponent(booking.code)}/qr.svg`;
  $("jendela").textContent = t("window").replace("{a}", hhmm(booking.check_in_opens)).replace("{b}", hhmm(booking.check_in_closes));
  $("checkin").classList.toggle("tersembunyi", booking.status !== "booked");
  $("batal").classList.toggle("tersembunyi", booking.status !== "booked");
  $("pindah").classList.toggle("tersembunyi", booking.status !== "booked");
  if (booking.ticket_id) showTicket(booking.ticket_id, "");
}

function showTicket(ticketId, number) {
  const a = document.createElement("a");
  a.href = `/t/${ticketId}`;
  a.id = "tautan-tiket";
  a.textContent = `${location.origin}/t/${ticketId}`;
  $("tiket").replaceChildren(document.createTextNode(t("ticket").replace("{n}", number)), a);
}

$("form-pesan").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("pesan").textContent = "";
  if (!chosen) { $("pesan").textContent = t("pick"); return; }
  const body = { service_id: $("layanan").value, slot_start: chosen };
  if ($("nama").value.trim()) body.name = $("nama").value.trim();
  if ($("telepon").value.trim()) body.phone = $("telepon").value.trim();
  if ($("nik").value.trim()) body.nik = $("nik").value.trim();
  $("kirim").disabled = true;
  try { show(await api("POST", "/api/v1/bookings", body)); loadSlots(); } catch (e) { fail(e); loadSlots(); }
  finally { $("kirim").disabled = false; }
});

$("checkin").addEventListener("click", async () => {
  try {
    const ticket = await api("POST", `/api/v1/bookings/${encodeURIComponent(current.code)}/check-in`);
    $("pesan").textContent = ticket.late ? ticket.message : "";
    current = { ...current, status: "checked_in", ticket_id: ticket.id };
    show(current);
    showTicket(ticket.id, ticket.number);
  } catch (e) { fail(e); }
});

$("batal").addEventListener("click", async () => {
  try {
    await api("DELETE", `/api/v1/bookings/${encodeURIComponent(current.code)}`);
    show({ ...current, status: "cancelled" });
    await loadSlots();
    $("pesan").textContent = t("cancelled");
  } catch (e) { fail(e); }
});

// Reschedule: choose another date and time in the form above, then move the booking there.
$("pindah").addEventListener("click", async () => {
  if (!chosen) { $("pesan").textContent = t("pick"); return; }
  try {
    show(await api("PATCH", `/api/v1/bookings/${encodeURIComponent(current.code)}`, { slot_start: chosen }));
    await loadSlots();
    $("pesan").textContent = t("moved");
  } catch (e) { fail(e); }
});

$("form-kode").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("pesan").textContent = "";
  try { show(await api("GET", `/api/v1/bookings/${encodeURIComponent($("kode-cari").value.trim())}`)); } catch (e) { fail(e); }
});

async function start() {
  try { branch = await api("GET", `/api/v1/branches/${encodeURIComponent(branchId)}`); } catch (e) { fail(e); return; }
  timezone = branch.timezone;
  $("judul").textContent = `${branch.name}: ${t("title")}`;
  $("instansi").replaceChildren(...branch.agencies.map((a) => new Option(a.name, a.id)));
  const today = new Date().toLocaleDateString("sv-SE", { timeZone: branch.timezone });
  $("tanggal").value = today;
  $("tanggal").min = today;
  $("instansi").addEventListener("change", fillServices);
  $("layanan").addEventListener("change", loadSlots);
  $("tanggal").addEventListener("change", loadSlots);
  fillServices();
}
translate();
start();
