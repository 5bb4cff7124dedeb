import { Inject, Injectable } from '@nestjs/common';
import * as argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import { ConcurrencyLimit } from '../../../common/concurrency/concurrency-limit';
import { authConfig, AuthConfig } from '../../../common/config/configuration';
import { PasswordHasher } from '../domain/password-hasher';

/**
 * argon2id through the `argon2` binding, whose hash and verify run on libuv's thread pool, never
 * on the event loop. At most AUTH_ARGON2_CONCURRENCY of them run at once: a burst of logins then
 * waits in line here instead of occupying every pool thread (the bearer check's WebCrypto HMAC
 * runs there too) and every core (the event loop answering status polls needs one). The
 * parameters are stored in each hash, so raising them later leaves old hashes verifiable.
 */
@Injectable()
export class Argon2PasswordHasher extends PasswordHasher {
  private readonly options: argon2.HashOptions & { raw: false };
  private decoy?: Promise<string>;
  private readonly slots: ConcurrencyLimit;

  constructor(@Inject(authConfig.KEY) config: AuthConfig) {
    super();
    this.slots = new ConcurrencyLimit(config.argon2.concurrency);
    this.options = {
      type: argon2.argon2id,
      memoryCost: config.argon2.memoryKib,
      timeCost: config.argon2.timeCost,
      parallelism: config.argon2.parallelism,
      raw: false,
    };
  }

  hash(password: string): Promise<string> {
    return this.slots.run(() => argon2.hash(password, this.options));
  }

  async verify(hash: string, password: string): Promise<boolean> {
    try {
      return await this.slots.run(() => argon2.verify(hash, password));
    } catch {
      // A stored value that is not an argon2 hash proves nothing.
      return false;
    }
  }

  decoyHash(): Promise<string> {
    this.decoy ??= this.hash(randomBytes(32).toString('hex'));
    return this.decoy;
  }
}
