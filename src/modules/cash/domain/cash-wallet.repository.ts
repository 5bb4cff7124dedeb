export abstract class CashWalletRepository {
  /** Creates an empty wallet; a no-op when the user already has one. */
  abstract createEmpty(userId: string): Promise<void>;
}
