// qualcode document browser: text with speaker turns, coding stripes, select-to-code.
// A plain ES module for anywidget (no build step, no network). All decisions are made
// in Python: this file draws the state it is given and sends actions back.
//
// Offsets are code points (as Python counts them): the text is drawn as one text node
// per piece, in order, so the characters before a point are the Range's text before it.

const STRIPE = 7; // px per stripe column
const GAP = 3;

const cpLength = (s) => {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++; // count high surrogates and BMP chars once
  }
  return n;
};

// UTF-16 index of code point `cp` in string `s`.
function utf16Index(s, cp) {
  if (!/[\ud800-\udfff]/.test(s)) return cp;
  let i = 0;
  for (let n = 0; n < cp && i < s.length; n++) {
    const c = s.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff ? 2 : 1;
  }
  return i;
}

function render({ model, el: root }) {
  const t0 = performance.now();
  root.classList.add("qc-browser");
  const send = (msg) => model.send(msg);

  // -- layout ------------------------------------------------------------------------
  const docSelect = el("select", { class: "qc-doc-select", title: "document" });
  const codeFilter = el("select", { class: "qc-filter-code", title: "show one code and its descendants" });
  const coderFilter = el("select", { class: "qc-filter-coder", title: "show one coder" });
  const statusFilter = el("select", { class: "qc-filter-status", title: "show one status" });
  const snap = el("input", { type: "checkbox", class: "qc-snap" });
  const undoButton = el("button", { class: "qc-undo", text: "Undo", title: "undo the last action here" });
  const docMemoButton = el("button", { class: "qc-doc-memo", text: "Document memo" });
  const toolbar = el("div", { class: "qc-toolbar" },
    docSelect, codeFilter, coderFilter, statusFilter,
    el("label", { class: "qc-snap-label" }, snap, " snap to words"), undoButton, docMemoButton);
  const findA = el("select", { class: "qc-find-a", title: "code to retrieve" });
  const findHow = el("select", { class: "qc-find-how", title: "passages of the code, or a coding query" },
    el("option", { value: "", text: "its passages" }), el("option", { value: "and", text: "AND" }),
    el("option", { value: "not", text: "NOT" }), el("option", { value: "near", text: "NEAR (words)" }));
  const findB = el("select", { class: "qc-find-b", title: "second code of a coding query" });
  const findWithin = el("input", { type: "number", class: "qc-find-within", value: 10, min: 0, title: "within N words" });
  const findButton = el("button", { class: "qc-find", text: "Retrieve" });
  const retrieveBar = el("div", { class: "qc-toolbar qc-retrieve" }, "Retrieve ", findA, findHow, findB, findWithin, findButton);
  const results = el("div", { class: "qc-results" });
  const colourInput = el("input", { type: "color", class: "qc-colour-input", hidden: "" });
  const message = el("div", { class: "qc-message", role: "status" });
  const stripes = el("div", { class: "qc-stripes" });
  const textRoot = el("div", { class: "qc-text" });
  const page = el("div", { class: "qc-page" }, stripes, textRoot);
  const scroller = el("div", { class: "qc-scroller" }, page);
  const legend = el("div", { class: "qc-legend" });
  const tooltip = el("div", { class: "qc-tooltip", hidden: "" });
  const palette = el("div", { class: "qc-palette", hidden: "" });
  const panel = el("div", { class: "qc-panel", hidden: "" });
  root.replaceChildren(toolbar, retrieveBar, results, message, legend, colourInput, scroller, tooltip, palette, panel);

  let pieces = []; // [{start, node(text), text}] in order
  let selection = null; // {start, end} pending coding

  // -- drawing -----------------------------------------------------------------------
  function options(select, values, current, allLabel) {
    select.replaceChildren(el("option", { value: "", text: allLabel }),
      ...values.map(([v, label]) => el("option", { value: v, text: label })));
    select.value = current || "";
  }

  function drawToolbar() {
    const docs = model.get("documents");
    docSelect.replaceChildren(...docs.map((d) => el("option", { value: d, text: d })));
    docSelect.value = model.get("document");
    const codes = model.get("codes");
    options(codeFilter, codes.map((c) => [c.key, `${c.name} (${c.key})`]), model.get("code_filter"), "all codes");
    const keep = [findA.value, findB.value];
    options(findA, codes.map((c) => [c.key, `${c.name} (${c.key})`]), keep[0], "(choose a code)");
    options(findB, codes.map((c) => [c.key, `${c.name} (${c.key})`]), keep[1], "(second code)");
    options(coderFilter, model.get("coders").map((c) => [c, c]), model.get("coder_filter"), "all coders");
    options(statusFilter, model.get("statuses").map((s) => [s, s]), model.get("status_filter"), "any status");
    snap.checked = model.get("snap");
  }

  function drawText() {
    const text = model.get("text");
    const blocks = model.get("blocks");
    const frag = document.createDocumentFragment();
    pieces = [];
    const piece = (start, end, cls) => {
      const s = text.slice(utf16Of(start), utf16Of(end));
      const node = document.createTextNode(s);
      pieces.push({ start, end, node, text: s });
      return cls ? el("span", { class: cls }, node) : node;
    };
    // code point -> UTF-16 index in the whole text (fast path without surrogates)
    const astral = /[\ud800-\udfff]/.test(text);
    let cpIndex = null;
    function utf16Of(cp) {
      if (!astral) return cp;
      if (!cpIndex) {
        cpIndex = [];
        let i = 0;
        for (const ch of text) { cpIndex.push(i); i += ch.length; }
        cpIndex.push(i);
      }
      return cpIndex[cp];
    }
    for (const b of blocks) {
      const cls = "qc-block" + (b.interviewer ? " qc-interviewer" : "") + (b.gap ? " qc-gap" : "") +
        (b.speaker ? " qc-turn" : "");
      const div = el("div", { class: cls, "data-start": b.start });
      if (b.label_end && b.label_end > b.start) {
        div.append(piece(b.start, b.label_end, "qc-speaker"));
        if (b.end > b.label_end) div.append(piece(b.label_end, b.end));
      } else {
        if (b.speaker) div.setAttribute("data-speaker", b.speaker);
        div.append(piece(b.start, b.end));
      }
      frag.append(div);
    }
    textRoot.replaceChildren(frag);
  }

  // DOM position -> code point offset in the document, or null when outside the text
  function offsetOf(node, off) {
    if (!textRoot.contains(node)) return null;
    const range = document.createRange();
    range.setStart(textRoot, 0);
    range.setEnd(node, off);
    return cpLength(range.toString());
  }

  function pieceAt(cp) {
    let lo = 0, hi = pieces.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (pieces[mid].start <= cp) lo = mid; else hi = mid - 1;
    }
    return pieces[lo];
  }

  function rangeOf(start, end) {
    const a = pieceAt(start), b = pieceAt(Math.max(start, end - 1));
    const range = document.createRange();
    range.setStart(a.node, utf16Index(a.text, start - a.start));
    range.setEnd(b.node, utf16Index(b.text, Math.min(end, b.end) - b.start));
    return range;
  }

  function codeInfo() {
    const m = new Map();
    for (const c of model.get("codes")) m.set(c.key, c);
    return m;
  }

  function drawStripes() {
    const codings = model.get("codings");
    const info = codeInfo();
    const order = [];
    for (const c of codings) if (!order.includes(c.code)) order.push(c.code);
    const column = new Map(order.map((k, i) => [k, i]));
    stripes.style.width = `${order.length * (STRIPE + GAP) + GAP}px`;
    const base = page.getBoundingClientRect().top;
    const frag = document.createDocumentFragment();
    for (const c of codings) {
      if (!pieces.length) break;
      const box = rangeOf(c.start, c.end).getBoundingClientRect();
      const colour = (info.get(c.code) || {}).colour || "#888";
      const s = el("div", {
        class: `qc-stripe qc-${c.status}` + (c.id === model.get("selected") ? " qc-selected" : ""),
        "data-coding": c.id, "data-code": c.code,
        style: `left:${GAP + column.get(c.code) * (STRIPE + GAP)}px;top:${box.top - base}px;` +
          `height:${Math.max(box.height, 4)}px;background:${colour}`,
      });
      frag.append(s);
    }
    stripes.replaceChildren(frag);
    legend.replaceChildren(...order.map((k) => {
      const c = info.get(k) || { name: k, colour: "#888" };
      const n = codings.filter((x) => x.code === k).length;
      return el("span", { class: "qc-legend-item", "data-code": k, title: k },
        el("span", { class: "qc-swatch", style: `background:${c.colour}` }), ` ${c.name} (${n})`);
    }));
  }

  function drawMessage() {
    message.textContent = model.get("message");
    message.classList.toggle("qc-error", model.get("error"));
  }

  function drawAll() {
    drawToolbar();
    drawText();
    drawStripes();
    drawMessage();
    drawPanel();
  }

  // -- hover: code, coder, status, memo --------------------------------------------
  stripes.addEventListener("mouseover", (e) => {
    const s = e.target.closest(".qc-stripe");
    if (!s) return;
    const c = model.get("codings").find((x) => x.id === Number(s.dataset.coding));
    if (!c) return;
    const conf = c.confidence == null ? "" : ` · confidence ${c.confidence.toFixed(2)}`;
    tooltip.replaceChildren(...[
      el("div", { class: "qc-tip-code", text: `${c.code_name} (${c.code})` }),
      el("div", { text: `${c.coder} · ${c.status} · ${c.method}${conf}` }),
      el("div", { text: `[${c.start}, ${c.end})` }),
      c.memo ? el("div", { class: "qc-tip-memo", text: `Memo: ${c.memo}` }) : null].filter(Boolean));
    const r = s.getBoundingClientRect(), top = root.getBoundingClientRect();
    tooltip.style.left = `${r.right - top.left + 8}px`;
    tooltip.style.top = `${r.top - top.top}px`;
    tooltip.hidden = false;
  });
  stripes.addEventListener("mouseout", (e) => {
    if (e.target.closest(".qc-stripe")) tooltip.hidden = true;
  });

  // -- click a stripe: select its span, open its panel --------------------------------
  function selectSpan(c) {
    const range = rangeOf(c.start, c.end);
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    if (window.CSS && CSS.highlights && window.Highlight) CSS.highlights.set("qc-current", new Highlight(range));
  }

  stripes.addEventListener("click", (e) => {
    const s = e.target.closest(".qc-stripe");
    if (!s) return;
    const id = Number(s.dataset.coding);
    model.set("selected", id);
    model.save_changes();
    const c = model.get("codings").find((x) => x.id === id);
    if (c) selectSpan(c);
    closePalette();
    drawPanel();
  });

  function drawPanel() {
    const id = model.get("selected");
    const c = model.get("codings").find((x) => x.id === id);
    if (!c) { panel.hidden = true; return; }
    const start = el("input", { type: "number", class: "qc-start", value: c.start, min: 0 });
    const end = el("input", { type: "number", class: "qc-end", value: c.end, min: 0 });
    const memo = el("textarea", { class: "qc-memo", rows: 3, placeholder: "memo on this coding" });
    memo.value = c.memo;
    const info = codeInfo().get(c.code) || {};
    panel.replaceChildren(
      el("div", { class: "qc-panel-head" },
        el("span", { class: "qc-swatch", style: `background:${info.colour || "#888"}` }),
        el("b", { text: ` ${c.code_name}` }), ` · ${c.coder} · ${c.status} · coding ${c.id}`,
        el("button", { class: "qc-close", text: "×", title: "close", onclick: () => {
          model.set("selected", 0); model.save_changes(); panel.hidden = true; } })),
      el("div", { class: "qc-span-row" }, "start ", start, " end ", end,
        el("button", { class: "qc-move", text: "Move", onclick: () =>
          send({ action: "adjust", id: c.id, start: Number(start.value), end: Number(end.value) }) })),
      memo,
      el("div", { class: "qc-panel-buttons" },
        el("button", { class: "qc-save-memo", text: "Save memo", onclick: () =>
          send({ action: "memo", id: c.id, text: memo.value }) }),
        el("button", { class: "qc-recode", text: "Recode…", onclick: () => openPalette(null, c.id) }),
        el("button", { class: "qc-uncode", text: "Uncode", onclick: () => send({ action: "uncode", id: c.id }) })));
    panel.hidden = false;
  }

  // -- select to code: the palette ------------------------------------------------------
  let paletteFor = null; // null: a new selection; a coding id: recode it
  const search = el("input", { class: "qc-palette-search", placeholder: "type to find a code, Enter to code" });
  const list = el("div", { class: "qc-palette-list", role: "listbox" });
  let matches = [], active = 0;

  function filterCodes() {
    const q = search.value.trim().toLowerCase();
    const codes = model.get("codes").filter((c) => c.active);
    matches = codes.filter((c) => !q || c.name.toLowerCase().includes(q) || c.key.toLowerCase().includes(q));
    active = Math.min(active, Math.max(matches.length - 1, 0));
    const items = matches.slice(0, 50).map((c, i) => el("div", {
      class: "qc-palette-item" + (i === active ? " qc-active" : ""), "data-code": c.key, role: "option",
      onmousedown: (e) => { e.preventDefault(); choose(c.key); },
    }, el("span", { class: "qc-swatch", style: `background:${c.colour}` }), ` ${c.name} `,
      el("span", { class: "qc-key", text: c.key })));
    if (paletteFor === null && selection) {
      items.push(el("div", { class: "qc-palette-item qc-invivo", onmousedown: (e) => { e.preventDefault(); inVivo(); } },
        "＋ In vivo code from the selection (Alt+Enter)"));
    }
    list.replaceChildren(...items);
  }

  function openPalette(rect, recodeId = null) {
    paletteFor = recodeId;
    search.value = "";
    active = 0;
    palette.replaceChildren(el("div", { class: "qc-palette-title",
      text: recodeId ? `Recode coding ${recodeId} as…` : `Code [${selection.start}, ${selection.end}) as…` }),
      search, list);
    const top = root.getBoundingClientRect();
    const r = rect || panel.getBoundingClientRect();
    palette.style.left = `${Math.max(0, r.left - top.left)}px`;
    palette.hidden = false;
    // below the selection, or above it when the window has no room below
    const height = Math.max(palette.offsetHeight, 280);
    const below = r.bottom + 6 + height <= window.innerHeight;
    palette.style.top = below ? `${r.bottom - top.top + 6}px` : `${Math.max(0, r.top - top.top - height - 6)}px`;
    filterCodes();
    search.focus();
  }

  function closePalette() { palette.hidden = true; }

  function choose(key) {
    if (paletteFor !== null) send({ action: "recode", id: paletteFor, code: key });
    else if (selection) send({ action: "code", start: selection.start, end: selection.end, code: key,
      end_document: selection.endDocument || null });
    closePalette();
  }

  function inVivo() {
    if (selection) send({ action: "invivo", start: selection.start, end: selection.end, parent: codeFilter.value || null });
    closePalette();
  }

  search.addEventListener("input", () => { active = 0; filterCodes(); });
  search.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") { active = Math.min(active + 1, matches.length - 1); filterCodes(); e.preventDefault(); }
    else if (e.key === "ArrowUp") { active = Math.max(active - 1, 0); filterCodes(); e.preventDefault(); }
    else if (e.key === "Enter" && e.altKey) { inVivo(); e.preventDefault(); }
    else if (e.key === "Enter") { if (matches[active]) choose(matches[active].key); e.preventDefault(); }
    else if (e.key === "Escape") { closePalette(); e.preventDefault(); }
    e.stopPropagation(); // keep JupyterLab's notebook shortcuts out of the palette
  });
  palette.addEventListener("keydown", (e) => e.stopPropagation());
  panel.addEventListener("keydown", (e) => e.stopPropagation());

  textRoot.addEventListener("mouseup", () => {
    const sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return;
    const range = sel.getRangeAt(0);
    const start = offsetOf(range.startContainer, range.startOffset);
    let end = offsetOf(range.endContainer, range.endOffset);
    let endDocument = null;
    if (end === null) {
      // The selection left this document: into another browser's text, or out of any.
      const other = range.endContainer.parentElement && range.endContainer.parentElement.closest(".qc-browser");
      if (!other) {
        send({ action: "error", text: "The selection runs out of the document. Fix: select text inside it; nothing was coded." });
        return;
      }
      endDocument = other.dataset.document;
      end = start + 1;
    }
    if (start === null) return;
    selection = { start: Math.min(start, end), end: Math.max(start, end), endDocument };
    model.set("selected", 0);
    model.save_changes();
    panel.hidden = true;
    openPalette(range.getBoundingClientRect());
  });

  // -- toolbar ---------------------------------------------------------------------------
  const setTrait = (name, value) => { model.set(name, value); model.save_changes(); };
  docSelect.addEventListener("change", () => setTrait("document", docSelect.value));
  codeFilter.addEventListener("change", () => setTrait("code_filter", codeFilter.value));
  coderFilter.addEventListener("change", () => setTrait("coder_filter", coderFilter.value));
  statusFilter.addEventListener("change", () => setTrait("status_filter", statusFilter.value));
  snap.addEventListener("change", () => setTrait("snap", snap.checked));
  undoButton.addEventListener("click", () => send({ action: "undo" }));
  docMemoButton.addEventListener("click", () => {
    const memo = el("textarea", { class: "qc-memo qc-doc-memo-text", rows: 4, placeholder: "memo on this document" });
    memo.value = model.get("document_memo");
    panel.replaceChildren(el("div", { class: "qc-panel-head" }, el("b", { text: `Memo on ${model.get("document")}` }),
      el("button", { class: "qc-close", text: "×", onclick: () => { panel.hidden = true; } })), memo,
      el("div", { class: "qc-panel-buttons" }, el("button", { class: "qc-save-memo", text: "Save memo",
        onclick: () => send({ action: "memo", id: null, text: memo.value }) })));
    panel.hidden = false;
  });
  legend.addEventListener("click", (e) => {
    const item = e.target.closest(".qc-legend-item");
    if (item) setTrait("code_filter", codeFilter.value === item.dataset.code ? "" : item.dataset.code);
  });

  // -- retrieval: passages of a code, or a coding query, across documents --------------
  findButton.addEventListener("click", () => {
    if (!findA.value) return;
    send({ action: "retrieve", code: findA.value, how: findHow.value, other: findB.value || null,
      within: Number(findWithin.value) || 0 });
  });
  function drawResults() {
    const rows = model.get("segments");
    if (!model.get("segments_title")) { results.replaceChildren(); return; }
    results.replaceChildren(el("div", { class: "qc-results-title", text: model.get("segments_title") }),
      ...rows.map((r) => el("div", { class: "qc-result", "data-coding": r.coding_id, title: "show it in the document",
        onclick: () => send({ action: "jump", document: r.document, id: r.coding_id }) },
        el("div", { class: "qc-result-where", text: [r.document, r.role, r.wave, r.speaker].filter(Boolean).join(" · ") }),
        el("span", { class: "qc-result-context", text: r.before }), el("mark", { text: r.text }),
        el("span", { class: "qc-result-context", text: r.after }))));
  }

  // -- colours: click a legend swatch to choose another ------------------------------
  let colourFor = null;
  legend.addEventListener("click", (e) => {
    const swatch = e.target.closest(".qc-swatch");
    if (!swatch) return;
    e.stopPropagation();
    colourFor = swatch.parentElement.dataset.code;
    colourInput.value = (codeInfo().get(colourFor) || {}).colour || "#888888";
    colourInput.click();
  }, true);
  colourInput.addEventListener("change", () => {
    if (colourFor) send({ action: "colour", code: colourFor, colour: colourInput.value });
  });

  function showSelected() {
    const s = stripes.querySelector(`.qc-stripe[data-coding="${model.get("selected")}"]`);
    const c = model.get("codings").find((x) => x.id === model.get("selected"));
    if (s && c) {
      const top = s.offsetTop - scroller.clientHeight / 3;
      scroller.scrollTop = Math.max(0, top);
      selectSpan(c);
    }
  }

  // -- keep in step with Python --------------------------------------------------------
  const redrawText = () => { root.dataset.document = model.get("document"); drawAll(); };
  model.on("change:text", redrawText);
  model.on("change:codings", () => { drawStripes(); drawPanel(); });
  model.on("change:codes", () => { drawToolbar(); drawStripes(); });
  model.on("change:message", drawMessage);
  model.on("change:error", drawMessage);
  model.on("change:selected", () => { drawStripes(); drawPanel(); showSelected(); });
  model.on("change:segments", drawResults);
  model.on("change:segments_title", drawResults);
  const observer = new ResizeObserver(() => drawStripes());
  observer.observe(textRoot);

  root.dataset.document = model.get("document");
  drawAll();
  drawResults();
  requestAnimationFrame(() => {
    const ms = performance.now() - t0;
    root.dataset.renderMs = ms.toFixed(1);
    model.set("render_ms", ms);
    model.save_changes();
  });
  return () => observer.disconnect();
}

export default { render };
