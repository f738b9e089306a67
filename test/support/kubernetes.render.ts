import { execFileSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered YAML, which the tests read loosely
type Loose = any;

/** A rendered Kubernetes object: the tests read what they check. */
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [member: string]: Loose };
  [member: string]: Loose;
};

/**
 * How to run kustomize here: `kubectl kustomize` from kubectl 1.21 or later, or a standalone `kustomize`
 * (v4 or later: the manifests use components and patches with targets). Undefined when neither is installed.
 */
export function findKustomize(): ((dir: string) => string) | undefined {
  const major = (version: string | undefined) => Number(/^v?(\d+)/.exec(version ?? '')?.[1] ?? 0);
  try {
    const version = JSON.parse(
      execFileSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8' }),
    );
    if (major(version.kustomizeVersion) >= 4) {
      return (dir) => execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
    }
  } catch {
    // No kubectl: try kustomize itself.
  }
  try {
    if (major(execFileSync('kustomize', ['version'], { encoding: 'utf8' }).trim().split('/').pop()) >= 4) {
      return (dir) => execFileSync('kustomize', ['build', dir], { encoding: 'utf8' });
    }
  } catch {
    // Neither.
  }
  return undefined;
}

export function parseObjects(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((object): object is K8sObject => object !== null);
}

export interface Peer {
  namespace: string;
  labels: Record<string, string>;
}

const matches = (
  selector: { matchLabels?: Record<string, string> } | undefined,
  labels: Record<string, string>,
) => Object.entries(selector?.matchLabels ?? {}).every(([key, value]) => labels[key] === value);

/**
 * Whether the NetworkPolicies of `namespace` let `peer` open a connection to `target` (a pod's labels) on `port`:
 * not isolated when no policy selects the pod; otherwise any ingress rule of any selecting policy that admits
 * both the peer and the port. Namespaces carry their `kubernetes.io/metadata.name` label, as Kubernetes sets it.
 */
export function admits(
  policies: K8sObject[],
  namespace: string,
  target: Record<string, string>,
  peer: Peer,
  port: number,
): boolean {
  const selecting = policies.filter(
    (p) =>
      p.kind === 'NetworkPolicy' &&
      matches(p.spec.podSelector, target) &&
      p.spec.policyTypes.includes('Ingress'),
  );
  if (selecting.length === 0) return true;
  const namespaceLabels = { 'kubernetes.io/metadata.name': peer.namespace };
  return selecting.some((policy) =>
    (policy.spec.ingress ?? []).some(
      (rule: { from?: K8sObject[]; ports?: { port: number }[] }) =>
        (rule.ports === undefined || rule.ports.some((p) => p.port === port)) &&
        (rule.from === undefined ||
          rule.from.some((from) => {
            if (from.namespaceSelector && !matches(from.namespaceSelector, namespaceLabels)) return false;
            if (!from.namespaceSelector && peer.namespace !== namespace) return false;
            return from.podSelector ? matches(from.podSelector, peer.labels) : true;
          })),
    ),
  );
}

/** Whether an Ingress path (Exact or Prefix, as the Ingress API defines them) matches a request path. */
export function ingressPathMatches(rule: { path: string; pathType: string }, path: string): boolean {
  if (rule.pathType === 'Exact') return path === rule.path;
  if (rule.pathType !== 'Prefix') throw new Error(`pathType ${rule.pathType} has no portable meaning`);
  const want = rule.path.split('/').filter(Boolean);
  const have = path.split('/').filter(Boolean);
  return want.every((element, i) => have[i] === element);
}
