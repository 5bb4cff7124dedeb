import {
  AccessTokenCodec,
  ExternalIdentity,
  InvalidAccessToken,
  IssuedAccessToken,
  VerifiedAccessToken,
} from './access-token';
import { AccountDirectory } from './account-directory';
import { AuthenticationService } from './authentication.service';
import { codeOf } from '../../../../test/support/assertions';

const USER = '7d3c1a52-2b7e-4c1e-9a0f-1f2e3d4c5b6a';

class FakeCodec extends AccessTokenCodec {
  readonly seen: string[] = [];
  constructor(private readonly answers: Record<string, VerifiedAccessToken>) {
    super();
  }
  issue(): Promise<IssuedAccessToken> {
    throw new Error('not used');
  }
  verify(token: string): Promise<VerifiedAccessToken> {
    this.seen.push(token);
    const answer = this.answers[token];
    return answer ? Promise.resolve(answer) : Promise.reject(new InvalidAccessToken('bad'));
  }
}

class FakeDirectory extends AccountDirectory {
  readonly users = new Set([USER]);
  readonly resolved: ExternalIdentity[] = [];
  userExists(userId: string): Promise<boolean> {
    return Promise.resolve(this.users.has(userId));
  }
  resolveExternal(identity: ExternalIdentity): Promise<string> {
    this.resolved.push(identity);
    return Promise.resolve('external-user');
  }
}

describe('AuthenticationService', () => {
  const identity = { issuer: 'https://idp/', subject: 's1', name: null, email: null };
  let codec: FakeCodec;
  let directory: FakeDirectory;
  let service: AuthenticationService;

  beforeEach(() => {
    codec = new FakeCodec({
      good: { kind: 'local', userId: USER },
      ghost: { kind: 'local', userId: '00000000-0000-4000-8000-000000000000' },
      idp: { kind: 'external', identity },
    });
    directory = new FakeDirectory();
    service = new AuthenticationService(codec, directory);
  });

  it('should authenticate the user a valid local token names', async () => {
    await expect(service.authenticate('Bearer good')).resolves.toEqual({ id: USER });
    await expect(service.authenticate('bearer good')).resolves.toEqual({ id: USER });
  });

  it('should map an external identity to its local user', async () => {
    await expect(service.authenticate('Bearer idp')).resolves.toEqual({ id: 'external-user' });
    expect(directory.resolved).toEqual([identity]);
  });

  it('should answer AUTH_TOKEN_INVALID for a token the codec refuses or whose user does not exist', async () => {
    expect(await codeOf(service.authenticate('Bearer forged'))).toBe('AUTH_TOKEN_INVALID');
    expect(await codeOf(service.authenticate('Bearer ghost'))).toBe('AUTH_TOKEN_INVALID');
  });

  it('should answer AUTH_TOKEN_INVALID without verifying anything when the header is not one bearer token', async () => {
    for (const header of [
      undefined,
      '',
      'good',
      'Basic good',
      'Bearer',
      'Bearer  good',
      'Bearer good extra',
      'Bearer go od',
      'Bearer good\r\nX: y',
      ['Bearer good'],
      `Bearer ${'a'.repeat(9000)}`,
    ]) {
      expect(await codeOf(service.authenticate(header))).toBe('AUTH_TOKEN_INVALID');
    }
    expect(codec.seen).toEqual([]);
  });

  it('should let unexpected failures through (a 5xx, not a 401)', async () => {
    codec.verify = () => Promise.reject(new Error('boom'));
    expect(await codeOf(service.authenticate('Bearer good'))).toBe('Error');
  });
});
