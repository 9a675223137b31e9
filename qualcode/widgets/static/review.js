// qualcode review widget: one suggestion at a time in its context, decided by key or button.
// A plain ES module for anywidget; every decision is made in Python (keys are sent as they are).

function render({ model, el: root }) {
  root.classList.add("qc-review");
  const send = (msg) => model.send(msg);
  const set = (name, value) => { model.set(name, value); model.save_changes(); };

  const codeFilter = el("select", { class: "qc-r-code", title: "only this code and its descendants" });
  const methodFilter = el("select", { class: "qc-r-method", title: "only this method" });
  const minConf = el("input", { type: "number", class: "qc-r-min", min: 0, max: 1, step: 0.05, title: "minimum confidence" });
  const filters = el("div", { class: "qc-r-filters" }, "Code ", codeFilter, " Method ", methodFilter, " Confidence ≥ ", minConf,
    el("button", { class: "qc-r-preview", text: "Preview bulk accept", onclick: () => send({ action: "preview_bulk" }) }));
  const progress = el("div", { class: "qc-r-progress" });
  const card = el("div", { class: "qc-r-card", tabindex: 0, title: "a accept · r reject · s skip · c change · u undo · ←/→ move the end" });
  const changeTo = el("select", { class: "qc-r-change" });
  const buttons = el("div", { class: "qc-r-buttons" },
    el("button", { class: "qc-r-accept", text: "Accept (a)", onclick: () => send({ action: "accept" }) }),
    el("button", { class: "qc-r-reject", text: "Reject (r)", onclick: () => send({ action: "reject" }) }),
    el("button", { class: "qc-r-skip", text: "Skip (s)", onclick: () => send({ action: "skip" }) }),
    el("button", { class: "qc-r-undo", text: "Undo (u)", onclick: () => send({ action: "undo" }) }),
    " change to ", changeTo,
    el("button", { class: "qc-r-change-go", text: "Change (c)", onclick: () => send({ action: "change", code: changeTo.value }) }));
  const spanRow = el("div", { class: "qc-r-span" });
  const message = el("div", { class: "qc-r-message", role: "status" });
  const preview = el("div", { class: "qc-r-bulk" });
  root.replaceChildren(filters, progress, card, spanRow, buttons, message, preview);

  function drawFilters() {
    const codes = model.get("codes");
    codeFilter.replaceChildren(el("option", { value: "", text: "all codes" }),
      ...codes.map((c) => el("option", { value: c.key, text: `${c.name} (${c.key})` })));
    codeFilter.value = model.get("code_filter");
    methodFilter.replaceChildren(el("option", { value: "", text: "all methods" }),
      ...model.get("methods").map((m) => el("option", { value: m, text: m })));
    methodFilter.value = model.get("method_filter");
    minConf.value = model.get("min_confidence");
    changeTo.replaceChildren(...codes.map((c) => el("option", { value: c.key, text: `${c.name} (${c.key})` })));
    changeTo.value = model.get("change_to");
  }

  function drawCard() {
    const item = model.get("item");
    const counts = model.get("counts");
    const total = model.get("total");
    progress.textContent = `${Math.min(model.get("position") + 1, total)} of ${total} · ` +
      `${counts.accept || 0} accepted, ${counts.reject || 0} rejected, ${counts.recode || 0} recoded, ${counts.skip || 0} skipped`;
    if (!item || item.id === undefined) {
      card.replaceChildren(el("p", { class: "qc-r-done", text: "Nothing left in this queue. Skipped suggestions stay pending." }));
      spanRow.replaceChildren();
      return;
    }
    card.dataset.coding = item.id;
    const conf = item.confidence == null ? "n/a" : item.confidence.toFixed(2);
    const who = [item.speaker, item.role, item.wave].filter(Boolean).join(" · ");
    card.style.borderLeftColor = item.colour;
    card.replaceChildren(
      el("div", { class: "qc-r-head" }, el("b", { text: item.code_name }), " ", el("code", { text: item.code }),
        ` · confidence ${conf} · ${item.method}`),
      el("div", { class: "qc-r-where", text: `${item.document} [${item.start}, ${item.end})` + (who ? ` · ${who}` : "") }),
      el("p", { class: "qc-r-context" }, el("span", { class: "qc-r-before", text: item.before }),
        el("mark", { class: "qc-r-text", style: `background:${item.colour}44`, text: item.text }),
        el("span", { class: "qc-r-after", text: item.after })),
      el("div", { class: "qc-r-why", text: `Why: ${item.explanation || "(no explanation)"}` }));
    const start = el("input", { type: "number", class: "qc-r-start", value: item.start });
    const end = el("input", { type: "number", class: "qc-r-end", value: item.end });
    spanRow.replaceChildren("span start ", start, " end ", end,
      el("button", { class: "qc-r-move", text: "Move span", onclick: () =>
        send({ action: "adjust", start: Number(start.value), end: Number(end.value) }) }));
  }

  function drawMessage() {
    message.textContent = model.get("message");
    message.classList.toggle("qc-error", model.get("error"));
  }

  function drawPreview() {
    const rows = model.get("preview");
    if (!rows.length) { preview.replaceChildren(); return; }
    const table = el("table", { class: "qc-r-table" },
      el("tr", {}, ...["id", "document", "code", "confidence", "method", "text"].map((h) => el("th", { text: h }))),
      ...rows.slice(0, 30).map((r) => el("tr", {}, ...[r.id, r.document, r.code,
        r.confidence == null ? "" : Number(r.confidence).toFixed(2), r.method, (r.snippet || "").slice(0, 80)]
        .map((v) => el("td", { text: String(v) })))));
    preview.replaceChildren(
      el("div", { text: `${rows.length} suggestion(s) match the filters` + (rows.length > 30 ? " (first 30 shown)" : "") }),
      table,
      el("button", { class: "qc-r-accept-all", text: `Accept these ${rows.length}`, onclick: () => send({ action: "accept_previewed" }) }));
  }

  card.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (["a", "r", "s", "c", "u", "ArrowLeft", "ArrowRight"].includes(e.key)) {
      send(e.key === "c" ? { action: "change", code: changeTo.value } : { action: "key", key: e.key });
      e.preventDefault();
    }
    e.stopPropagation(); // JupyterLab's command-mode shortcuts (a, r, …) must not fire here
  });
  card.addEventListener("click", () => card.focus());
  for (const box of [filters, spanRow, buttons]) box.addEventListener("keydown", (e) => e.stopPropagation());
  codeFilter.addEventListener("change", () => set("code_filter", codeFilter.value));
  methodFilter.addEventListener("change", () => set("method_filter", methodFilter.value));
  minConf.addEventListener("change", () => set("min_confidence", Number(minConf.value) || 0));
  changeTo.addEventListener("change", () => set("change_to", changeTo.value));

  model.on("change:item", () => { drawCard(); changeTo.value = model.get("change_to"); });
  model.on("change:counts", drawCard);
  model.on("change:codes", drawFilters);
  model.on("change:methods", drawFilters);
  model.on("change:message", drawMessage);
  model.on("change:error", drawMessage);
  model.on("change:preview", drawPreview);
  drawFilters();
  drawCard();
  drawMessage();
  drawPreview();
}

export default { render };
