import { describe, expect, it } from 'vitest';
import { createLogger, formatPrettyLine, silentLogger } from './logger.js';

function capture(): { lines: string[]; destination: { write(s: string): void } } {
  const lines: string[] = [];
  return { lines, destination: { write: (s) => lines.push(...s.split('\n').filter((l) => l !== '')) } };
}

describe('createLogger', () => {
  it('writes one JSON object per line with level label, ISO time, message and fields', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ destination });
    logger.info({ key: 'ns/a', attempt: 2 }, 'reconcile failed');
    expect(lines).toHaveLength(1);
    const rec = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(rec).toMatchObject({ level: 'info', msg: 'reconcile failed', key: 'ns/a', attempt: 2 });
    expect(rec['time']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('adds child bindings to every record of a component', () => {
    const { lines, destination } = capture();
    createLogger({ destination }).child({ component: 'leader-election' }).warn('lost');
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ component: 'leader-election', level: 'warn', msg: 'lost' });
  });

  it('drops records below the level', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ destination, level: 'warn' });
    logger.info('hidden');
    logger.debug('hidden');
    logger.error('shown');
    expect(lines).toHaveLength(1);
  });

  it('serialises errors with message and stack', () => {
    const { lines, destination } = capture();
    createLogger({ destination }).error({ err: new Error('boom') }, 'failed');
    const rec = JSON.parse(lines[0] ?? '') as { err: { message: string; stack: string; type: string } };
    expect(rec.err.message).toBe('boom');
    expect(rec.err.type).toBe('Error');
    expect(rec.err.stack).toContain('boom');
  });

  it('renders human-readable lines when pretty', () => {
    const { lines, destination } = capture();
    createLogger({ destination, pretty: true }).child({ component: 'manager' }).info({ leader: true }, 'started');
    expect(lines[0]).toMatch(/^\d{2}:\d{2}:\d{2}\.\d{3} INFO {2}\[manager\] started leader=true$/);
  });

  it('passes non-JSON text through the pretty formatter', () => {
    expect(formatPrettyLine('plain')).toBe('plain');
  });

  it('offers a silent logger whose children are silent too', () => {
    expect(() => silentLogger.child({ a: 1 }).error({ x: 1 }, 'nothing')).not.toThrow();
  });
});
