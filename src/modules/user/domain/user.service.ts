import { Injectable } from '@nestjs/common';
import { DomainError } from '../../../common/errors/domain-error';
import { ErrorCode } from '../../../common/errors/error-codes';
import { User } from './user';
import { UserRepository } from './user.repository';

@Injectable()
export class UserService {
  constructor(private readonly users: UserRepository) {}

  async register(name: string): Promise<User> {
    const user = User.register(name, new Date());
    await this.users.insert(user);
    return user;
  }

  async get(id: string): Promise<User> {
    const user = await this.users.findById(id);
    if (!user) throw new DomainError(ErrorCode.USER_NOT_FOUND, `User ${id} does not exist.`);
    return user;
  }

  /** The registered users among `ids`; lets a caller check a burst of users in one query. */
  async findExisting(ids: string[]): Promise<Set<string>> {
    return new Set(await this.users.findExistingIds(ids));
  }

  async assertExists(id: string): Promise<void> {
    if (!(await this.users.exists(id))) {
      throw new DomainError(ErrorCode.USER_NOT_FOUND, `User ${id} does not exist.`);
    }
  }
}
