import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../runtime/clock.js';
import { createAuditLog, disabledAuditLog } from './audit-log.js';

describe('createAuditLog', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('writes one JSON object per line, time first, from the injected clock', () => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
    const log = createAuditLog({ clock: new FakeClock('2026-03-01T10:00:00Z'), stream });
    log.write({ policy: 'demo/leak', target: 'Pod/demo/web-1', action: 'restart', decision: 'created', reason: 'memory_usage_percent > 85 for 3m', confidence: 0.9, source: 'ai' });
    log.write({ policy: 'demo/leak', decision: 'denied', reason: 'Cooldown' });
    const lines = chunks.join('').split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(2);
    expect(lines[0]?.startsWith('{"time":"2026-03-01T10:00:00.000Z"')).toBe(true);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ policy: 'demo/leak', action: 'restart', decision: 'created', confidence: 0.9 });
    expect(log.written).toBe(2);
  });

  it('appends to a file across writers', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'audit-'));
    dirs.push(dir);
    const file = path.join(dir, 'audit.jsonl');
    const clock = new FakeClock();
    const first = createAuditLog({ clock, path: file });
    first.write({ policy: 'a/b', decision: 'created' });
    await first.close();
    const second = createAuditLog({ clock, path: file });
    second.write({ policy: 'a/b', decision: 'succeeded' });
    await second.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { decision: string }).decision)).toEqual(['created', 'succeeded']);
  });

  it('never throws into the caller: unserialisable records, stream errors and writes after close are counted', async () => {
    const errors: string[] = [];
    const failing = new Writable({
      write(_chunk, _enc, cb) {
        cb(new Error('disk full'));
      },
    });
    const log = createAuditLog({ clock: new FakeClock(), stream: failing, onError: (e) => errors.push(e.message) });
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    expect(() => log.write({ policy: 'p', decision: 'd', circular })).not.toThrow();
    expect(() => log.write({ policy: 'p', decision: 'd' })).not.toThrow();
    await new Promise((r) => setImmediate(r));
    expect(errors.some((m) => m.includes('circular'))).toBe(true);
    expect(errors).toContain('disk full');
    await log.close({ endStream: true });
    expect(() => log.write({ policy: 'p', decision: 'late' })).not.toThrow();
    expect(log.errors).toBeGreaterThanOrEqual(3);
  });

  it('counts errors when the file cannot be opened, without throwing', async () => {
    let reported: (e: Error) => void = () => undefined;
    const failed = new Promise<Error>((resolve) => (reported = resolve));
    const log = createAuditLog({ clock: new FakeClock(), path: '/nonexistent-dir/x/audit.jsonl', onError: (e) => reported(e) });
    expect(() => log.write({ policy: 'p', decision: 'd' })).not.toThrow();
    expect((await failed).message).toMatch(/ENOENT/);
    expect(log.errors).toBe(1);
    await log.close();
  });

  it('requires exactly one destination', () => {
    expect(() => createAuditLog({ clock: new FakeClock() })).toThrow(TypeError);
  });

  it('offers a disabled stand-in', async () => {
    disabledAuditLog.write({ policy: 'p', decision: 'd' });
    await disabledAuditLog.close();
    expect(disabledAuditLog.written).toBe(0);
  });
});
