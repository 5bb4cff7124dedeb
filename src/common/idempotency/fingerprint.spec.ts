import { canonicalJson, fingerprint } from './fingerprint';

describe('fingerprint', () => {
  it('should be a 64-character hex SHA-256', () => {
    expect(fingerprint({ amount: 1 })).toMatch(/^[0-9a-f]{64}$/);
  });

  it('should not depend on key order at any depth', () => {
    expect(fingerprint({ a: 1, b: { c: [1, 2], d: 'x' } })).toBe(
      fingerprint({ b: { d: 'x', c: [1, 2] }, a: 1 }),
    );
  });

  it('should change when a value, an array order or a type changes', () => {
    const base = fingerprint({ reservationIds: [1, 2] });
    expect(fingerprint({ reservationIds: [2, 1] })).not.toBe(base);
    expect(fingerprint({ reservationIds: [1, 3] })).not.toBe(base);
    expect(fingerprint({ reservationIds: ['1', '2'] })).not.toBe(base);
    expect(fingerprint({ amount: 1 })).not.toBe(fingerprint({ amount: 10 }));
  });

  it('should ignore undefined members, as JSON does', () => {
    expect(fingerprint({ a: 1, b: undefined })).toBe(fingerprint({ a: 1 }));
  });

  it('should fingerprint a validated DTO instance like the plain body it came from', () => {
    class ChargeRequest {
      amount = 5000;
    }
    expect(fingerprint(new ChargeRequest())).toBe(fingerprint(JSON.parse('{"amount":5000}')));
  });

  it('should write canonical JSON that parses back to the same value', () => {
    const value = { z: [1, { y: null, x: 'é"' }], a: true };
    expect(canonicalJson(value)).toBe('{"a":true,"z":[1,{"x":"é\\"","y":null}]}');
    expect(JSON.parse(canonicalJson(value))).toEqual(value);
  });
});
