import { Inject, Injectable } from '@nestjs/common';
import * as argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import { authConfig, AuthConfig } from '../../../common/config/configuration';
import { PasswordHasher } from '../domain/password-hasher';

/**
 * argon2id through the `argon2` binding, whose hash and verify run on libuv's thread pool: a burst
 * of logins queues there (UV_THREADPOOL_SIZE threads) instead of blocking the event loop, so
 * status polls keep being answered. The parameters are stored in each hash, so raising them later
 * leaves old hashes verifiable.
 */
@Injectable()
export class Argon2PasswordHasher extends PasswordHasher {
  private readonly options: argon2.HashOptions & { raw: false };
  private decoy?: Promise<string>;

  constructor(@Inject(authConfig.KEY) config: AuthConfig) {
    super();
    this.options = {
      type: argon2.argon2id,
      memoryCost: config.argon2.memoryKib,
      timeCost: config.argon2.timeCost,
      parallelism: config.argon2.parallelism,
      raw: false,
    };
  }

  hash(password: string): Promise<string> {
    return argon2.hash(password, this.options);
  }

  async verify(hash: string, password: string): Promise<boolean> {
    try {
      return await argon2.verify(hash, password);
    } catch {
      // A stored value that is not an argon2 hash proves nothing.
      return false;
    }
  }

  decoyHash(): Promise<string> {
    this.decoy ??= argon2.hash(randomBytes(32).toString('hex'), this.options);
    return this.decoy;
  }
}
