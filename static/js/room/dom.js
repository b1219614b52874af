// Building elements: one call per element, text always as text.

// An element with a class, text (as a text node) and attributes.
export function element(tag, { className = '', text = null, attrs = {} } = {}) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== null) el.textContent = text;
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
  return el;
}

// A button (type "button" unless said otherwise); `label` is its accessible name when the text is not.
export function button(text, { className = '', type = 'button', label = '', attrs = {} } = {}) {
  const el = element('button', { className, text, attrs: label ? { ...attrs, 'aria-label': label } : attrs });
  el.type = type;
  return el;
}

// Roving tabindex (WAI-ARIA APG): of a set of controls only `to` is a Tab stop, and it takes focus.
export function moveRovingFocus(controls, to) {
  for (const control of controls) control.tabIndex = control === to ? 0 : -1;
  to.focus();
}

// A key in a roving set: `steps` maps keys to moves (+1, -1, wrapping), Home and
// End go to the ends. Moves focus and returns true if the key was one of them.
export function roveByKey(event, controls, steps) {
  const at = controls.indexOf(event.target);
  if (at < 0) return false;
  const step = steps[event.key];
  let next = null;
  if (step) next = controls[(at + step + controls.length) % controls.length];
  else if (event.key === 'Home') next = controls[0];
  else if (event.key === 'End') next = controls[controls.length - 1];
  if (!next) return false;
  event.preventDefault();
  moveRovingFocus(controls, next);
  return true;
}
