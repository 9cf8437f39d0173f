import { describe, expect, it } from 'vitest';
import { cleanClusterText, cleanModelText, redactKnown, redactSecrets, REDACTED } from './sanitize.js';

describe('redactSecrets', () => {
  it.each([
    ['a JWT', 'token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.abcdefgh', 'eyJhbGci'],
    ['a Bearer header', 'Authorization: Bearer abc.def-ghi_jkl', 'abc.def-ghi_jkl'],
    ['a URL with credentials', 'git clone https://deploy:s3cretpass@git.example.com/repo', 's3cretpass'],
    ['an OpenAI-style key', 'key sk-proj-abcdefghijklmnop', 'sk-proj-abcdefghijklmnop'],
    ['a GitHub token', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789', 'ghp_abcdefghij'],
    ['an AWS access key id', 'AKIAIOSFODNN7EXAMPLE rejected', 'AKIAIOSFODNN7EXAMPLE'],
    ['password=', 'connect failed: password=hunter2 host=db', 'hunter2'],
    ['a quoted api_key', 'config {"api_key": "abc123def"}', 'abc123def'],
    ['DB_PASSWORD:', 'env DB_PASSWORD: correct-horse', 'correct-horse'],
    ['a long base64 run', 'data Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFy end', 'Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4'],
    ['a long hex token', 'token=none; value 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 seen', '9f86d081884c7d659a2feaa0'],
    ['a PEM block', 'key -----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY----- done', 'MIIEv'],
  ])('removes %s', (_name, input, secret) => {
    const out = redactSecrets(input);
    expect(out).not.toContain(secret);
    expect(out).toContain(REDACTED);
  });

  it.each([
    'Back-off restarting failed container web in pod web-7c9f8d6b5-x2x4z_shop(b3c1f1d2-5a4e-4c1e-9f7a-2d1e0c9b8a71) exit code 137',
    'GET /api/v1/namespaces/default/pods/web returned 500',
    'Failed to pull image registry.example.com/team/web-frontend:1.24.3-alpine',
    'MountVolume.SetUp failed for volume kube-api-access-8xk2p',
  ])('keeps what an operator needs to read: %s', (text) => {
    expect(redactSecrets(text)).toBe(text);
  });
});

describe('redactKnown', () => {
  it('removes every occurrence of the given key, whatever its shape', () => {
    expect(redactKnown('refused key plainkey123 (plainkey123)', ['plainkey123'])).toBe(`refused key ${REDACTED} (${REDACTED})`);
  });

  it('ignores an absent key and keys too short to be one', () => {
    expect(redactKnown('a b c', [undefined, 'a'])).toBe('a b c');
  });
});

describe('cleanClusterText', () => {
  it('removes invisible characters, flattens quotes and backslashes, collapses whitespace and caps', () => {
    expect(cleanClusterText(' a\u0000b\u202e"c"\\d\n\n e ', 100)).toBe("a b 'c'/d e");
    expect(cleanClusterText('x'.repeat(50), 10)).toHaveLength(10);
  });

  it('replaces lone surrogates, which JSON would turn into long escapes', () => {
    expect(JSON.stringify(cleanClusterText('a\ud800b', 10))).toBe('"a\ufffdb"');
  });
});

describe('cleanModelText', () => {
  it('keeps the model\'s words and quotes, drops invisible characters', () => {
    expect(cleanModelText('say "hi"\u200b\tnow', 100)).toBe('say "hi" now');
  });
});
