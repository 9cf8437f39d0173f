import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { podConditions, podStatusMetrics, resourceBasis } from '../metrics/pod-status.js';
import { replicaCounts } from '../metrics/collectors/kube-status.js';
import { podWorkload } from '../controllers/healing-policy/select.js';
import { eventCount, eventTime } from '../metrics/collectors/events.js';
import { eventIdentity, slimEvent, slimPod, slimWorkload } from './cache-transforms.js';

const T = new Date('2026-03-01T10:00:00Z');
const pod: k8s.V1Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'web-1',
    namespace: 'shop',
    uid: 'u1',
    resourceVersion: '42',
    creationTimestamp: T,
    labels: { app: 'web' },
    annotations: { 'kubeskippy.io/protected': 'true' },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'rs1', controller: true }],
    managedFields: [{ manager: 'kubelet' }],
    generateName: 'web-',
  },
  spec: {
    nodeName: 'node-1',
    containers: [
      {
        name: 'app',
        image: 'web:1',
        resources: { limits: { memory: '128Mi', cpu: '500m' } },
        env: [{ name: 'A', value: 'x'.repeat(1000) }],
        volumeMounts: [{ name: 'v', mountPath: '/v' }],
        readinessProbe: { httpGet: { path: '/', port: 8080 } },
      },
    ],
    volumes: [{ name: 'v', emptyDir: {} }],
    tolerations: [{ key: 'k', operator: 'Exists' }],
  },
  status: {
    phase: 'Running',
    podIP: '10.0.0.1',
    conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: T }],
    containerStatuses: [
      {
        name: 'app',
        image: 'web:1',
        imageID: '',
        ready: false,
        restartCount: 3,
        state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off' } },
        lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: T } },
      },
    ],
  },
};

describe('slimPod', () => {
  const slim = slimPod(pod);
  it('keeps everything the operator reads from a cached pod', () => {
    expect(podStatusMetrics(slim)).toEqual(podStatusMetrics(pod));
    expect(podConditions(slim, T.getTime() + 1000)).toEqual(podConditions(pod, T.getTime() + 1000));
    expect(resourceBasis(slim, 'memory')).toEqual(resourceBasis(pod, 'memory'));
    expect(resourceBasis(slim, 'cpu')).toEqual(resourceBasis(pod, 'cpu'));
    expect(podWorkload(slim, [])).toEqual(podWorkload(pod, []));
    const { managedFields: _m, generateName: _g, ...meta } = pod.metadata ?? {};
    expect(slim.metadata).toEqual(meta);
    expect(slim.status?.phase).toBe('Running');
    expect(slim.spec?.nodeName).toBe('node-1');
  });
  it('drops the spec the operator never reads from a cache, and addresses', () => {
    expect(slim.spec?.volumes).toBeUndefined();
    expect(slim.spec?.tolerations).toBeUndefined();
    expect(slim.spec?.containers[0]).toEqual({ name: 'app', image: 'web:1', resources: { limits: { memory: '128Mi', cpu: '500m' } } });
    expect(slim.status?.podIP).toBeUndefined();
    expect(JSON.stringify(slim).length).toBeLessThan(JSON.stringify(pod).length / 2);
  });
});

describe('slimWorkload', () => {
  const deployment: k8s.V1Deployment = {
    metadata: { name: 'web', namespace: 'shop', uid: 'd1', labels: { app: 'web' }, annotations: { 'deployment.kubernetes.io/revision': '3' } },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate' },
      template: { metadata: { labels: { app: 'web' }, annotations: { a: 'b' } }, spec: { containers: [{ name: 'app', image: 'web:1' }] } },
    },
    status: { replicas: 3, readyReplicas: 2, availableReplicas: 2, conditions: [{ type: 'Available', status: 'True' }] },
  };
  it('keeps replicas, selector, status and the template\'s labels and annotations, not its pod spec', () => {
    const slim = slimWorkload(deployment);
    expect(replicaCounts(slim)).toEqual(replicaCounts(deployment));
    expect(slim.metadata).toEqual(deployment.metadata);
    expect(slim.status).toEqual(deployment.status);
    expect(slim.spec).toEqual({ replicas: 3, selector: { matchLabels: { app: 'web' } }, strategy: { type: 'RollingUpdate' }, template: { metadata: { labels: { app: 'web' }, annotations: { a: 'b' } } } });
  });
});

describe('slimEvent', () => {
  const full: k8s.CoreV1Event = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: {
      name: 'web-1.17f',
      namespace: 'shop',
      uid: 'ev-uid',
      resourceVersion: '812',
      creationTimestamp: new Date('2026-01-01T12:00:00Z'),
      annotations: { a: 'b' },
      managedFields: [{ manager: 'kubelet', operation: 'Update' }],
    },
    involvedObject: { apiVersion: 'v1', kind: 'Pod', name: 'web-1', namespace: 'shop', uid: 'pod-uid', resourceVersion: '800', fieldPath: 'spec.containers{app}' },
    reason: 'BackOff',
    type: 'Warning',
    message: `Back-off restarting failed container ${'x'.repeat(5000)}`,
    count: 7,
    firstTimestamp: new Date('2026-01-01T11:50:00Z'),
    lastTimestamp: new Date('2026-01-01T12:00:00Z'),
    series: { count: 9, lastObservedTime: new Date('2026-01-01T12:01:00Z') },
    source: { component: 'kubelet', host: 'node-1' },
    reportingComponent: 'kubelet',
    reportingInstance: 'node-1',
    related: { kind: 'Node', name: 'node-1' },
  };

  it('keeps what the event collector reads: identity, involved object, reason, type, counts and times', () => {
    const slim = slimEvent(full);
    expect(slim.metadata).toEqual({ name: 'web-1.17f', namespace: 'shop', uid: 'ev-uid', resourceVersion: '812' });
    expect(slim.involvedObject).toEqual({ apiVersion: 'v1', kind: 'Pod', name: 'web-1', namespace: 'shop', uid: 'pod-uid' });
    expect([slim.reason, slim.type, slim.count]).toEqual(['BackOff', 'Warning', 7]);
    expect(eventTime(slim, 0)).toBe(eventTime(full, 0));
    expect(eventCount(slim)).toBe(eventCount(full));
    expect(slim.firstTimestamp).toEqual(full.firstTimestamp);
  });

  it('drops what nothing reads and caps the message as the series store does', () => {
    const slim = slimEvent(full);
    for (const k of ['source', 'reportingComponent', 'reportingInstance', 'related'] as const) expect(slim[k]).toBeUndefined();
    expect(slim.message?.length).toBeLessThanOrEqual(1024);
    expect(slim.message?.startsWith('Back-off restarting failed container x')).toBe(true);
    expect(slimEvent({ metadata: {}, involvedObject: {} })).toEqual({ metadata: {}, involvedObject: {} });
  });

  it('caches only the identity a relist compares and a delete handler reads (eventIdentity)', () => {
    const kept = eventIdentity(slimEvent(full));
    expect(kept).toEqual({ metadata: { name: 'web-1.17f', namespace: 'shop', uid: 'ev-uid', resourceVersion: '812' }, involvedObject: {} });
    expect(eventIdentity({ metadata: {}, involvedObject: {} })).toEqual({ metadata: {}, involvedObject: {} });
  });
});
