import { describe, expect, expectTypeOf, it } from 'vitest';
import type { LabelSelector } from '../api/v1alpha1/common.js';
import { describeLabelSelector, LabelSelectorSyntaxError, matchesLabelSelector, parseLabelSelectorString, type LabelSelectorLike, type Labels } from './label-selector.js';

describe('matchesLabelSelector', () => {
  const labels = { app: 'web', tier: 'frontend', critical: 'true' };
  it.each<[string, LabelSelectorLike, Labels, boolean]>([
    ['an empty selector matches every object', {}, labels, true],
    ['an empty selector matches an object without labels', {}, undefined, true],
    ['matchLabels matches when every pair is present', { matchLabels: { app: 'web', critical: 'true' } }, labels, true],
    ['matchLabels fails when a value differs', { matchLabels: { app: 'api' } }, labels, false],
    ['matchLabels fails when a key is absent', { matchLabels: { team: 'a' } }, labels, false],
    ['In matches a listed value', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['backend', 'frontend'] }] }, labels, true],
    ['In fails for an unlisted value', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['backend'] }] }, labels, false],
    ['In fails when the key is absent', { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, labels, false],
    ['In with no values matches nothing', { matchExpressions: [{ key: 'tier', operator: 'In', values: [] }] }, labels, false],
    ['NotIn matches an unlisted value', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['backend'] }] }, labels, true],
    ['NotIn fails for a listed value', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['frontend'] }] }, labels, false],
    ['NotIn matches when the key is absent', { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, labels, true],
    ['Exists matches a present key', { matchExpressions: [{ key: 'critical', operator: 'Exists' }] }, labels, true],
    ['Exists fails for an absent key', { matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, labels, false],
    ['DoesNotExist matches an absent key', { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, labels, true],
    ['DoesNotExist fails for a present key', { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, labels, false],
    [
      'matchLabels and matchExpressions are ANDed (both hold)',
      { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['frontend'] }] },
      labels,
      true,
    ],
    [
      'matchLabels and matchExpressions are ANDed (one fails)',
      { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['backend'] }] },
      labels,
      false,
    ],
    [
      'all expressions must hold',
      { matchExpressions: [{ key: 'app', operator: 'Exists' }, { key: 'zone', operator: 'Exists' }] },
      labels,
      false,
    ],
    ['a label named like an Object.prototype member is not found through the prototype', { matchExpressions: [{ key: 'constructor', operator: 'Exists' }] }, {}, false],
    ['a selector with requirements does not match an object without labels', { matchLabels: { app: 'web' } }, undefined, false],
  ])('%s', (_name, selector, have, expected) => {
    expect(matchesLabelSelector(selector, have)).toBe(expected);
  });

  it('accepts the API LabelSelector type as is', () => {
    expectTypeOf<LabelSelector>().toExtend<LabelSelectorLike>();
    const api: LabelSelector = { matchLabels: { critical: 'true' } };
    expect(matchesLabelSelector(api, { critical: 'true' })).toBe(true);
  });
});

describe('describeLabelSelector', () => {
  it('renders kubectl -l syntax for every operator', () => {
    expect(
      describeLabelSelector({
        matchLabels: { critical: 'true' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['db', 'cache'] },
          { key: 'env', operator: 'NotIn', values: ['dev'] },
          { key: 'owner', operator: 'Exists' },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      }),
    ).toBe('critical=true,tier in (db,cache),env notin (dev),owner,!legacy');
  });

  it('says <everything> for an empty selector rather than printing nothing', () => {
    expect(describeLabelSelector({})).toBe('<everything>');
  });
});

describe('parseLabelSelectorString', () => {
  it.each([
    ['critical=true', { matchLabels: { critical: 'true' } }],
    ['critical==true, team=a', { matchLabels: { critical: 'true', team: 'a' } }],
    ['tier in (db,cache)', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['db', 'cache'] }] }],
    ['tier notin (dev), !legacy', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['dev'] }, { key: 'legacy', operator: 'DoesNotExist' }] }],
    ['team!=payments', { matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['payments'] }] }],
    ['kubeskippy.io/critical', { matchExpressions: [{ key: 'kubeskippy.io/critical', operator: 'Exists' }] }],
    ['', {}],
  ])('parses %j', (input, expected) => {
    expect(parseLabelSelectorString(input)).toEqual(expected);
  });

  it.each(['tier in (db', 'a=b,,c=d', 'a=b,', 'a b', '=x', 'tier in db', 'x=y=z', '-bad=1', 'a=-bad', `${'k'.repeat(64)}=v`, 'UPPER.Prefix/x=1'])('refuses %j with a reason', (input) => {
    expect(() => parseLabelSelectorString(input)).toThrow(LabelSelectorSyntaxError);
  });

  it('means what describeLabelSelector says: selectors survive the round trip', () => {
    const s = { matchLabels: { critical: 'true' }, matchExpressions: [{ key: 'tier', operator: 'In' as const, values: ['db', 'cache'] }, { key: 'legacy', operator: 'DoesNotExist' as const }] };
    expect(parseLabelSelectorString(describeLabelSelector(s))).toEqual(s);
  });

  it('protects by set-based selectors as kubectl would (the old parser read "tier in (db)" as a label named "tier in (db)")', () => {
    const s = parseLabelSelectorString('tier in (db,cache),critical!=false');
    expect(matchesLabelSelector(s, { tier: 'db' })).toBe(true);
    expect(matchesLabelSelector(s, { tier: 'db', critical: 'false' })).toBe(false);
    expect(matchesLabelSelector(s, { tier: 'web' })).toBe(false);
  });
});
