/**
 * The CLI's calls to a real cluster, behind the small interfaces each command declares (ActionsApi, StatusApi,
 * ExplainApi, ControlApi), so commands are tested with in-memory fakes and run here against the API server.
 */
import * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION } from '../api/v1alpha1/common.js';
import type { HealingAction } from '../api/v1alpha1/healing-action.js';
import type { AnyPolicy, ClusterHealingPolicy, HealingPolicy } from '../api/v1alpha1/healing-policy.js';
import { CONTROL_CONFIGMAP } from '../control/switch.js';
import { isNotFound } from '../k8s/errors.js';
import { createKubeListWatch, listPageParams, resourcePath, type ListWatchSource } from '../k8s/informer.js';
import { requestOptions } from '../k8s/client.js';
import { microTimeToMs } from '../runtime/leader-election.js';
import type { PolicyId } from '../safety/types.js';
import type { WatchedAction } from './actions.js';
import { createActionsApi, type ActionsApi } from './approve.js';
import type { ExplainApi } from './explain.js';
import type { ControlApi } from './pause.js';
import type { ReplayApi } from './replay.js';
import type { ConfigMapInfo, LeaseInfo, StatusApi } from './status.js';

/** Every call the CLI makes. */
export interface ClusterApi extends ActionsApi, StatusApi, ExplainApi, ControlApi, ReplayApi {
  /** The list-and-watch source of HealingActions in `namespace` (undefined: all namespaces). */
  actionSource(namespace: string | undefined): ListWatchSource<WatchedAction>;
}

async function orUndefined<T>(f: () => Promise<T>): Promise<T | undefined> {
  try {
    return await f();
  } catch (e: unknown) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** A ClusterApi over `kc`. */
export function createClusterApi(kc: k8s.KubeConfig): ClusterApi {
  const co = kc.makeApiClient(k8s.CustomObjectsApi);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const coordination = kc.makeApiClient(k8s.CoordinationV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
  const list = async <T>(plural: string, namespace: string | undefined): Promise<T[]> => {
    const l = (namespace === undefined
      ? await co.listClusterCustomObject({ group: GROUP, version: VERSION, plural })
      : await co.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural })) as { items?: T[] };
    return l.items ?? [];
  };
  const actions = createActionsApi(kc);
  return {
    ...actions,
    listActions: (namespace) => list<HealingAction>('healingactions', namespace),
    listPolicies: (namespace) => list<HealingPolicy>('healingpolicies', namespace),
    listClusterPolicies: () => list<ClusterHealingPolicy>('clusterhealingpolicies', undefined),
    getPolicy: (id: PolicyId) =>
      orUndefined(async () =>
        id.kind === 'ClusterHealingPolicy'
          ? ((await co.getClusterCustomObject({ group: GROUP, version: VERSION, plural: 'clusterhealingpolicies', name: id.name })) as AnyPolicy)
          : ((await co.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: id.namespace, plural: 'healingpolicies', name: id.name })) as AnyPolicy),
      ),
    getLease: (namespace, name) =>
      orUndefined(async (): Promise<LeaseInfo> => {
        const l = await coordination.readNamespacedLease({ namespace, name });
        const renewTime = microTimeToMs(l.spec?.renewTime);
        return {
          ...(l.spec?.holderIdentity ? { holderIdentity: l.spec.holderIdentity } : {}),
          ...(renewTime === undefined ? {} : { renewTime }),
          ...(l.spec?.leaseDurationSeconds === undefined ? {} : { leaseDurationSeconds: l.spec.leaseDurationSeconds }),
        };
      }),
    getConfigMap: (namespace, name) =>
      orUndefined(async (): Promise<ConfigMapInfo> => {
        const cm = await core.readNamespacedConfigMap({ namespace, name });
        return { ...(cm.data ? { data: cm.data } : {}), ...(cm.metadata?.annotations ? { annotations: cm.metadata.annotations } : {}) };
      }),
    getControl: (namespace) =>
      orUndefined(async () => {
        const cm = await core.readNamespacedConfigMap({ namespace, name: CONTROL_CONFIGMAP });
        return { resourceVersion: cm.metadata?.resourceVersion ?? '', data: cm.data ?? {} };
      }),
    createControl: async (namespace, data) => {
      await core.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name: CONTROL_CONFIGMAP, labels: { 'app.kubernetes.io/part-of': 'kubeskippy' } }, data: { ...data } },
      });
    },
    patchControl: async (namespace, resourceVersion, data) => {
      // resourceVersion in a merge patch is a precondition: the server answers 409 if the object changed.
      await core.patchNamespacedConfigMap({ namespace, name: CONTROL_CONFIGMAP, body: { metadata: { resourceVersion }, data } }, mergePatch);
    },
    actionSource: (namespace) =>
      createKubeListWatch<WatchedAction>(kc, {
        path: resourcePath({ group: GROUP, version: VERSION, plural: 'healingactions', ...(namespace === undefined ? {} : { namespace }) }),
        list: async (signal, page) =>
          (namespace === undefined
            ? await co.listClusterCustomObject({ group: GROUP, version: VERSION, plural: 'healingactions', ...listPageParams(page) }, requestOptions(signal))
            : await co.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'healingactions', ...listPageParams(page) }, requestOptions(signal))) as k8s.KubernetesListObject<WatchedAction>,
      }),
    listNamespaces: async () => (await core.listNamespace()).items,
    listPods: async (namespace) => (await core.listNamespacedPod({ namespace })).items,
    listWorkloads: async (namespace) => {
      const [deployments, statefulSets, daemonSets, replicaSets] = await Promise.all([
        apps.listNamespacedDeployment({ namespace }),
        apps.listNamespacedStatefulSet({ namespace }),
        apps.listNamespacedDaemonSet({ namespace }),
        apps.listNamespacedReplicaSet({ namespace }),
      ]);
      return { deployments: deployments.items, statefulSets: statefulSets.items, daemonSets: daemonSets.items, replicaSets: replicaSets.items };
    },
  };
}
