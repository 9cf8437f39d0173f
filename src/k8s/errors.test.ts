import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  describeKubeError,
  isAlreadyExists,
  isConflict,
  isForbidden,
  isGone,
  isInvalid,
  isNotFound,
  isRetryable,
  isTooManyRequests,
  isUnavailable,
  KubeError,
  toKubeError,
} from './errors.js';

function apiError(code: number, status: Record<string, unknown> | string | undefined, headers: Record<string, string> = {}): k8s.ApiException<unknown> {
  const body = typeof status === 'string' || status === undefined ? status : JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, ...status });
  return new k8s.ApiException(code, 'msg', body, headers);
}

describe('toKubeError', () => {
  it.each([
    [404, { reason: 'NotFound', message: 'pods "x" not found' }, 'NotFound'],
    [409, { reason: 'AlreadyExists', message: 'leases.coordination.k8s.io "l" already exists' }, 'AlreadyExists'],
    [409, { reason: 'Conflict', message: 'the object has been modified' }, 'Conflict'],
    [429, { reason: 'TooManyRequests', message: 'Cannot evict pod as it would violate the pod\'s disruption budget.' }, 'TooManyRequests'],
    [403, { reason: 'Forbidden', message: 'pods is forbidden' }, 'Forbidden'],
    [401, undefined, 'Unauthorized'],
    [422, { reason: 'Invalid', message: 'ConfigMap "BAD" is invalid' }, 'Invalid'],
    [400, { reason: 'BadRequest', message: 'cannot parse ".103Z" as ".000000"' }, 'BadRequest'],
    [410, { reason: 'Expired', message: 'too old resource version' }, 'Gone'],
    [500, { reason: 'InternalError', message: 'etcd' }, 'Unavailable'],
    [503, { reason: 'ServiceUnavailable', message: 'apiserver shutting down' }, 'Unavailable'],
    [405, { reason: 'MethodNotAllowed', message: 'no' }, 'Unknown'],
  ] as const)('maps HTTP %i (%o) to %s', (status, body, code) => {
    const e = toKubeError(apiError(status, body));
    expect(e.code).toBe(code);
    expect(e.status).toBe(status);
    if (body !== undefined) expect(e.message).toBe(body.message);
  });

  it('extracts field causes of an Invalid (422) and puts them in the one-line description', () => {
    const e = toKubeError(
      apiError(422, {
        reason: 'Invalid',
        message: 'ConfigMap "BAD" is invalid: metadata.name: Invalid value: "BAD": a lowercase RFC 1123 subdomain must consist of…',
        details: {
          name: 'BAD',
          kind: 'ConfigMap',
          causes: [
            { reason: 'FieldValueInvalid', message: 'Invalid value: "BAD": a lowercase RFC 1123 subdomain must consist of…', field: 'metadata.name' },
            { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.x' },
          ],
        },
      }),
    );
    expect(isInvalid(e)).toBe(true);
    expect(e.causes).toEqual([
      { reason: 'FieldValueInvalid', message: 'Invalid value: "BAD": a lowercase RFC 1123 subdomain must consist of…', field: 'metadata.name' },
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.x' },
    ]);
    const line = describeKubeError(e);
    expect(line).toMatch(/^Invalid \(422\): ConfigMap "BAD" is invalid: metadata\.name/);
    expect(line).toContain('[spec.x: Required value]'); // only the cause the message did not already include
    expect(line).not.toContain('\n');
  });

  it('keeps the PDB cause and Retry-After of a blocked eviction', () => {
    const e = toKubeError(
      apiError(
        429,
        {
          reason: 'TooManyRequests',
          message: "Cannot evict pod as it would violate the pod's disruption budget.",
          details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 2 healthy pods and has 2 currently' }] },
        },
        { 'retry-after': '10' },
      ),
    );
    expect(isTooManyRequests(e)).toBe(true);
    expect(e.causes[0]?.reason).toBe('DisruptionBudget');
    expect(e.retryAfterSeconds).toBe(10);
    expect(describeKubeError(e)).toBe(
      "TooManyRequests (429): Cannot evict pod as it would violate the pod's disruption budget. [The disruption budget web needs 2 healthy pods and has 2 currently] (retry after 10s)",
    );
  });

  it('accepts an already-parsed body object and a non-JSON body', () => {
    expect(toKubeError(new k8s.ApiException(404, 'm', { kind: 'Status', reason: 'NotFound', message: 'gone' }, {})).message).toBe('gone');
    expect(toKubeError(new k8s.ApiException(502, 'm', 'Bad Gateway from proxy', {})).message).toBe('Bad Gateway from proxy');
  });

  it('maps watch errors (statusCode) and ERROR-event Status objects', () => {
    expect(isGone(Object.assign(new Error('Gone'), { statusCode: 410 }))).toBe(true);
    expect(toKubeError({ kind: 'Status', code: 410, reason: 'Expired', message: 'too old' })).toMatchObject({ code: 'Gone', message: 'too old' });
  });

  it('maps network failures found in the cause chain to Unavailable', () => {
    const fetchFailed = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' }) });
    const e = toKubeError(fetchFailed);
    expect(e.code).toBe('Unavailable');
    expect(e.reason).toBe('ECONNREFUSED');
    expect(isUnavailable(Object.assign(new Error('socket'), { code: 'UND_ERR_SOCKET' }))).toBe(true);
  });

  it('maps timeouts to Unavailable and aborts to Aborted', () => {
    expect(toKubeError(new DOMException('timed out', 'TimeoutError')).code).toBe('Unavailable');
    expect(toKubeError(new DOMException('aborted', 'AbortError')).code).toBe('Aborted');
  });

  it('maps anything else to Unknown, keeping the cause, and never throws', () => {
    const original = new Error('weird\nsecond line');
    const e = toKubeError(original);
    expect(e).toMatchObject({ code: 'Unknown', message: 'weird' });
    expect(e.cause).toBe(original);
    expect(toKubeError('text').code).toBe('Unknown');
    expect(toKubeError(undefined).code).toBe('Unknown');
    expect(toKubeError(null).code).toBe('Unknown');
  });

  it('is idempotent', () => {
    const e = new KubeError('Conflict', 'c', { status: 409 });
    expect(toKubeError(e)).toBe(e);
  });

  it('never exposes response headers in the message', () => {
    const e = toKubeError(apiError(403, { reason: 'Forbidden', message: 'forbidden' }, { authorization: 'Bearer secret' }));
    expect(e.message).not.toContain('secret');
    expect(describeKubeError(e)).not.toContain('secret');
  });
});

describe('predicates', () => {
  it('distinguish AlreadyExists from Conflict', () => {
    const exists = apiError(409, { reason: 'AlreadyExists', message: 'x' });
    const conflict = apiError(409, { reason: 'Conflict', message: 'x' });
    expect([isAlreadyExists(exists), isConflict(exists)]).toEqual([true, false]);
    expect([isAlreadyExists(conflict), isConflict(conflict)]).toEqual([false, true]);
  });

  it('answer for raw errors without mapping first', () => {
    expect(isNotFound(apiError(404, { reason: 'NotFound', message: 'x' }))).toBe(true);
    expect(isForbidden(apiError(403, { reason: 'Forbidden', message: 'x' }))).toBe(true);
    expect(isNotFound(new Error('x'))).toBe(false);
  });

  it('call conflicts, throttling and outages retryable, and validation errors not', () => {
    expect(isRetryable(apiError(409, { reason: 'Conflict', message: 'x' }))).toBe(true);
    expect(isRetryable(apiError(429, { reason: 'TooManyRequests', message: 'x' }))).toBe(true);
    expect(isRetryable(apiError(503, { message: 'x' }))).toBe(true);
    expect(isRetryable(apiError(422, { reason: 'Invalid', message: 'x' }))).toBe(false);
    expect(isRetryable(apiError(404, { reason: 'NotFound', message: 'x' }))).toBe(false);
  });
});
