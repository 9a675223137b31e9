// The DOM helper every qualcode widget draws with; qualcode.widgets.assets.module() puts it
// before each widget's own file, so the one ES module anywidget loads holds both.

// el("div", { class: "x", text: "hi", onclick: f }, child, ...): an element with its attributes,
// listeners and children.
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c != null) node.append(c);
  return node;
}
