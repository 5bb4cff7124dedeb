import { User } from './user';

export abstract class UserRepository {
  abstract insert(user: User): Promise<void>;
  abstract findById(id: string): Promise<User | null>;
  abstract exists(id: string): Promise<boolean>;
  /** Which of these ids are registered users (one query, outside any transaction's scope). */
  abstract findExistingIds(ids: string[]): Promise<string[]>;
}
