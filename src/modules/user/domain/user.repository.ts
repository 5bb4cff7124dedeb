import { User } from './user';

export interface Credentials {
  emailKey: string;
  passwordHash: string;
}

export abstract class UserRepository {
  /** Inserts the user; with credentials, a taken email key → DomainError EMAIL_TAKEN. */
  abstract insert(user: User, credentials: Credentials | null): Promise<void>;
  abstract findById(id: string): Promise<User | null>;
  /** Which of these ids are registered users (one query, outside any transaction's scope). */
  abstract findExistingIds(ids: string[]): Promise<string[]>;
  abstract findCredentials(
    emailKey: string,
  ): Promise<{ userId: string; passwordHash: string } | null>;
  abstract findIdentityOwner(issuer: string, subject: string): Promise<string | null>;
  /** Links an external identity to a user; false when another request linked it first. */
  abstract linkIdentity(issuer: string, subject: string, userId: string): Promise<boolean>;
}
