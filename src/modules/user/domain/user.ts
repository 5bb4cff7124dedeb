import { randomUUID } from 'node:crypto';

export class User {
  constructor(
    readonly id: string,
    readonly name: string,
    /** Null for users of an external identity provider that sent no email claim. */
    readonly email: string | null,
    readonly createdAt: Date,
  ) {}

  static register(name: string, email: string | null, now: Date): User {
    // NFC: one spelling per name, also for names an identity provider sends.
    return new User(randomUUID(), name.trim().normalize('NFC'), email?.trim() ?? null, now);
  }
}

/**
 * The form of an email that makes "one account per address" case-insensitive: two sign-ups that
 * differ only in case are the same login, whatever the database collation.
 */
export function emailKey(email: string): string {
  return email.trim().toLowerCase();
}
