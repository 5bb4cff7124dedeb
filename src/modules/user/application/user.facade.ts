import { Inject, Injectable } from '@nestjs/common';
import { BatchedLoader } from '../../../common/batching/batched-loader';
import { authConfig, AuthConfig } from '../../../common/config/configuration';
import { TransactionHost } from '../../../common/database/transaction';
import { RateLimiter, RateWindow } from '../../../common/rate-limit/rate-limiter';
import { ExternalIdentity } from '../../auth/domain/access-token';
import { AccountDirectory } from '../../auth/domain/account-directory';
import { CashService } from '../../cash/domain/cash.service';
import { User } from '../domain/user';
import { IdentityAlreadyLinked, UserService } from '../domain/user.service';

export interface SignUpRequest {
  name: string;
  email: string;
  password: string;
}

/**
 * Users are never deleted, so "this id is a user" and "this identity is that user" stay true once
 * seen: remembering them per instance is safe, and spares MySQL a lookup on every authenticated
 * request. The bound only caps memory; forgetting costs one query.
 */
const KNOWN_USERS_MAX = 200_000;

@Injectable()
export class UserFacade extends AccountDirectory {
  private readonly signUps: RateWindow;
  private readonly knownUsers = new Set<string>();
  private readonly knownIdentities = new Map<string, string>();
  private readonly registeredUsers = new BatchedLoader<string, true>(async (ids) => {
    const found = await this.users.findExisting(ids);
    return new Map([...found].map((id) => [id, true]));
  });

  constructor(
    private readonly users: UserService,
    private readonly cash: CashService,
    private readonly limiter: RateLimiter,
    private readonly txHost: TransactionHost,
    @Inject(authConfig.KEY) config: AuthConfig,
  ) {
    super();
    this.signUps = { name: 'signups', limit: config.signupsPerHour, windowSeconds: 3600 };
  }

  /** A new user starts with an empty wallet, created in the same transaction. */
  async signUp(request: SignUpRequest, clientAddress: string): Promise<User> {
    if (this.signUps.limit > 0) await this.limiter.consume(this.signUps, clientAddress);
    const passwordHash = await this.users.hashPassword(request.password);
    return this.txHost.withTransaction(async () => {
      const user = await this.users.register({ ...request, passwordHash });
      await this.cash.openWallet(user.id);
      return user;
    });
  }

  getUser(userId: string): Promise<User> {
    return this.users.get(userId);
  }

  async userExists(userId: string): Promise<boolean> {
    if (this.knownUsers.has(userId)) return true;
    const exists = (await this.registeredUsers.load(userId)) === true;
    if (exists) remember(this.knownUsers, userId);
    return exists;
  }

  async resolveExternal(identity: ExternalIdentity): Promise<string> {
    const cacheKey = `${identity.issuer}\u0000${identity.subject}`;
    const cached = this.knownIdentities.get(cacheKey);
    if (cached) return cached;
    const userId =
      (await this.users.findIdentityOwner(identity.issuer, identity.subject)) ??
      (await this.registerExternal(identity));
    if (this.knownIdentities.size >= KNOWN_USERS_MAX) this.knownIdentities.clear();
    this.knownIdentities.set(cacheKey, userId);
    return userId;
  }

  /** First sight of an identity: user, wallet and link in one transaction; a racing loser reads the winner's. */
  private async registerExternal(identity: ExternalIdentity): Promise<string> {
    try {
      const user = await this.txHost.withTransaction(async () => {
        const created = await this.users.registerExternal(
          identity.issuer,
          identity.subject,
          identity,
        );
        await this.cash.openWallet(created.id);
        return created;
      });
      return user.id;
    } catch (error) {
      if (!(error instanceof IdentityAlreadyLinked)) throw error;
      const winner = await this.users.findIdentityOwner(identity.issuer, identity.subject);
      if (!winner)
        throw new Error('identity link vanished after a duplicate key', { cause: error });
      return winner;
    }
  }
}

function remember(set: Set<string>, value: string): void {
  if (set.size >= KNOWN_USERS_MAX) set.clear();
  set.add(value);
}
