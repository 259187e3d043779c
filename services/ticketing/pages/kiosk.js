const branchId = decodeURIComponent(location.pathname.split("/").pop());
let group = "";
const $ = (id) => document.getElementById(id);

function menit(detik) { return detik < 60 ? "kurang dari 1 menit" : `sekitar ${Math.round(detik / 60)} menit`; }

function pilihPrioritas(btn) {
  group = btn.dataset.group;
  document.querySelectorAll("#prioritas button").forEach((b) => b.setAttribute("aria-pressed", String(b === btn)));
}
document.querySelectorAll("#prioritas button").forEach((b) => b.addEventListener("click", () => pilihPrioritas(b)));
pilihPrioritas(document.querySelector('#prioritas button[data-group=""]'));

async function muat() {
  const resp = await fetch(`/api/v1/branches/${encodeURIComponent(branchId)}`);
  if (!resp.ok) { $("pesan").textContent = "Cabang tidak ditemukan."; return; }
  const branch = await resp.json();
  const queue = await fetch(`/api/v1/branches/${encodeURIComponent(branchId)}/queue`).then((r) => (r.ok ? r.json() : null));
  const forecasts = Object.fromEntries((queue ? queue.services : []).map((q) => [q.service_id, q.forecast]));
  $("judul").textContent = `${branch.name}: Ambil Nomor Antrian`;
  const root = $("pilih");
  const boxes = [];
  for (const agency of branch.agencies) {
    const box = document.createElement("section");
    box.className = "kartu instansi";
    box.innerHTML = `<h2></h2><div class="grid"></div>`;
    box.querySelector("h2").textContent = agency.name;
    for (const svc of branch.services.filter((s) => s.agency_id === agency.id)) {
      const b = document.createElement("button");
      b.className = "layanan";
      b.textContent = svc.name;
      const small = document.createElement("small");
      const f = forecasts[svc.id];
      // The kiosk says why before the citizen takes a ticket: stopped by the supervisor, or not today.
      small.textContent = !svc.issuing_open ? `Dihentikan: ${svc.issuing_stop_reason}`
        : f && !f.new_ticket_served ? `Kode ${svc.prefix} · kemungkinan tidak terlayani hari ini` : `Kode ${svc.prefix}`;
      b.disabled = !svc.issuing_open;
      b.appendChild(small);
      b.addEventListener("click", () => ambil(svc.id, b));
      box.querySelector(".grid").appendChild(b);
    }
    boxes.push(box);
  }
  root.replaceChildren(...boxes);
}
// A service added, renamed or stopped shows within seconds.
setInterval(() => { if (!document.querySelector("#pilih button:disabled:focus")) muat().catch(() => {}); }, 5000);

async function ambil(serviceId, button) {
  button.disabled = true;
  $("pesan").textContent = "";
  // One key per tap: a retry or a double tap returns the same ticket.
  const key = crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random();
  const body = { service_id: serviceId, channel: "kiosk", priority_group: group || null };
  try {
    let resp;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        resp = await fetch(`/api/v1/branches/${encodeURIComponent(branchId)}/tickets`, {
          method: "POST", headers: { "Content-Type": "application/json", "Idempotency-Key": key }, body: JSON.stringify(body),
        });
        break;
      } catch (e) { await new Promise((r) => setTimeout(r, 800)); }
    }
    if (!resp) throw new Error("Tidak dapat terhubung. Coba lagi.");
    const data = await resp.json();
    if (!resp.ok) throw new Error(data.detail || data.title);
    tampilkan(data);
  } catch (e) {
    $("pesan").textContent = e.message;
  } finally {
    button.disabled = false;
  }
}

function tampilkan(t) {
  $("t-instansi").textContent = t.agency_name;
  $("t-nomor").textContent = t.number;
  $("t-layanan").textContent = t.service_name + (t.priority ? " (prioritas)" : "");
  $("t-posisi").textContent = `Posisi ${t.position}, perkiraan menunggu ${menit(t.estimated_wait_seconds)}.`;
  const url = `${location.origin}/t/${t.id}`;
  const a = document.createElement("a");
  a.href = url; a.textContent = url;
  $("t-tautan").replaceChildren(a);
  $("t-qr").src = `/api/v1/tickets/${t.id}/qr.svg`;
  $("tiket").classList.remove("tersembunyi");
  $("pilih").classList.add("tersembunyi");
  clearTimeout(window.tutup);
  window.tutup = setTimeout(selesai, 30000);
}

function selesai() {
  $("tiket").classList.add("tersembunyi");
  $("pilih").classList.remove("tersembunyi");
  pilihPrioritas(document.querySelector('#prioritas button[data-group=""]'));
}

setInterval(() => { $("jam").textContent = new Date().toLocaleTimeString("id-ID"); }, 1000);
muat();

document.getElementById("cetak").addEventListener("click", () => window.print());
document.getElementById("selesai").addEventListener("click", () => selesai());
