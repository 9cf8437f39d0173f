import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/load.js';
import { KubeConfigError } from '../k8s/client.js';
import { KubeError } from '../k8s/errors.js';
import { describeError, ExitCode, exitCodeOf, NotFoundError, UnavailableError, UsageError } from './errors.js';

describe('exit codes', () => {
  it.each([
    ['a usage error', new UsageError('bad flag'), ExitCode.Usage],
    ['an invalid operator configuration', new ConfigError([{ path: 'logFormat', source: 'env', origin: 'KUBESKIPPY_LOG_FORMAT', message: 'must be one of "json", "pretty"' }]), ExitCode.Usage],
    ['our not-found', new NotFoundError('no such action'), ExitCode.NotFound],
    ['the API server\'s 404', new KubeError('NotFound', 'not found', { status: 404 }), ExitCode.NotFound],
    ['a missing kubeconfig', new KubeConfigError('kubeconfig x does not exist'), ExitCode.Unavailable],
    ['connection refused', Object.assign(new Error('fetch failed'), { cause: { code: 'ECONNREFUSED' } }), ExitCode.Unavailable],
    ['a 503', new KubeError('Unavailable', 'etcd', { status: 503 }), ExitCode.Unavailable],
    ['Prometheus unreachable', new UnavailableError('Prometheus at http://x unreachable'), ExitCode.Unavailable],
    ['a 401', new KubeError('Unauthorized', 'Unauthorized', { status: 401 }), ExitCode.Forbidden],
    ['a 403', new KubeError('Forbidden', 'forbidden', { status: 403 }), ExitCode.Forbidden],
    ['a 422', new KubeError('Invalid', 'invalid', { status: 422 }), ExitCode.Failure],
    ['anything else', new Error('boom'), ExitCode.Failure],
  ])('maps %s', (_what, e, code) => {
    expect(exitCodeOf(e)).toBe(code);
  });

  it('describes every error on one line', () => {
    expect(describeError(new Error('two\n  lines'))).toBe('two lines');
    expect(describeError(new KubeError('Forbidden', 'pods is forbidden', { status: 403 }))).toBe('Forbidden (403): pods is forbidden');
  });
});
