import { Injectable } from '@nestjs/common';
import { PasswordHasher } from './password-hasher';
import { emailKey, User } from './user';
import { credentialsInvalid, userNotFound } from './user.errors';
import { UserRepository } from './user.repository';

export interface SignUp {
  name: string;
  email: string;
  /** From hashPassword, computed before the transaction opens. */
  passwordHash: string;
}

/** Accounts: signing up, proving a password, and the users external providers vouch for. */
@Injectable()
export class UserService {
  constructor(
    private readonly users: UserRepository,
    private readonly hasher: PasswordHasher,
  ) {}

  /** Hashing takes tens of milliseconds on purpose; callers do it outside any transaction. */
  hashPassword(password: string): Promise<string> {
    return this.hasher.hash(password);
  }

  async register(signUp: SignUp): Promise<User> {
    const user = User.register(signUp.name, signUp.email, new Date());
    await this.users.insert(user, {
      emailKey: emailKey(signUp.email),
      passwordHash: signUp.passwordHash,
    });
    return user;
  }

  /**
   * The user these credentials prove, or 401 CREDENTIALS_INVALID. An unknown email costs one
   * decoy verification, so both failures look and last the same.
   */
  async authenticate(email: string, password: string): Promise<User> {
    const found = await this.users.findCredentials(emailKey(email));
    const hash = found?.passwordHash ?? (await this.hasher.decoyHash());
    const matches = await this.hasher.verify(hash, password);
    const user = found && matches ? await this.users.findById(found.userId) : null;
    if (!user) {
      throw credentialsInvalid();
    }
    return user;
  }

  async get(id: string): Promise<User> {
    const user = await this.users.findById(id);
    if (!user) throw userNotFound();
    return user;
  }

  /** The registered users among `ids`; lets a caller check a burst of users in one query. */
  async findExisting(ids: string[]): Promise<Set<string>> {
    return new Set(await this.users.findExistingIds(ids));
  }

  findIdentityOwner(issuer: string, subject: string): Promise<string | null> {
    return this.users.findIdentityOwner(issuer, subject);
  }

  /**
   * A user for an external identity. Throws IdentityAlreadyLinked when a concurrent request
   * linked it first: the caller's transaction must then roll back and read the winner's user.
   */
  async registerExternal(
    issuer: string,
    subject: string,
    profile: { name: string | null; email: string | null },
  ): Promise<User> {
    const user = User.register(profile.name ?? subject.slice(0, 50), profile.email, new Date());
    await this.users.insert(user, null);
    if (!(await this.users.linkIdentity(issuer, subject, user.id))) {
      throw new IdentityAlreadyLinked();
    }
    return user;
  }
}

export class IdentityAlreadyLinked extends Error {
  constructor() {
    super('external identity already linked to a user');
    this.name = 'IdentityAlreadyLinked';
  }
}
