// Building elements without innerHTML: data from the API only ever becomes text nodes.

/**
 * h('button', {class: 'primary', 'on:click': fn, 'data-id': 3, 'aria-label': 'x', text: 'OK'}, ...children)
 * Attributes: `class`, `text` (the text content), `on:<event>` (a listener), anything else as an
 * attribute (true -> present, false/null/undefined -> absent). Children: nodes, strings and
 * numbers (text nodes), arrays of them; null/false/undefined are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on:')) el.addEventListener(name.slice(3), value);
    else if (name === 'text') el.textContent = String(value);
    else if (name === 'class') el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    else if (name === 'value' && 'value' in el) el.value = value;
    else if (name === 'checked' || name === 'selected') el[name] = Boolean(value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}
