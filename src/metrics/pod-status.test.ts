import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { conditionsDependOnTime, podConditions, podStatusMetrics, resourceBasis } from './pod-status.js';

const now = Date.parse('2026-01-01T12:00:00Z');

function pod(status: V1Pod['status'], containers: NonNullable<V1Pod['spec']>['containers'] = [{ name: 'app' }]): V1Pod {
  return { metadata: { name: 'p', namespace: 'ns' }, spec: { containers }, ...(status ? { status } : {}) };
}

describe('podStatusMetrics', () => {
  it('sums restarts over containers and reads readiness', () => {
    const p = pod({
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [
        { name: 'a', image: 'i', imageID: '', ready: true, restartCount: 2 },
        { name: 'b', image: 'i', imageID: '', ready: true, restartCount: 3 },
      ],
    });
    expect(podStatusMetrics(p)).toEqual({ restart_count: 5, ready: 1 });
  });

  it('reports not ready when the Ready condition is False or missing', () => {
    expect(podStatusMetrics(pod({ conditions: [{ type: 'Ready', status: 'False' }] })).ready).toBe(0);
    expect(podStatusMetrics(pod({})).ready).toBe(0);
  });
});

describe('podConditions', () => {
  it('takes object conditions with their lastTransitionTime', () => {
    const since = new Date('2026-01-01T11:50:00Z');
    const c = podConditions(pod({ conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: since, reason: 'ContainersNotReady' }] }), now);
    expect(c.get('Ready')).toMatchObject({ status: 'False', since: since.getTime(), reason: 'ContainersNotReady' });
  });

  it('reports CrashLoopBackOff as a condition since the container last terminated', () => {
    const finished = new Date('2026-01-01T11:59:30Z');
    const c = podConditions(
      pod({
        containerStatuses: [
          {
            name: 'app',
            image: 'i',
            imageID: '',
            ready: false,
            restartCount: 4,
            state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off' } },
            lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: finished } },
          },
        ],
      }),
      now,
    );
    expect(c.get('CrashLoopBackOff')).toMatchObject({ status: 'True' });
    expect(c.get('OOMKilled')).toMatchObject({ status: 'True', since: finished.getTime() });
    expect(c.get('ImagePullBackOff')?.status).toBe('False');
  });

  it('counts a container running between crash-loop back-offs as still crash-looping', () => {
    const c = podConditions(
      pod({
        containerStatuses: [
          {
            name: 'app',
            image: 'i',
            imageID: '',
            ready: true,
            restartCount: 3,
            state: { running: { startedAt: new Date(now - 5000) } },
            lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: new Date(now - 15_000) } },
          },
        ],
      }),
      now,
    );
    expect(c.get('CrashLoopBackOff')?.status).toBe('True');
    expect(c.get('CrashLoopBackOff')?.since).toBeUndefined();
  });

  it('does not call a single old restart a crash loop', () => {
    const c = podConditions(
      pod({
        containerStatuses: [
          {
            name: 'app',
            image: 'i',
            imageID: '',
            ready: true,
            restartCount: 1,
            state: { running: {} },
            lastState: { terminated: { exitCode: 1, finishedAt: new Date(now - 3600_000) } },
          },
        ],
      }),
      now,
    );
    expect(c.get('CrashLoopBackOff')?.status).toBe('False');
  });
});

describe('resourceBasis', () => {
  it('uses the sum of limits when every container has one', () => {
    const p = pod({}, [
      { name: 'a', resources: { limits: { memory: '256Mi', cpu: '500m' }, requests: { memory: '128Mi' } } },
      { name: 'b', resources: { limits: { memory: '256Mi', cpu: '1' } } },
    ]);
    expect(resourceBasis(p, 'memory')).toEqual({ amount: 512 * 2 ** 20, basis: 'limit' });
    expect(resourceBasis(p, 'cpu')).toEqual({ amount: 1500, basis: 'limit' });
  });

  it('falls back to requests when a limit is missing', () => {
    const p = pod({}, [{ name: 'a', resources: { requests: { cpu: '250m' } } }]);
    expect(resourceBasis(p, 'cpu')).toEqual({ amount: 250, basis: 'request' });
  });

  it('gives a reason instead of a number when neither is set', () => {
    const r = resourceBasis(pod({}, [{ name: 'a' }]), 'memory');
    expect(r.amount).toBeUndefined();
    expect('reason' in r && r.reason).toMatch(/no memory limit or request/);
  });
});

describe('conditionsDependOnTime', () => {
  const container = (over: Partial<NonNullable<NonNullable<V1Pod['status']>['containerStatuses']>[number]>) => ({ name: 'app', image: 'i', imageID: '', ready: true, restartCount: 0, ...over });
  const running = { running: { startedAt: new Date(now - 60_000) } };
  const cases: { name: string; pod: V1Pod; dependsOnTime: boolean }[] = [
    { name: 'a healthy pod', pod: pod({ conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date(now - 3_600_000) }], containerStatuses: [container({ state: running })] }), dependsOnTime: false },
    { name: 'a pod waiting on its image', pod: pod({ containerStatuses: [container({ ready: false, state: { waiting: { reason: 'ImagePullBackOff' } } })] }), dependsOnTime: false },
    { name: 'a pod with no status', pod: pod(undefined), dependsOnTime: false },
    {
      name: 'a container running between crash-loop back-offs',
      pod: pod({ containerStatuses: [container({ restartCount: 3, state: running, lastState: { terminated: { exitCode: 1, finishedAt: new Date(now - 15_000) } } })] }),
      dependsOnTime: true,
    },
    { name: 'an OOM kill without a finish time', pod: pod({ containerStatuses: [container({ state: { terminated: { exitCode: 137, reason: 'OOMKilled' } } })] }), dependsOnTime: true },
    { name: 'an unreadable lastTransitionTime', pod: pod({ conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: 'not a time' as unknown as Date }] }), dependsOnTime: true },
  ];

  it.each(cases)('$name: $dependsOnTime', ({ pod: p, dependsOnTime }) => {
    expect(conditionsDependOnTime(p)).toBe(dependsOnTime);
  });

  it('is false only where the conditions are the same at any time, and each true case does change with time', () => {
    for (const { name, pod: p, dependsOnTime } of cases) {
      const later = podConditions(p, now + 3_600_000);
      if (dependsOnTime) expect(later, name).not.toEqual(podConditions(p, now));
      else expect(later, name).toEqual(podConditions(p, now));
    }
  });
});
