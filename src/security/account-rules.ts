// What a tenant and its first admin must look like, wherever they come from: the API (its request
// schemas use the same limits), `retrack bootstrap` / `create-tenant`, and the BOOTSTRAP_* settings.
// Kept free of the database and of Node APIs so the configuration can check BOOTSTRAP_* with it.
import { fullFormats } from 'ajv-formats/dist/formats.js'

export const TENANT_SLUG_PATTERN = '^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$'
export const EMAIL_MAX_LENGTH = 254
export const PASSWORD_MIN_LENGTH = 8
export const PASSWORD_MAX_LENGTH = 200
export const NAME_MAX_LENGTH = 200

const slugRe = new RegExp(TENANT_SLUG_PATTERN)
/** The API's `format: 'email'` (ajv-formats, full mode), so every path accepts the same addresses. */
const emailRe = fullFormats.email as RegExp

export type AccountField = 'slug' | 'name' | 'email' | 'password' | 'adminName'

export interface AccountProblem { field: AccountField, problem: string }

/** What is wrong with a new tenant and its admin (never quoting the password), or nothing. */
export function accountProblems(input: { slug?: string | undefined, name?: string | undefined, email?: string | undefined, password?: string | undefined, adminName?: string | undefined }): AccountProblem[] {
  const problems: AccountProblem[] = []
  const { slug, name, email, password, adminName } = input
  if (slug !== undefined && !slugRe.test(slug)) {
    problems.push({ field: 'slug', problem: 'must be 1-48 lowercase letters, digits or dashes (no leading or trailing dash)' })
  }
  if (name !== undefined && (name.length < 1 || name.length > NAME_MAX_LENGTH)) problems.push({ field: 'name', problem: `must be 1-${NAME_MAX_LENGTH} characters` })
  if (email !== undefined && (email.length > EMAIL_MAX_LENGTH || !emailRe.test(email))) problems.push({ field: 'email', problem: 'must be an email address' })
  if (password !== undefined && password.length < PASSWORD_MIN_LENGTH) problems.push({ field: 'password', problem: `must be at least ${PASSWORD_MIN_LENGTH} characters` })
  if (password !== undefined && password.length > PASSWORD_MAX_LENGTH) problems.push({ field: 'password', problem: `must be at most ${PASSWORD_MAX_LENGTH} characters` })
  if (adminName !== undefined && adminName.length > NAME_MAX_LENGTH) problems.push({ field: 'adminName', problem: `must be at most ${NAME_MAX_LENGTH} characters` })
  return problems
}

/**
 * Passwords published in examples and guides (docker-compose files, READMEs, tutorials), or the first
 * ones anybody tries. Compared without case, spaces or punctuation: `Change-Me!` is `changeme`.
 */
const PLACEHOLDER_PASSWORDS = new Set([
  'changeme', 'changemeplease', 'changeit', 'password', 'password1', 'password123', 'passw0rd', 'admin', 'admin123',
  'adminadmin', 'administrator', 'retrack', 'retrack123', 'retrackadmin', 'secret', 'letmein', '12345678', '123456789',
  'qwerty123', 'default', 'example', 'demo1234',
])

/** Whether `password` is a well-known placeholder (a first admin must not keep one). */
export function isPlaceholderPassword(password: string): boolean {
  return PLACEHOLDER_PASSWORDS.has(password.toLowerCase().replace(/[^\p{L}\p{N}]/gu, ''))
}
