/**
 * Element building without HTML strings: every piece of text becomes a Text node, so a
 * name such as "<img src=x onerror=...>" is shown, never parsed.
 */
export type Child = Node | string | number | null | undefined | false;

export interface Props {
  class?: string;
  id?: string;
  /** Attributes; true sets an empty attribute, false/undefined leaves it out. */
  attrs?: Record<string, string | number | boolean | undefined | null>;
  on?: { [K in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[K]) => void };
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Props | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props) {
    if (props.class) el.className = props.class;
    if (props.id) el.id = props.id;
    for (const [name, value] of Object.entries(props.attrs ?? {})) {
      if (value === true) el.setAttribute(name, '');
      else if (value !== false && value !== undefined && value !== null) el.setAttribute(name, String(value));
    }
    for (const [type, listener] of Object.entries(props.on ?? {})) {
      el.addEventListener(type, listener as EventListener);
    }
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

export function setChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

/** Moves focus back to the element with this data-focus-key after a re-render. */
export function focusKeyOf(el: Element | null): string | null {
  return el instanceof HTMLElement ? el.dataset.focusKey ?? null : null;
}

export function restoreFocus(root: ParentNode, key: string | null): void {
  if (!key) return;
  const target = root.querySelector<HTMLElement>(`[data-focus-key="${CSS.escape(key)}"]`);
  target?.focus();
}
