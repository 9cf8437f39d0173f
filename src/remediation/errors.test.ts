import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { callApi, ExecutorError, isExecutorError, mapApiError, parseApiStatus } from './errors.js';

function apiError(code: number, status: Record<string, unknown> | string): ApiException<unknown> {
  const body = typeof status === 'string' ? status : JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, ...status });
  return new ApiException(code, 'Unknown API Status Code!', body, {});
}

describe('mapApiError', () => {
  it.each([
    [404, false, 'TargetGone'],
    [409, false, 'StaleDecision'],
    [429, true, 'PdbBlocked'],
    [429, false, 'Transient'],
    [400, false, 'Rejected'],
    [422, false, 'Rejected'],
    [401, false, 'Forbidden'],
    [403, false, 'Forbidden'],
    [405, false, 'Unsupported'],
    [415, false, 'Unsupported'],
    [500, false, 'Transient'],
    [503, false, 'Transient'],
  ] as const)('maps HTTP %i (eviction %s) to %s', (code, eviction, expected) => {
    const e = mapApiError(apiError(code, { message: 'boom' }), { what: 'do it', eviction });
    expect(e.code).toBe(expected);
    expect(e.httpStatus).toBe(code);
    expect(e.message).toBe('do it: boom');
  });

  it("keeps the server's message and appends causes it does not already contain", () => {
    const e = mapApiError(
      apiError(429, {
        message: "Cannot evict pod as it would violate the pod's disruption budget.",
        details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 3 healthy pods and has 3 currently' }] },
      }),
      { what: 'evict pod a/b', eviction: true },
    );
    expect(e.code).toBe('PdbBlocked');
    expect(e.retryable).toBe(true);
    expect(e.message).toBe("evict pod a/b: Cannot evict pod as it would violate the pod's disruption budget. (The disruption budget web needs 3 healthy pods and has 3 currently)");
    expect(e.causes).toEqual(['The disruption budget web needs 3 healthy pods and has 3 currently']);
  });

  it('formats field causes of a 422 and does not repeat them when the message already has them', () => {
    const message = 'Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0';
    const e = mapApiError(apiError(422, { message, details: { causes: [{ field: 'spec.replicas', message: 'Invalid value: -1: must be greater than or equal to 0' }] } }), { what: 'patch' });
    expect(e.code).toBe('Rejected');
    expect(e.retryable).toBe(false);
    expect(e.message).toBe(`patch: ${message}`);
    expect(e.causes).toEqual(['spec.replicas: Invalid value: -1: must be greater than or equal to 0']);
  });

  it('reads retryAfterSeconds', () => {
    expect(mapApiError(apiError(429, { message: 'slow down', details: { retryAfterSeconds: 3 } }), { what: 'x' }).retryAfterMs).toBe(3000);
  });

  it('copes with a body that is not a Status', () => {
    const e = mapApiError(apiError(502, '<html>bad gateway</html>'), { what: 'read' });
    expect(e).toMatchObject({ code: 'Transient', message: 'read: HTTP 502' });
  });

  it('maps transport failures to Transient and aborts to Aborted', () => {
    expect(mapApiError(new Error('ECONNREFUSED'), { what: 'read' })).toMatchObject({ code: 'Transient', message: 'read failed: ECONNREFUSED' });
    const abort = new Error('aborted');
    abort.name = 'AbortError';
    expect(mapApiError(abort, { what: 'read' }).code).toBe('Aborted');
    const c = new AbortController();
    c.abort();
    expect(mapApiError(apiError(500, { message: 'x' }), { what: 'read', signal: c.signal }).code).toBe('Aborted');
  });

  it('passes an ExecutorError through unchanged', () => {
    const original = new ExecutorError('NotApplicable', 'nope');
    expect(mapApiError(original, { what: 'x' })).toBe(original);
  });
});

describe('callApi', () => {
  it('does not call at all once the signal is aborted', async () => {
    const c = new AbortController();
    c.abort();
    let called = false;
    const e: unknown = await callApi({ what: 'x', signal: c.signal }, () => {
      called = true;
      return Promise.resolve(1);
    }).catch((err: unknown) => err);
    expect(called).toBe(false);
    expect(isExecutorError(e, 'Aborted')).toBe(true);
  });

  it('maps a failure', async () => {
    const e: unknown = await callApi({ what: 'read pod' }, () => Promise.reject(apiError(404, { message: 'pods "a" not found' }))).catch((err: unknown) => err);
    expect(e).toMatchObject({ code: 'TargetGone', message: 'read pod: pods "a" not found' });
  });
});

describe('parseApiStatus', () => {
  it('parses a Status from text or object and ignores anything else', () => {
    expect(parseApiStatus('{"kind":"Status","message":"m","reason":"NotFound","details":{"name":"a","kind":"pods"},"code":404}')).toEqual({
      message: 'm',
      reason: 'NotFound',
      code: 404,
      details: { name: 'a', kind: 'pods' },
    });
    expect(parseApiStatus({ kind: 'Status', message: 'm' })).toEqual({ message: 'm' });
    expect(parseApiStatus('not json')).toBeUndefined();
    expect(parseApiStatus({ kind: 'Pod' })).toBeUndefined();
  });
});
