/** Who an external identity provider says the caller is. */
export interface ExternalIdentity {
  issuer: string;
  subject: string;
  name: string | null;
  email: string | null;
}

/** A token whose signature, issuer, audience and lifetime have been checked. */
export type VerifiedAccessToken =
  { kind: 'local'; userId: string } | { kind: 'external'; identity: ExternalIdentity };

export interface IssuedAccessToken {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

/**
 * Signs and checks access tokens (JWTs). `verify` throws InvalidAccessToken for anything it does
 * not accept; it never says why to the caller, only to the log at debug level.
 */
export abstract class AccessTokenCodec {
  abstract issue(userId: string): Promise<IssuedAccessToken>;
  abstract verify(token: string): Promise<VerifiedAccessToken>;
}

export class InvalidAccessToken extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'InvalidAccessToken';
  }
}
