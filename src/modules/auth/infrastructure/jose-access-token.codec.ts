import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import {
  type CryptoKey,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  SignJWT,
} from 'jose';
import { randomUUID, webcrypto } from 'node:crypto';
import { authConfig, AuthConfig } from '../../../common/config/configuration';
import {
  AccessTokenCodec,
  InvalidAccessToken,
  IssuedAccessToken,
  VerifiedAccessToken,
} from '../domain/access-token';

/** Allowed lateness of `exp` / earliness of `nbf`, for clocks that drift between hosts. */
const CLOCK_TOLERANCE_SECONDS = 30;
const LOCAL_ALGORITHM = 'HS256';
const EXTERNAL_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];
/**
 * The JWKS is refetched at once for a key id it does not hold (at most once per
 * AUTH_JWKS_COOLDOWN_MS), and in the background every 5 minutes so removed keys stop being
 * trusted. Requests never wait for the background refresh: cacheMaxAge is unbounded, so known
 * keys are always served from memory.
 */
const JWKS_REFRESH_MS = 5 * 60_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

type RemoteKeySet = ReturnType<typeof createRemoteJWKSet>;

/** HS256 tokens of our own (AUTH_JWT_SECRET) and, when configured, an identity provider's. */
@Injectable()
export class JoseAccessTokenCodec extends AccessTokenCodec implements OnModuleDestroy {
  private readonly logger = new Logger('Auth');
  /**
   * Imported once as a WebCrypto key: handed a KeyObject, jose converts it on every call; the
   * imported key costs about two thirds of the CPU per bearer check (measured in alternating runs).
   */
  private readonly secret: Promise<CryptoKey>;
  private readonly externalKeys?: RemoteKeySet;
  private readonly refreshTimer?: NodeJS.Timeout;

  constructor(@Inject(authConfig.KEY) private readonly config: AuthConfig) {
    super();
    this.secret = webcrypto.subtle.importKey(
      'raw',
      Buffer.from(config.jwtSecret, 'utf8'),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    );
    if (config.jwks) {
      const keys = createRemoteJWKSet(new URL(config.jwks.url), {
        timeoutDuration: config.jwks.timeoutMs,
        cooldownDuration: config.jwks.cooldownMs,
        cacheMaxAge: Number.POSITIVE_INFINITY,
      });
      this.externalKeys = keys;
      this.refreshTimer = setInterval(() => {
        keys.reload().catch((error: unknown) => {
          // The keys already known stay in use; only tokens signed by a new key wait for a fetch.
          this.logger.warn(`JWKS refresh failed: ${(error as Error).message}`);
        });
      }, JWKS_REFRESH_MS).unref();
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.refreshTimer);
  }

  async issue(userId: string): Promise<IssuedAccessToken> {
    const ttl = this.config.tokenTtlSeconds;
    const accessToken = await new SignJWT({})
      .setProtectedHeader({ alg: LOCAL_ALGORITHM, typ: 'JWT' })
      .setIssuer(this.config.issuer)
      .setAudience(this.config.audience)
      .setSubject(userId)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(`${ttl}s`)
      .sign(await this.secret);
    return { accessToken, tokenType: 'Bearer', expiresIn: ttl };
  }

  async verify(token: string): Promise<VerifiedAccessToken> {
    const algorithm = this.algorithmOf(token);
    if (algorithm === LOCAL_ALGORITHM) {
      const secret = await this.secret;
      const payload = await this.check(() =>
        jwtVerify(token, secret, {
          algorithms: [LOCAL_ALGORITHM],
          issuer: this.config.issuer,
          audience: this.config.audience,
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          requiredClaims: ['exp', 'sub'],
        }),
      );
      if (!payload.sub || !UUID.test(payload.sub))
        throw new InvalidAccessToken('sub is no user id');
      return { kind: 'local', userId: payload.sub };
    }
    const keys = this.externalKeys;
    const jwks = this.config.jwks;
    if (!keys || !jwks || !EXTERNAL_ALGORITHMS.includes(algorithm)) {
      throw new InvalidAccessToken(`algorithm ${algorithm} not accepted`);
    }
    const payload = await this.check(() =>
      jwtVerify(token, keys, {
        algorithms: EXTERNAL_ALGORITHMS,
        issuer: jwks.issuer,
        audience: this.config.audience,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp', 'sub'],
      }),
    );
    const subject = boundedString(payload.sub, 255);
    if (!subject) throw new InvalidAccessToken('sub missing or too long');
    return {
      kind: 'external',
      identity: {
        issuer: jwks.issuer,
        subject,
        name: boundedString(payload.name, 50),
        email: boundedString(payload.email, 254),
      },
    };
  }

  private algorithmOf(token: string): string {
    try {
      const { alg } = decodeProtectedHeader(token);
      if (typeof alg === 'string') return alg;
    } catch {
      // fall through: not a JWS at all
    }
    throw new InvalidAccessToken('no JWS header');
  }

  /**
   * Runs one verification. jose's own errors mean "not accepted" (401); the JWKS being
   * unreachable for a key we have never seen is also a 401, since we cannot prove the token.
   */
  private async check(verify: () => Promise<{ payload: JWTPayload }>): Promise<JWTPayload> {
    try {
      return (await verify()).payload;
    } catch (error) {
      if (error instanceof errors.JOSEError || error instanceof TypeError) {
        this.logger.debug?.(`access token refused: ${error.message}`);
        throw new InvalidAccessToken(error.message);
      }
      throw error;
    }
  }
}

function boundedString(value: unknown, max: number): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  // eslint-disable-next-line no-control-regex
  if (trimmed.length === 0 || trimmed.length > max || /[\u0000-\u001f\u007f]/.test(trimmed)) {
    return null;
  }
  return trimmed;
}
