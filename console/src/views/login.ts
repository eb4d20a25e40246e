// Sign in with email and password. The tenant is asked for only when the API says the email
// belongs to several tenants (TENANT_REQUIRED).
import { ApiError, describeError } from '../api/errors.js'
import { field, h, notice, say } from '../app/dom.js'
import type { View, ViewContext } from '../app/router.js'
import { safeNext } from '../app/next.js'

export function loginView(ctx: ViewContext): View {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true })
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true })
  const tenant = h('input', { type: 'text', name: 'tenant', autocomplete: 'organization', pattern: '[a-z0-9][a-z0-9-]*' })
  const tenantField = field('Tenant', tenant, 'This account exists in several tenants: give the tenant’s short name (slug).')
  tenantField.hidden = true
  const error = notice('error')
  const submit = h('button', { type: 'submit', class: 'button button--primary' }, 'Sign in')

  const form = h('form', { class: 'card login', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, 'Sign in to ReTrack'),
    field('Email', email), field('Password', password), tenantField, error, submit)

  form.addEventListener('submit', (event) => {
    event.preventDefault()
    say(error, null)
    submit.disabled = true
    ctx.session.login(email.value.trim(), password.value, tenant.value.trim() || undefined)
      .then(() => ctx.navigate(safeNext(ctx.search.get('next')), { replace: true }))
      .catch((err: unknown) => {
        if (err instanceof ApiError && err.code === 'TENANT_REQUIRED') {
          tenantField.hidden = false
          tenant.required = true
          tenant.focus()
        }
        say(error, err instanceof ApiError && err.code === 'BAD_CREDENTIALS' ? 'Wrong email, password or tenant.' : describeError(err))
      })
      .finally(() => { submit.disabled = false })
  })

  queueMicrotask(() => email.focus())
  return { title: 'Sign in', element: h('div', { class: 'login-page' }, form) }
}
