/**
 * From command-line flags to a KubeConfig and a namespace, the way kubectl does it: --kubeconfig, else
 * $KUBECONFIG, in-cluster, ~/.kube/config; --as impersonates; the namespace is -n, else the context's, else
 * "default".
 */
import type * as k8s from '@kubernetes/client-node';
import type { Command } from 'commander';
import { KubeConfigError, loadKubeConfig } from '../k8s/client.js';

/** The flags every command that talks to the cluster shares. */
export interface ConnectionFlags {
  readonly namespace?: string;
  readonly kubeconfig?: string;
  /** Impersonate this user (Kubernetes impersonation, as kubectl --as). */
  readonly as?: string;
}

/** A loaded KubeConfig and the namespace to use. */
export interface Connection {
  readonly kc: k8s.KubeConfig;
  readonly namespace: string;
  /** True when -n was given (some commands then narrow what they read). */
  readonly namespaceGiven: boolean;
}

/**
 * Makes every request of `kc` impersonate `user` (the Impersonate-User header, kubectl's --as): the server checks
 * that the kubeconfig's own identity may impersonate, then treats the request as USER's. Mutates `kc`.
 */
export function impersonate(kc: k8s.KubeConfig, user: string): void {
  const current = kc.getCurrentUser();
  if (current === null) throw new KubeConfigError(`the kubeconfig's current context "${kc.getCurrentContext()}" has no user to impersonate with`);
  kc.users = kc.users.map((u) => (u.name === current.name ? { ...u, impersonateUser: user } : u));
}

/** Loads the kubeconfig the flags name (impersonating --as). Throws KubeConfigError. */
export function connect(flags: ConnectionFlags, env: Readonly<Record<string, string | undefined>>): Connection {
  const { kubeConfig: kc } = loadKubeConfig({ ...(flags.kubeconfig ? { kubeconfigPath: flags.kubeconfig } : {}), env });
  if (flags.as !== undefined) impersonate(kc, flags.as);
  const contextNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace;
  return { kc, namespace: flags.namespace ?? contextNamespace ?? 'default', namespaceGiven: flags.namespace !== undefined };
}

/** Adds -n, --as and --kubeconfig to a command; `what` names what -n selects ("the action"). */
export function withConnectionFlags(c: Command, what: string): Command {
  return c
    .option('-n, --namespace <namespace>', `namespace of ${what}; default: the kubeconfig context's, else "default"`)
    .option('--as <user>', 'impersonate this user (Kubernetes impersonation, as kubectl --as; needs the impersonate right)')
    .option('--kubeconfig <path>', 'kubeconfig file; default $KUBECONFIG, in-cluster, ~/.kube/config');
}
