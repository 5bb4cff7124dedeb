import { TransactionHost } from '../../../common/database/transaction';
import { Injectable } from '@nestjs/common';
import { User } from '../domain/user';
import { UserRepository } from '../domain/user.repository';

interface UserRow {
  id: string;
  name: string;
  created_at: Date;
}

@Injectable()
export class UserTypeOrmRepository extends UserRepository {
  constructor(private readonly txHost: TransactionHost) {
    super();
  }

  async insert(user: User): Promise<void> {
    await this.txHost.tx.query('INSERT INTO users (id, name, created_at) VALUES (?, ?, ?)', [
      user.id,
      user.name,
      user.createdAt,
    ]);
  }

  async findById(id: string): Promise<User | null> {
    const rows: UserRow[] = await this.txHost.tx.query(
      'SELECT id, name, created_at FROM users WHERE id = ?',
      [id],
    );
    return rows[0] ? toModel(rows[0]) : null;
  }

  async exists(id: string): Promise<boolean> {
    const rows: unknown[] = await this.txHost.tx.query('SELECT 1 FROM users WHERE id = ?', [id]);
    return rows.length > 0;
  }

  async findExistingIds(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows: { id: string }[] = await this.txHost.tx.query(
      'SELECT id FROM users WHERE id IN (?)',
      [ids],
    );
    return rows.map((row) => row.id);
  }
}

function toModel(row: UserRow): User {
  return new User(row.id, row.name, row.created_at);
}
