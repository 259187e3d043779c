// Kiosk check-in: a USB scanner types the booking code (then Enter), or the citizen types it.
(() => {
  const main = document.querySelector("main") || document.body;
  const form = document.createElement("form");
  form.className = "kartu";
  form.id = "checkin-form";
  const label = document.createElement("label");
  label.htmlFor = "checkin-kode";
  label.textContent = "Sudah booking online? Pindai QR atau ketik kode booking / Booking code";
  const input = document.createElement("input");
  input.id = "checkin-kode";
  input.autocomplete = "off";
  input.maxLength = 40;
  const button = document.createElement("button");
  button.type = "submit";
  button.textContent = "Check-in";
  const out = document.createElement("p");
  out.id = "checkin-hasil";
  out.setAttribute("role", "status");
  out.setAttribute("aria-live", "polite");
  form.append(label, input, button, out);
  main.prepend(form);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const code = input.value.trim();
    if (!code) return;
    button.disabled = true;
    out.textContent = "";
    try {
      const resp = await fetch(`/api/v1/bookings/${encodeURIComponent(code)}/check-in`, { method: "POST" });
      const data = await resp.json();
      if (!resp.ok) throw new Error(data.detail || data.title);
      out.replaceChildren();
      const num = document.createElement("strong");
      num.className = "nomor";
      num.id = "checkin-nomor";
      num.textContent = data.number;
      out.append(num, document.createElement("br"), document.createTextNode(data.message));
      input.value = "";
    } catch (e) {
      out.textContent = e.message;
    } finally {
      button.disabled = false;
      input.focus();
    }
  });
})();
