import { describe, expect, it } from 'vitest';
import { parseBindAddress } from './operator-config.js';

describe('parseBindAddress', () => {
  it.each([
    ['127.0.0.1:8080', { host: '127.0.0.1', port: 8080 }],
    [':9090', { host: '0.0.0.0', port: 9090 }],
    ['[::1]:8081', { host: '::1', port: 8081 }],
    ['localhost:0', { host: 'localhost', port: 0 }],
    ['0', undefined],
  ] as const)('parses %s', (input, expected) => {
    expect(parseBindAddress(input)).toEqual(expected);
  });

  it.each(['localhost', '127.0.0.1:99999', '1.2.3.4:', 'a b:80'])('rejects %s', (input) => {
    expect(() => parseBindAddress(input)).toThrow(RangeError);
  });
});
