// qualcode attribute sheet: an editable grid of document or case attributes (anywidget ES module).
function render({ model, el: root }) {
  root.classList.add("qc-sheet");
  const entity = el("select", {}, el("option", { value: "document", text: "documents" }), el("option", { value: "case", text: "cases" }));
  const newKey = el("input", { class: "qc-s-newkey", placeholder: "new attribute" });
  const addButton = el("button", { text: "Add column" });
  const message = el("div", { class: "qc-s-message", role: "status" });
  const grid = el("div", { class: "qc-s-grid" });
  root.replaceChildren(el("div", { class: "qc-s-toolbar" }, "Attributes of ", entity, newKey, addButton), message, grid);
  let extra = [];

  function draw() {
    entity.value = model.get("entity");
    const fixed = model.get("fixed");
    const columns = [...model.get("columns"), ...extra.filter((k) => !model.get("columns").includes(k))];
    const table = el("table", {}, el("tr", {}, ...columns.map((c) => el("th", { text: c }))));
    for (const row of model.get("rows")) {
      table.append(el("tr", {}, ...columns.map((c) => {
        if (fixed.includes(c)) return el("td", { class: "qc-s-fixed", text: row[c] || "" });
        const input = el("input", { value: row[c] || "", "data-key": c, "data-id": row.id });
        input.addEventListener("change", () =>
          model.send({ action: "set", id: Number(row.id), key: c, value: input.value }));
        return el("td", {}, input);
      })));
    }
    grid.replaceChildren(table);
    message.textContent = model.get("message");
    message.classList.toggle("qc-error", model.get("error"));
  }
  entity.addEventListener("change", () => { extra = []; model.set("entity", entity.value); model.save_changes(); });
  addButton.addEventListener("click", () => { if (newKey.value.trim()) extra.push(newKey.value.trim()); newKey.value = ""; draw(); });
  root.addEventListener("keydown", (e) => e.stopPropagation());
  for (const name of ["rows", "columns", "message", "error", "entity"]) model.on(`change:${name}`, draw);
  draw();
}

export default { render };
