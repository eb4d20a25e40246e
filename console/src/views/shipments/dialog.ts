// A modal form in a native <dialog>: focus is trapped and Escape closes it, for free. The submit
// handler runs the API call; an error stays in the dialog, success closes it.
import { describeError } from '../../api/errors.js'
import { h, notice, say, type Child } from '../../app/dom.js'

export interface FormDialog {
  element: HTMLDialogElement
  open(): void
}

export function formDialog(title: string, submitLabel: string, fields: Child[], submit: () => Promise<void>, opener?: () => void): FormDialog {
  const titleId = `dialog-${title.toLowerCase().replace(/\W+/g, '-')}`
  const error = notice('error')
  const submitButton = h('button', { type: 'submit', class: 'button button--primary' }, submitLabel)
  const close = h('button', { type: 'button', class: 'button button--quiet' }, 'Close')
  const form = h('form', { class: 'dialog__form' }, h('h2', { id: titleId }, title), ...fields, error,
    h('div', { class: 'dialog__buttons' }, close, submitButton))
  const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId }, form)

  close.addEventListener('click', () => dialog.close())
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    say(error, null)
    submitButton.disabled = true
    submit()
      .then(() => { form.reset(); dialog.close() })
      .catch((err: unknown) => say(error, describeError(err)))
      .finally(() => { submitButton.disabled = false })
  })
  return {
    element: dialog,
    open() { say(error, null); opener?.(); dialog.showModal() },
  }
}
