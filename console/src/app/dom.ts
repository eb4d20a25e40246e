// A few lines instead of a framework: build elements with attributes, listeners and children.
// Text is always set as text (never parsed as HTML), so API data cannot inject markup.

type Listener = (event: Event) => void
export type Props = Record<string, string | number | boolean | null | undefined | Listener>
export type Child = Node | string | number | null | undefined | false

/** `h('button', { type: 'button', onclick: go }, 'Go')`; keys starting with "on" add listeners. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue
    if (typeof value === 'function') element.addEventListener(key.slice(2), value)
    else element.setAttribute(key, value === true ? '' : String(value))
  }
  append(element, ...children)
  return element
}

export function append(parent: Element, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    parent.append(typeof child === 'number' ? String(child) : child)
  }
}

/** Replaces an element's children. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren()
  append(parent, ...children)
}

let hints = 0

/**
 * A labelled form control: the label wraps the control (named without ids); a hint sits outside
 * the label, tied by aria-describedby, so it is read as a description and not as part of the name.
 */
export function field(label: string, control: HTMLElement, hint?: string): HTMLDivElement {
  const description = hint ? h('small', { class: 'field__hint', id: `field-hint-${++hints}` }, hint) : null
  if (description) control.setAttribute('aria-describedby', description.id)
  return h('div', { class: 'field' }, h('label', {}, h('span', { class: 'field__label' }, label), control), description)
}

/** A status message region; `role=alert` for errors so screen readers announce them. */
export function notice(kind: 'error' | 'info'): HTMLParagraphElement {
  return h('p', { class: `notice notice--${kind}`, role: kind === 'error' ? 'alert' : 'status', hidden: true })
}

export function say(region: HTMLElement, text: string | null): void {
  region.textContent = text ?? ''
  region.hidden = !text
}
