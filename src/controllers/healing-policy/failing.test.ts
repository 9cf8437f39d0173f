import { describe, expect, it } from 'vitest';
import { FailingWorkloads } from './failing.js';

describe('FailingWorkloads', () => {
  it('keeps the latest sighting per workload and namespace, and forgets those older than the window', () => {
    const f = new FailingWorkloads(1000);
    f.record('a', 'Deployment/a/x', 100);
    f.record('a', 'Deployment/a/x', 50);
    f.record('a', 'Deployment/a/y', 600);
    f.record('b', 'Deployment/b/z', 600);
    expect([...f.of('a', 700)]).toEqual([['Deployment/a/x', 100], ['Deployment/a/y', 600]]);
    expect([...f.of('a', 1100)]).toEqual([['Deployment/a/y', 600]]);
    expect([...f.of('b', 1600)]).toEqual([]);
    expect([...f.of('nowhere', 0)]).toEqual([]);
  });
});
