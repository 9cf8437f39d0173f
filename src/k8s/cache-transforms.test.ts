import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { podConditions, podStatusMetrics, resourceBasis } from '../metrics/pod-status.js';
import { replicaCounts } from '../metrics/collectors/kube-status.js';
import { podWorkload } from '../controllers/healing-policy/select.js';
import { slimPod, slimWorkload } from './cache-transforms.js';

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
