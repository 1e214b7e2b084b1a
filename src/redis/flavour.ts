/**
 * Which server the cluster runs. Each flavour has a pinned default image (override it with `image`)
 * and the binary names its scripts call.
 */
export enum RedisFlavour {
  /** Redis 7.4 (BSD-licensed up to 7.2, RSALv2/SSPLv1 from 7.4), image `docker.io/library/redis:7.4.2`. */
  REDIS_7_4 = 'redis-7.4',
  /** Redis 8 (RSALv2/SSPLv1/AGPLv3), image `docker.io/library/redis:8.2.2`. */
  REDIS_8 = 'redis-8',
  /** Valkey 8, the BSD-licensed fork of Redis 7.2, image `docker.io/valkey/valkey:8.1.4`; its scripts call valkey-server and valkey-cli. */
  VALKEY_8 = 'valkey-8',
}

/** @internal */
export interface FlavourDetails {
  readonly image: string;
  readonly server: string;
  readonly cli: string;
}

const FLAVOURS: { [flavour: string]: FlavourDetails } = {
  [RedisFlavour.REDIS_7_4]: { image: 'docker.io/library/redis:7.4.2', server: 'redis-server', cli: 'redis-cli' },
  // 8.2.2 and 8.1.4 carry the fix for the Lua use-after-free of October 2025 (CVE-2025-49844)
  [RedisFlavour.REDIS_8]: { image: 'docker.io/library/redis:8.2.2', server: 'redis-server', cli: 'redis-cli' },
  [RedisFlavour.VALKEY_8]: { image: 'docker.io/valkey/valkey:8.1.4', server: 'valkey-server', cli: 'valkey-cli' },
};

/**
 * Image and binaries of a flavour, or undefined for an unknown one.
 * @internal
 */
export function flavourDetails(flavour: RedisFlavour): FlavourDetails | undefined {
  return FLAVOURS[flavour];
}

/** @internal */
export function flavourNames(): string[] {
  return Object.keys(FLAVOURS);
}
