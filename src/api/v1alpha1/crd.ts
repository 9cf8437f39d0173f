/**
 * Generates the CustomResourceDefinitions of HealingPolicy, ClusterHealingPolicy and HealingAction from the TypeBox schemas, so the
 * CRD YAML under config/crd/bases is derived, never hand-edited (a unit test fails when it is stale).
 */
import { stringify } from 'yaml';
import { GROUP, VERSION } from './common.js';
import { HealingActionSpecSchema, HealingActionStatusSchema } from './healing-action.js';
import { ClusterHealingPolicySpecSchema, HealingPolicySpecSchema, HealingPolicyStatusSchema } from './healing-policy.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A CustomResourceDefinition as plain data. */
export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: Record<string, Json>;
}

/** Copies a schema as plain JSON (symbols, such as TypeBox's and our rule predicates, are dropped). */
function plain(schema: unknown): Json {
  return JSON.parse(JSON.stringify(schema)) as Json;
}

function rootSchema(spec: unknown, status: unknown, description: string): Json {
  return {
    type: 'object',
    description,
    required: ['spec'],
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object' },
      spec: plain(spec),
      status: plain(status),
    },
  };
}

interface KindInfo {
  kind: string;
  plural: string;
  singular: string;
  shortName: string;
  description: string;
  spec: unknown;
  status: unknown;
  columns: Json[];
  scope?: 'Namespaced' | 'Cluster';
}

function buildCrd(k: KindInfo): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${k.plural}.${GROUP}`, labels: { 'app.kubernetes.io/part-of': 'kubeskippy' } },
    spec: {
      group: GROUP,
      names: {
        kind: k.kind,
        listKind: `${k.kind}List`,
        plural: k.plural,
        singular: k.singular,
        shortNames: [k.shortName],
        categories: ['kubeskippy'],
      },
      scope: k.scope ?? 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: k.columns,
          schema: { openAPIV3Schema: rootSchema(k.spec, k.status, k.description) },
        },
      ],
    },
  };
}

/** Printer columns of both policy kinds. */
const POLICY_COLUMNS: Json[] = [
  { name: 'Mode', type: 'string', jsonPath: '.spec.mode' },
  { name: 'Triggers', type: 'string', jsonPath: '.spec.triggers[*].name', description: 'The triggers of the policy' },
  { name: 'Firing', type: 'string', jsonPath: '.status.activeTriggers', description: 'Triggers firing (or cooling down) on some target now', priority: 1 },
  { name: 'Actions Taken', type: 'integer', jsonPath: '.status.actionsTaken', description: 'HealingActions that executed (or are executing)' },
  { name: 'Last Action', type: 'date', jsonPath: '.status.lastActionTime' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

/** The HealingPolicy CRD. */
export function healingPolicyCrd(): CustomResourceDefinition {
  return buildCrd({
    kind: 'HealingPolicy',
    plural: 'healingpolicies',
    singular: 'healingpolicy',
    shortName: 'hp',
    description: 'HealingPolicy declares which workloads KubeSkippy watches, when it acts, how, and within which safety rules.',
    spec: HealingPolicySpecSchema,
    status: HealingPolicyStatusSchema,
    columns: POLICY_COLUMNS,
  });
}

/** The ClusterHealingPolicy CRD: the same spec with namespaces chosen by name or label, cluster-scoped. */
export function clusterHealingPolicyCrd(): CustomResourceDefinition {
  return buildCrd({
    kind: 'ClusterHealingPolicy',
    plural: 'clusterhealingpolicies',
    singular: 'clusterhealingpolicy',
    shortName: 'chp',
    description:
      'ClusterHealingPolicy is a HealingPolicy that acts across namespaces (selector.namespaces, selector.namespaceSelector). Cluster-scoped: only cluster administrators write it. Its HealingActions live in their targets’ namespaces.',
    spec: ClusterHealingPolicySpecSchema,
    status: HealingPolicyStatusSchema,
    columns: POLICY_COLUMNS,
    scope: 'Cluster',
  });
}

/** The HealingAction CRD. */
export function healingActionCrd(): CustomResourceDefinition {
  return buildCrd({
    kind: 'HealingAction',
    plural: 'healingactions',
    singular: 'healingaction',
    shortName: 'ha',
    description: 'HealingAction records one healing decision about one target: why, what, whether it was allowed, and how it ended.',
    spec: HealingActionSpecSchema,
    status: HealingActionStatusSchema,
    columns: [
      { name: 'Policy', type: 'string', jsonPath: '.spec.policyRef.name' },
      { name: 'Action', type: 'string', jsonPath: '.spec.action.type' },
      { name: 'Target', type: 'string', jsonPath: '.spec.targetResource.name' },
      { name: 'Kind', type: 'string', jsonPath: '.spec.targetResource.kind', priority: 1 },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      { name: 'Reason', type: 'string', jsonPath: '.status.reason', priority: 1 },
      { name: 'Source', type: 'string', jsonPath: '.spec.source', priority: 1 },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
  });
}

/** Every CRD, in a stable order. */
export function allCrds(): CustomResourceDefinition[] {
  return [healingPolicyCrd(), clusterHealingPolicyCrd(), healingActionCrd()];
}

/** The file name a CRD is written to under config/crd/bases (kubebuilder's convention). */
export function crdFileName(crd: CustomResourceDefinition): string {
  const [plural, ...group] = crd.metadata.name.split('.');
  return `${group.join('.')}_${plural ?? ''}.yaml`;
}

/** Renders a CRD as the YAML committed to config/crd/bases. */
export function renderCrdYaml(crd: CustomResourceDefinition): string {
  return `# Generated from src/api/v1alpha1 by \`npm run generate\`. Do not edit.\n${stringify(crd, { lineWidth: 0 })}`;
}
