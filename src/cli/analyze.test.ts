import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeCommand, parseSeriesFile, type AnalyzeFs } from './analyze.js';
import { ExitCode, main } from './main.js';

const NOW_S = 1_750_000_000;

/** A memory series of `minutes` at 15 s: `start` MiB rising `perMinute` MiB/min. */
function memoryFile(start: number, perMinute: number, minutes = 60, limit = 512): string {
  const samples: [number, number][] = [];
  for (let s = -minutes * 60; s <= 0; s += 15) samples.push([NOW_S + s, start + (perMinute * (s + minutes * 60)) / 60 + (s % 45 === 0 ? 1 : -1)]);
  return JSON.stringify({ metric: 'memory_usage_bytes', unit: 'MiB', limit, intervalSeconds: 15, samples });
}

function capture(): { out: string[]; err: string[]; io: { out: (l: string) => void; err: (l: string) => void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l) => out.push(l), err: (l) => err.push(l) } };
}

describe('kubeskippy analyze', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kubeskippy-analyze-'));
    // 200 → 440 MiB over an hour (4 MiB/min): 72 MiB left, 18 min.
    await writeFile(path.join(dir, 'leak.json'), memoryFile(200, 4));
    await writeFile(path.join(dir, 'flat.json'), memoryFile(300, 0));
    await writeFile(path.join(dir, 'broken.json'), '{"metric": "memory_usage_bytes", "limit": 512, "samples": [[1, 2], [3]]}');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints one JSON object per file and exits 1 when a series will breach', async () => {
    const c = capture();
    const code = await main(['analyze', path.join(dir, 'leak.json'), path.join(dir, 'flat.json'), '-o', 'json'], c.io);
    expect(code).toBe(ExitCode.Failure);
    expect(c.err).toEqual([]);
    const [leak, flat] = c.out.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(leak).toMatchObject({ file: path.join(dir, 'leak.json'), willBreach: true, pattern: 'linear-leak' });
    expect(leak?.['secondsToLimit'] as number).toBeGreaterThan(14 * 60);
    expect(leak?.['secondsToLimit'] as number).toBeLessThan(22 * 60);
    expect(leak?.['reasoning']).toEqual(expect.arrayContaining([expect.stringMatching(/reaches the limit in \d+ min/)]));
    expect(flat).toMatchObject({ willBreach: false, secondsToLimit: null, pattern: 'flat' });
    expect(flat?.['confidence'] as number).toBeGreaterThan(0.9);
  });

  it('prints a readable verdict with the reasoning by default, and exits 0 when nothing breaches', async () => {
    const c = capture();
    expect(await main(['analyze', path.join(dir, 'flat.json')], c.io)).toBe(ExitCode.Ok);
    expect(c.out[0]).toMatch(/flat\.json: memory_usage_bytes — flat: no crossing of the limit forecast; no breach within 30 min \(confidence 0\.9\d+\)/);
    expect(c.out.slice(1).every((l) => l.startsWith('  - '))).toBe(true);
  });

  it('honours --horizon', async () => {
    const c = capture();
    expect(await main(['analyze', path.join(dir, 'leak.json'), '--horizon', '10m', '-o', 'json'], c.io)).toBe(ExitCode.Ok);
    expect(JSON.parse(c.out[0] as string)).toMatchObject({ willBreach: false });
  });

  it('names the file and the problem, prints nothing else and exits 2 for bad files', async () => {
    const c = capture();
    const code = await main(['analyze', path.join(dir, 'leak.json'), path.join(dir, 'broken.json'), path.join(dir, 'missing.json')], c.io);
    expect(code).toBe(ExitCode.Usage);
    expect(c.out).toEqual([]);
    expect(c.err).toEqual([
      `kubeskippy analyze: ${path.join(dir, 'broken.json')}: samples[1]: expected [unixSeconds, value]`,
      `kubeskippy analyze: ${path.join(dir, 'missing.json')}: cannot read: no such file or directory`,
    ]);
  });

  it('rejects a bad horizon or output format with exit 2', async () => {
    const c = capture();
    expect(await main(['analyze', path.join(dir, 'flat.json'), '--horizon', 'soon', '-o', 'yaml'], c.io)).toBe(ExitCode.Usage);
    expect(c.err.join('\n')).toMatch(/--horizon soon/);
    expect(c.err.join('\n')).toMatch(/-o yaml: the output format is "text" or "json"/);
  });
});

describe('parseSeriesFile', () => {
  it.each([
    ['not json', /not valid JSON/],
    ['[]', /expected a JSON object/],
    ['{"metric": "latency_seconds", "limit": 1, "samples": [[1, 1]]}', /names neither memory nor CPU/],
    ['{"metric": "memory_usage_bytes", "limit": -1, "samples": [[1, 1]]}', /limit: required, a positive number/],
    ['{"metric": "memory_usage_bytes", "limit": 5, "samples": []}', /samples: empty/],
    ['{"metric": "memory_usage_bytes", "limit": 5, "samples": [[1750000000000, 1]]}', /looks like milliseconds/],
    ['{"metric": "cpu_usage_percent", "limit": 100, "samples": [[1, "x"]]}', /samples\[0\]: the value is not a finite number/],
  ])('rejects %s', (text, problem) => {
    const r = parseSeriesFile(text);
    expect('problems' in r && r.problems.join('; ')).toMatch(problem);
  });

  it('infers the kind from the metric, takes now from the latest sample and accepts an explicit kind', () => {
    const r = parseSeriesFile('{"metric": "cpu_usage_percent", "limit": 100, "samples": [[20, 5], [10, 4]]}');
    expect(r).toEqual({ series: { metric: 'cpu_usage_percent', kind: 'cpu', limit: 100, samples: [{ at: 10_000, value: 4 }, { at: 20_000, value: 5 }], now: 20_000 } });
    expect(parseSeriesFile('{"metric": "queue", "kind": "memory", "limit": 1, "samples": [[1, 1]], "now": 5}')).toMatchObject({ series: { kind: 'memory', now: 5000 } });
  });

  it('never lets a file crash the command', async () => {
    const fs: AnalyzeFs = { readFile: () => Promise.resolve('{"metric": "memory", "limit": 1e309, "samples": null}') };
    const r = await analyzeCommand(['x.json'], {}, fs);
    expect(r.code).toBe(2);
    expect(r.errors[0]).toMatch(/^x\.json: limit: required.*samples: required/);
  });
});
