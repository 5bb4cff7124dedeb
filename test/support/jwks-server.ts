import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ExternalAlgorithm = 'RS256' | 'ES256' | 'EdDSA';

interface SigningKey {
  kid: string;
  alg: ExternalAlgorithm;
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  publicJwk: JWK;
}

/**
 * A stand-in identity provider for tests: serves a JWKS of keys it generates itself, signs tokens
 * with them, and can be told to publish more keys, fail, or hang, to test caching and refresh.
 */
export class TestIdentityProvider {
  readonly issuer = 'https://idp.test.example/';
  private readonly keys = new Map<string, SigningKey>();
  private readonly published = new Set<string>();
  private server?: Server;
  mode: 'serve' | 'fail' | 'hang' = 'serve';
  fetches = 0;

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      this.fetches += 1;
      if (this.mode === 'hang') return; // never answers: the client's timeout must end it
      if (this.mode === 'fail') {
        response.writeHead(500).end();
        return;
      }
      const keys = [...this.published].map((kid) => this.keys.get(kid)?.publicJwk);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }

  /** A new key; published in the JWKS unless `publish` is false. */
  async addKey(alg: ExternalAlgorithm, kid: string, publish = true): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    this.keys.set(kid, { kid, alg, privateKey, publicJwk });
    if (publish) this.published.add(kid);
  }

  publish(kid: string): void {
    this.published.add(kid);
  }

  sign(
    kid: string,
    claims: { sub: string; name?: string; email?: string },
    overrides: { issuer?: string; audience?: string; expiresIn?: string } = {},
  ): Promise<string> {
    const key = this.keys.get(kid);
    if (!key) throw new Error(`no key ${kid}`);
    const { sub, ...rest } = claims;
    return new SignJWT(rest)
      .setProtectedHeader({ alg: key.alg, kid, typ: 'JWT' })
      .setIssuer(overrides.issuer ?? this.issuer)
      .setAudience(overrides.audience ?? 'concert-booking-api')
      .setSubject(sub)
      .setIssuedAt()
      .setExpirationTime(overrides.expiresIn ?? '10m')
      .sign(key.privateKey);
  }
}
