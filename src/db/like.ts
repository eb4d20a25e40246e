// Text filters through Prisma. Prisma hands `contains` to PostgreSQL as a LIKE/ILIKE pattern without
// escaping it, so a `%` or `_` in what a user typed would be a wildcard (`?q=%` matched everything).
// Escaped with a backslash, PostgreSQL's default LIKE escape, every character matches only itself.

/** `text` as a LIKE pattern fragment that matches exactly `text`: `\`, `%` and `_` escaped. */
export const escapeLike = (text: string): string => text.replace(/[\\%_]/g, '\\$&')

/** A Prisma string filter: `text` as a case-insensitive substring, taken literally. */
export const containsText = (text: string) => ({ contains: escapeLike(text), mode: 'insensitive' as const })
