/**
 * The chart's HealingAction admission policy on the real cluster, scoped to one test file. The cluster is shared:
 * bound everywhere, the policy would refuse every other test's hand-made HealingActions. So the binding's
 * namespaceSelector selects only this run's namespaces (kubeskippy.io/test-run=<TEST_RUN_ID>), and "the operator"
 * is a ServiceAccount of the test, with the chart's own manager role, whose username the chart renders into the
 * policy exactly as it renders the real operator's.
 */
import type * as k8s from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { apiRequest, statusMessage, type KubeObject } from './api-server.js';
import { createTestNamespace, deleteTestNamespace, TEST_RUN_ID, waitFor } from './cluster.js';
import { createIdentity, type TestIdentity } from './identity.js';
import { applyOrThrow, deleteObject, findObject, helmTemplate } from './install.js';

/** The policy installed for one test file. */
export interface TestAdmission {
  /** The stand-in operator: a ServiceAccount bound to the chart's manager ClusterRole, named in the policy. */
  readonly operator: TestIdentity;
  /** Name of the ValidatingAdmissionPolicy (and of its binding). */
  readonly policyName: string;
  /** Everything the chart rendered (for tests that want more of it). */
  readonly rendered: readonly KubeObject[];
  /** Deletes the policy, its binding, the manager role and binding, and the operator's namespace. */
  remove(): Promise<void>;
}

interface PolicyStatus {
  metadata?: { generation?: number };
  status?: { observedGeneration?: number; typeChecking?: { expressionWarnings?: { fieldRef: string; warning: string }[] } };
}

/**
 * Renders the chart with a unique release in a fresh namespace, creates the operator's ServiceAccount and manager
 * ClusterRole + binding, and the admission policy with a binding limited to this run's namespaces. Resolves once
 * the API server has type-checked the policy (throws if it found a problem in an expression) and enforces it
 * (an admin's dry-run create in `probeNamespace` is refused).
 */
export async function installTestAdmission(admin: k8s.KubeConfig, opts: { helm: string; kubeVersion: string; probeNamespace: string }): Promise<TestAdmission> {
  const operatorNamespace = await createTestNamespace(admin, 'operator');
  const release = `ks-${randomBytes(3).toString('hex')}`;
  const rendered = helmTemplate({ helm: opts.helm, kubeVersion: opts.kubeVersion, release, namespace: operatorNamespace, includeCrds: false });
  const serviceAccount = findObject(rendered, 'ServiceAccount');
  const role = findObject(rendered, 'ClusterRole', '-manager');
  const roleBinding = findObject(rendered, 'ClusterRoleBinding', '-manager');
  const policy = findObject(rendered, 'ValidatingAdmissionPolicy');
  const binding = structuredClone(findObject(rendered, 'ValidatingAdmissionPolicyBinding'));
  binding['spec'] = { ...(binding['spec'] as object), matchResources: { namespaceSelector: { matchLabels: { 'kubeskippy.io/test-run': TEST_RUN_ID } } } };
  const clusterScoped = [role, roleBinding, policy, binding];
  const remove = async (): Promise<void> => {
    // The binding first: without it nothing is enforced, whatever else is left.
    for (const o of [binding, policy, roleBinding, role]) await deleteObject(admin, o);
    await deleteTestNamespace(admin, operatorNamespace);
  };
  try {
    await applyOrThrow(admin, serviceAccount);
    for (const o of clusterScoped) await applyOrThrow(admin, o);
    const operator = await createIdentity(admin, operatorNamespace, serviceAccount.metadata.name);

    const path = `/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies/${policy.metadata.name}`;
    const checked = await waitFor('the admission policy type-checked', async () => {
      const p = (await apiRequest(admin, { method: 'GET', path })).body as PolicyStatus;
      return p.status?.observedGeneration !== undefined && p.status.observedGeneration === p.metadata?.generation ? p : undefined;
    }, 60_000);
    const warnings = checked.status?.typeChecking?.expressionWarnings ?? [];
    if (warnings.length > 0) throw new Error(`the API server found problems in the admission policy: ${JSON.stringify(warnings)}`);

    await waitFor('the admission policy enforced', async () => {
      const res = await apiRequest(admin, {
        method: 'POST',
        path: `/apis/kubeskippy.io/v1alpha1/namespaces/${opts.probeNamespace}/healingactions?dryRun=All`,
        body: healingAction('probe', opts.probeNamespace),
      });
      return res.status === 403 && statusMessage(res).includes('created only by the KubeSkippy operator');
    }, 60_000, 500);
    return { operator, policyName: policy.metadata.name, rendered, remove };
  } catch (e: unknown) {
    await remove();
    throw e;
  }
}

/**
 * A minimal valid HealingAction in `namespace` (restart of a pod of the same namespace) that requires approval,
 * with optional annotations.
 */
export function healingAction(name: string, namespace: string, opts: { target?: string; annotations?: Record<string, string> } = {}): KubeObject {
  return {
    apiVersion: 'kubeskippy.io/v1alpha1',
    kind: 'HealingAction',
    metadata: { name, namespace, ...(opts.annotations ? { annotations: opts.annotations } : {}) },
    spec: {
      policyRef: { name: 'crashloop' },
      targetResource: { apiVersion: 'v1', kind: 'Pod', namespace, name: opts.target ?? 'web-0' },
      action: { name: 'restart', type: 'restart', restartAction: { strategy: 'recreate' } },
      approvalRequired: true,
    },
  };
}
