import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { closedPipeExit } from './io.js';

describe('closedPipeExit', () => {
  it('ends the process with 0 when the reader closed the pipe (EPIPE), and rethrows any other error', () => {
    const stream = new EventEmitter();
    const exits: number[] = [];
    closedPipeExit(stream, (code) => exits.push(code));
    stream.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    expect(exits).toEqual([0]);
    expect(() => stream.emit('error', Object.assign(new Error('disk full'), { code: 'ENOSPC' }))).toThrow('disk full');
    expect(exits).toEqual([0]);
  });
});
