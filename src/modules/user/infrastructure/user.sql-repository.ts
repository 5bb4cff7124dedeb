import { Injectable } from '@nestjs/common';
import { isDuplicateKeyError } from '../../../common/database/sql';
import { TransactionHost } from '../../../common/database/transaction';
import { User } from '../domain/user';
import { emailTaken } from '../domain/user.errors';
import { Credentials, UserRepository } from '../domain/user.repository';

interface UserRow {
  id: string;
  name: string;
  email: string | null;
  created_at: Date;
}

@Injectable()
export class UserSqlRepository extends UserRepository {
  constructor(private readonly txHost: TransactionHost) {
    super();
  }

  async insert(user: User, credentials: Credentials | null): Promise<void> {
    try {
      await this.txHost.tx.query(
        `INSERT INTO users (id, name, email, email_key, password_hash, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
        [
          user.id,
          user.name,
          user.email,
          credentials?.emailKey ?? null,
          credentials?.passwordHash ?? null,
          user.createdAt,
        ],
      );
    } catch (error) {
      // The only unique key a new row can hit besides its fresh UUID is the email key.
      if (isDuplicateKeyError(error)) {
        throw emailTaken();
      }
      throw error;
    }
  }

  async findById(id: string): Promise<User | null> {
    const rows: UserRow[] = await this.txHost.tx.query(
      'SELECT id, name, email, created_at FROM users WHERE id = ?',
      [id],
    );
    return rows[0] ? toModel(rows[0]) : null;
  }

  async findExistingIds(ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows: { id: string }[] = await this.txHost.tx.query(
      'SELECT id FROM users WHERE id IN (?)',
      [ids],
    );
    return rows.map((row) => row.id);
  }

  async findCredentials(
    emailKey: string,
  ): Promise<{ userId: string; passwordHash: string } | null> {
    const rows: { id: string; password_hash: string | null }[] = await this.txHost.tx.query(
      'SELECT id, password_hash FROM users WHERE email_key = ?',
      [emailKey],
    );
    const row = rows[0];
    return row?.password_hash ? { userId: row.id, passwordHash: row.password_hash } : null;
  }

  async findIdentityOwner(issuer: string, subject: string): Promise<string | null> {
    const rows: { user_id: string }[] = await this.txHost.tx.query(
      'SELECT user_id FROM user_identities WHERE issuer = ? AND subject = ?',
      [issuer, subject],
    );
    return rows[0]?.user_id ?? null;
  }

  async linkIdentity(issuer: string, subject: string, userId: string): Promise<boolean> {
    try {
      await this.txHost.tx.query(
        'INSERT INTO user_identities (issuer, subject, user_id, created_at) VALUES (?, ?, ?, UTC_TIMESTAMP(3))',
        [issuer, subject, userId],
      );
      return true;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }
}

function toModel(row: UserRow): User {
  return new User(row.id, row.name, row.email, row.created_at);
}
