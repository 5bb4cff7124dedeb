/** A memory-hard password hash (argon2id); both calls run off the event loop. */
export abstract class PasswordHasher {
  abstract hash(password: string): Promise<string>;
  /** False for a wrong password; never throws for one. */
  abstract verify(hash: string, password: string): Promise<boolean>;
  /**
   * A hash of nothing anyone knows, verified when the email is unknown so that an unknown email
   * and a wrong password take the same time (no account enumeration by timing).
   */
  abstract decoyHash(): Promise<string>;
}
