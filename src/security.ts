import { k8s } from 'cdk8s-plus-28';

/**
 * Container security context that Pod Security Standards "restricted" accepts.
 * @internal
 */
export function restrictedContainerSecurityContext(): k8s.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/**
 * Pod security context with a numeric non-root identity, as "restricted" requires.
 * @internal
 */
export function restrictedPodSecurityContext(runAsUser: number, runAsGroup: number, fsGroup?: number): k8s.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser,
    runAsGroup,
    fsGroup,
    fsGroupChangePolicy: fsGroup === undefined ? undefined : 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}
