/**
 * Counts the operator's API requests. `countingKubeConfig` returns a view of a KubeConfig that reports every
 * request made through it — typed API calls, KubernetesObjectApi, Watch and Metrics — before it is sent, and
 * `classifyRequest` names each one the way the API server's audit log does (verb, group, resource, subresource),
 * so `kubeskippy_api_requests_total` can be compared with `apiserver_request_total` and with the RBAC rules.
 *
 * Why applySecurityAuthentication: in client-node 2.x it is the one hook every HTTP request passes, with the final
 * method and URL (query included) in its RequestContext — the generated typed APIs call it after setting the query
 * parameters, and Watch (watch.js) and Metrics (metrics.js) call it too. (client-node 1.x had `applyToFetchOptions`
 * for Watch and Metrics, but it was never given the URL, so it could not be classified; 2.x does not have it.)
 * Requests through `applyToHTTPSOptions` (exec, attach, port-forward, protobuf) are not counted: the operator
 * makes none.
 */
import type { KubeConfig, RequestContext } from '@kubernetes/client-node';

/** One API request, named as the API server's audit log and `apiserver_request_total` name it. */
export interface ApiRequestInfo {
  /**
   * get | list | watch | create | update | patch | delete | deletecollection for resource requests; the
   * lower-case HTTP method for other URLs (discovery, /version, /healthz).
   */
  readonly verb: string;
  /** API group; '' for the core group and for non-resource URLs. */
  readonly group: string;
  /** Resource plural from the URL path (`pods`, `healingactions`); '' for non-resource URLs. */
  readonly resource: string;
  /** Subresource (`status`, `eviction`, `scale`…), or ''. */
  readonly subresource: string;
}

/** Called once for every request, before it is sent. */
export type ApiRequestObserver = (request: ApiRequestInfo) => void;

/** Path segments after /namespaces/{name} that are subresources of the Namespace itself, not resources in it. */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

/** Query values Go's strconv.ParseBool (used by the API server's parameter codec) reads as true. */
const TRUE_VALUES = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);

function httpVerb(method: string): string {
  switch (method.toUpperCase()) {
    case 'GET':
    case 'HEAD':
      return 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return method.toLowerCase();
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Names the request `method url` as the API server's RequestInfoFactory does: `/api/v1/...` (core) and
 * `/apis/{group}/{version}/...` are resource requests, optionally namespaced, with a name and a subresource; a GET
 * without a name is `list`, or `watch` with `?watch=true` or under the deprecated `/watch/` prefix; a DELETE
 * without a name is `deletecollection`. Anything else (discovery, /version) is a non-resource request.
 * `basePath` is the path prefix of the cluster's server URL (API servers behind a proxy), stripped first.
 * Never throws; a URL that cannot be parsed is a non-resource request.
 */
export function classifyRequest(method: string, url: string, basePath = ''): ApiRequestInfo {
  const nonResource: ApiRequestInfo = { verb: method.toLowerCase(), group: '', resource: '', subresource: '' };
  let parsed: URL;
  try {
    parsed = new URL(url, 'http://localhost');
  } catch {
    return nonResource;
  }
  let path = parsed.pathname;
  const base = basePath.replace(/\/+$/, '');
  if (base !== '' && (path === base || path.startsWith(`${base}/`))) path = path.slice(base.length);
  const segments = path.split('/').filter((s) => s !== '').map(decodeSegment);

  let group: string;
  let parts: string[];
  if (segments[0] === 'api' && segments.length >= 2) {
    group = '';
    parts = segments.slice(2);
  } else if (segments[0] === 'apis' && segments.length >= 3) {
    group = segments[1] ?? '';
    parts = segments.slice(3);
  } else {
    return nonResource;
  }
  if (parts.length === 0) return nonResource; // discovery of a group version

  let verb = httpVerb(method);
  if (parts[0] === 'watch') {
    // The deprecated /watch/ prefix: GETs under it are watches.
    if (verb === 'get') verb = 'watch';
    parts = parts.slice(1);
  }
  if (parts[0] === 'namespaces' && parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2] ?? '')) parts = parts.slice(2);
  const [resource = '', name = '', subresource = ''] = parts;
  if (resource === '') return nonResource;
  if (name === '') {
    if (verb === 'get') verb = TRUE_VALUES.has(parsed.searchParams.get('watch') ?? '') ? 'watch' : 'list';
    else if (verb === 'delete') verb = 'deletecollection';
  }
  return { verb, group, resource, subresource };
}

/**
 * Names the request in `context` (see classifyRequest), against the base path of `kc`'s current server. Never
 * throws: a server URL that cannot be parsed counts as no base path.
 */
export function classifyContext(kc: KubeConfig, context: RequestContext): ApiRequestInfo {
  const server = kc.getCurrentCluster()?.server;
  let basePath = '';
  try {
    if (server !== undefined) basePath = new URL(server).pathname;
  } catch {
    // No base path.
  }
  return classifyRequest(context.getHttpMethod(), context.getUrl(), basePath);
}

/**
 * Returns a KubeConfig that is `kc` in every respect (clusters, users, credentials, authenticators — read through
 * to `kc`, which is not modified) except that every API request made through it (or through API clients, Watch or
 * Metrics built from it) is classified and passed to `observe` just before it is sent. Requests made through `kc`
 * itself are not observed, so several operators in one process each count only their own. An observer that throws
 * is ignored: counting never fails a request.
 */
export function countingKubeConfig(kc: KubeConfig, observe: ApiRequestObserver): KubeConfig {
  // A prototype-linked view: state lives in `kc`, and the one method that sees every request is overridden.
  const view = Object.create(kc) as KubeConfig;
  const authenticate = (context: RequestContext): Promise<void> => {
    try {
      observe(classifyContext(view, context));
    } catch {
      // Counting is best effort.
    }
    return kc.applySecurityAuthentication.call(view, context);
  };
  Object.defineProperty(view, 'applySecurityAuthentication', { value: authenticate, writable: true, configurable: true });
  return view;
}
