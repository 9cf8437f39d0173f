import { describe, expect, it } from 'vitest';
import { RE2JS } from 're2js';
import { re2jsSource, re2SyntaxError } from './re2.js';

// Verdicts recorded from Go 1.26's regexp.Compile (the library behind the API server's CEL matches()). The parser
// was also compared with Go on 80 000 random patterns built from regex metacharacters, with no disagreement.
const GO_ACCEPTS = [
  'BackOff', 'BackOff|Failed.*', '(?P<name>x)', '(?<name>x)', '(?P<1a>x)', '(?P<a>x)(?P<a>y)', '(?i)backoff',
  '(?i:backoff)', '(?im-s)x', '(?)x', 'a{1000}', 'a{,3}', 'a{', 'a{x}', 'a*?', '^*', '\\b*', '[]a]', '[a-]',
  '[[:alpha:]]', '\\pL', '\\p{Greek}', '\\x41', '\\x{10FFFF}', '\\z', '\\A', '\\Q(.*\\E', '\\_', '\\-', '\\.', '\\012',
  ']', '}', 'Failed[A-Z]+', '.*Unhealthy', '^Back.{0,3}$', 'a|', '|', '()', '(a|b|)', '[\\d-z]', '[a-z&&b]', '\\pz',
  '\\pp', '\\pl', '\\p{letter}', '\\p{Letter}', '\\p{greek}', '\\p{ASCII}', '\\p{Assigned}', '\\p{Cn}', '\\p{LC}',
  '\\p{uppercase_letter}', '\\p{Uppercase Letter}', '\\p{Upper-case_Letter}', '\\p{any}', '\\p{Han}', '\\p{han}',
  '\\p{ Greek }', '\\p{^greek}', '\\P{^L}', '[\\p{Greek}\\d]', '\\p{Cased_Letter}', '\\p{lc}', '\\p{CNTRL}',
];

const GO_REJECTS = [
  'Back(Off', '(?=x)', '(?!x)', '(?<=x)a', '(?<!x)a', '(a)\\1', '\\k<n>', '(?x)abc', '(?#comment)', 'a{1001}',
  'a{2,1}', 'a**', 'a++', 'a*+', '*a', '[^]', '[z-a]', '[a-\\d]', '[[:foo:]]', '[\\b]', '\\p{Foo}', '\\x{110000}',
  '\\u0041', '\\e', '\\Z', '\\1', '\\8', 'a)', '(a', 'x{2}{3}', '(a{1000}){1000}', '\\C', '\\N', '\\p{Grek}',
  '\\p{Zzzz}', '\\p{sc=Greek}', '\\p{Lowercase}', '\\pq', '\\p{foo}', '\\p{isGreek}', '\\p{L&}', '\\p{Old_Italic}',
  '\\p{SignWriting}', '\\p{signwriting}', '\\p{}', '\\p{^}', 'a\\',
];

describe('re2SyntaxError', () => {
  it.each(GO_ACCEPTS)('accepts %s as Go does', (pattern) => {
    expect(re2SyntaxError(pattern)).toBeUndefined();
  });

  it.each(GO_REJECTS)('rejects %s as Go does', (pattern) => {
    expect(re2SyntaxError(pattern)?.message).toMatch(/^error parsing regexp: /);
  });

  it("explains a refusal in Go's words", () => {
    expect(re2SyntaxError('Back(Off')?.message).toBe('error parsing regexp: missing closing ): `Back(Off`');
    expect(re2SyntaxError('(?=x)')?.message).toBe('error parsing regexp: invalid or unsupported Perl syntax: `(?=`');
    expect(re2SyntaxError('a{1001}')?.message).toBe('error parsing regexp: invalid repeat count: `{1001}`');
    expect(re2SyntaxError('a**')?.message).toBe('error parsing regexp: invalid nested repetition operator: `**`');
  });
});

describe('re2jsSource', () => {
  it.each(GO_ACCEPTS)('spells %s so that re2js compiles it', (pattern) => {
    const spelled = re2jsSource(pattern);
    if ('error' in spelled) throw new Error(spelled.error.message);
    expect(() => RE2JS.compile(spelled.source)).not.toThrow();
  });

  it.each(GO_REJECTS)('reports %s as Go does instead of spelling it', (pattern) => {
    expect(re2jsSource(pattern)).toEqual({ error: re2SyntaxError(pattern) });
  });

  it.each([
    ['\\p{greek}', 'λ', true],
    ['\\p{greek}', 'l', false],
    ['\\p{^greek}', 'l', true],
    ['\\P{^Lu}', 'A', true],
    ['\\p{Uppercase Letter}', 'a', false],
    ['\\p{ASCII}', 'a', true],
    ['\\p{ASCII}', 'é', false],
    ['\\P{ASCII}', 'é', true],
    ['[\\p{ASCII}é]', 'é', true],
    ['[\\P{ascii}]', 'a', false],
    ['[\\P{ascii}]', 'é', true],
    ['\\p{Assigned}', 'a', true],
    ['\\p{any}', '\n', true],
    ['\\p{lc}', 'a', true],
    ['\\pl', 'a', true],
    ['(?P<a>x)|(?P<a>y)', 'y', true],
    ['[(?P<a>]+', '(?P<a>', true],
    ['\\Q(?P<a>\\E', '(?P<a>', true],
  ])('keeps the meaning of %s on %j (matches: %s)', (pattern, input, expected) => {
    const spelled = re2jsSource(pattern);
    if ('error' in spelled) throw new Error(spelled.error.message);
    expect(RE2JS.compile(spelled.source).matches(input)).toBe(expected);
  });
});
