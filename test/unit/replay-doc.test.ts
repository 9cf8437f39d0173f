import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONDITION_QUERIES, DEFAULT_METRIC_QUERIES } from '../../src/replay/metric-map.js';
import { repoRoot } from '../support/api-server.js';

describe('docs/replay.md', () => {
  const doc = readFileSync(path.join(repoRoot, 'docs/replay.md'), 'utf8');
  it.each([...Object.entries(DEFAULT_METRIC_QUERIES), ...Object.entries(DEFAULT_CONDITION_QUERIES)])('documents the query of %s as the code has it', (name, query) => {
    expect(doc).toContain(`| \`${name}\` | \`${query}\` |`);
  });
});
