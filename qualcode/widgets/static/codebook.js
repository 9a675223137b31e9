// qualcode codebook browser: the code tree, the chosen code's criteria, counts, memo and colour.
function render({ model, el: root }) {
  root.classList.add("qc-codebook");
  const find = el("input", { class: "qc-cb-find", placeholder: "filter codes" });
  const list = el("div", { class: "qc-cb-tree", role: "listbox" });
  const detail = el("div", { class: "qc-cb-detail" });
  root.replaceChildren(el("div", { class: "qc-cb-left" }, find, list), detail);

  function drawTree() {
    const chosen = model.get("selected");
    const editable = model.get("editable");
    list.replaceChildren(...model.get("tree").map((c) => el("div", {
      class: "qc-cb-item" + (c.key === chosen ? " qc-active" : ""), "data-code": c.key, role: "option",
      style: `padding-left:${0.4 + c.depth * 1.2}em`,
      onclick: () => { model.set("selected", c.key); model.save_changes(); },
    }, el("span", { class: "qc-swatch", style: `background:${c.colour}` }), ` ${c.name}`,
      editable ? el("span", { class: "qc-cb-n", text: ` ${c.accepted} · ${c.suggested}` }) : null)));
  }

  function drawDetail() {
    const d = model.get("detail");
    if (!d || !d.key) { detail.replaceChildren(el("i", { text: "No code matches the filter." })); return; }
    const parts = [el("h4", { style: `border-left: 6px solid ${d.colour}; padding-left: .4em` }, `${d.name} `,
      el("code", { text: d.key })), el("p", { text: d.definition || "(no definition)" })];
    for (const [title, items] of [["Include when", d.include], ["Exclude when", d.exclude], ["Examples", d.examples]]) {
      if (items.length) parts.push(el("b", { text: title }), el("ul", {}, ...items.map((i) => el("li", { text: i }))));
    }
    if (d.outcomes.length) parts.push(el("div", { text: `Evidence for outcomes: ${d.outcomes.join(", ")}` }));
    if (model.get("editable")) {
      parts.push(el("div", { class: "qc-cb-counts", text:
        Object.entries(d.counts).map(([k, v]) => `${v} ${k}`).join(" · ") }));
      const colour = el("input", { type: "color", class: "qc-cb-colour", value: d.colour });
      colour.addEventListener("change", () => model.send({ action: "colour", colour: colour.value }));
      const memo = el("textarea", { class: "qc-cb-memo", rows: 3, placeholder: "memo on this code" });
      memo.value = d.memo;
      parts.push(el("div", {}, "colour ", colour), memo,
        el("button", { class: "qc-cb-save", text: "Save memo", onclick: () => model.send({ action: "memo", text: memo.value }) }),
        el("div", { class: "qc-cb-message" + (model.get("error") ? " qc-error" : ""), text: model.get("message") }));
    }
    detail.replaceChildren(...parts);
  }

  find.value = model.get("find");
  find.addEventListener("input", () => { model.set("find", find.value); model.save_changes(); });
  root.addEventListener("keydown", (e) => e.stopPropagation());
  model.on("change:tree", drawTree);
  model.on("change:selected", drawTree);
  for (const name of ["detail", "message", "error"]) model.on(`change:${name}`, drawDetail);
  drawTree();
  drawDetail();
}

export default { render };
