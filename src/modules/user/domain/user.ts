import { randomUUID } from 'node:crypto';

export class User {
  constructor(
    readonly id: string,
    readonly name: string,
    readonly createdAt: Date,
  ) {}

  static register(name: string, now: Date): User {
    return new User(randomUUID(), name.trim(), now);
  }
}
