import { ExternalIdentity } from './access-token';

/** What authentication needs to know of accounts; the user module answers it. */
export abstract class AccountDirectory {
  /** Whether a user with this id is registered. */
  abstract userExists(userId: string): Promise<boolean>;
  /** The local user of an external identity, created on first sight (once, even when raced). */
  abstract resolveExternal(identity: ExternalIdentity): Promise<string>;
}
