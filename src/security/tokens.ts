// Access tokens (users) and device tokens (MQTT password alternative) are HS256 JWTs with one
// secret. Refresh tokens are opaque random strings stored only as a hash, rotated on every use.
import { createHash, randomBytes } from 'node:crypto'
import { createSigner, createVerifier } from 'fast-jwt'

export type UserRole = 'admin' | 'operator' | 'viewer'
export type Role = UserRole | 'device'

export interface UserClaims {
  typ: 'access'
  sub: string
  tid: string
  ten: string
  role: UserRole
  pa?: boolean
  /** the user's session version when issued (absent: 0): a password change or a disable bumps it, ending the token */
  sv?: number
}

export interface DeviceClaims {
  typ: 'device'
  sub: string
  tid: string
  ten: string
  role: 'device'
  /** the device's secret version when issued: a rotation makes the token useless */
  sv: number
}

export type Claims = UserClaims | DeviceClaims

export class TokenService {
  private readonly signAccess: (claims: UserClaims) => string
  private readonly signDevice: (claims: DeviceClaims) => string
  private readonly verifier: (token: string) => Claims

  constructor(secret: string, readonly accessTtlS: number, readonly deviceTtlS: number) {
    this.signAccess = createSigner({ key: secret, algorithm: 'HS256', expiresIn: accessTtlS * 1000 })
    this.signDevice = createSigner({ key: secret, algorithm: 'HS256', expiresIn: deviceTtlS * 1000 })
    this.verifier = createVerifier({ key: secret, algorithms: ['HS256'], cache: 1000 })
  }

  accessToken(claims: Omit<UserClaims, 'typ'>): string {
    return this.signAccess({ ...claims, typ: 'access' })
  }

  deviceToken(claims: Omit<DeviceClaims, 'typ' | 'role'>): string {
    return this.signDevice({ ...claims, typ: 'device', role: 'device' })
  }

  /** Throws on a bad signature, expiry or malformed token. */
  verify(token: string): Claims {
    return this.verifier(token)
  }
}

export function newRefreshToken(): { token: string, hash: string } {
  const token = randomBytes(32).toString('base64url')
  return { token, hash: hashRefreshToken(token) }
}

export const hashRefreshToken = (token: string) => createHash('sha256').update(token).digest('hex')
