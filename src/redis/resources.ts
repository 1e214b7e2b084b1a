import { Size, SizeRoundingBehavior } from 'cdk8s';
import { ContainerResources, Cpu } from 'cdk8s-plus-28';

/**
 * Sizes of a Redis node, named like the Bitnami charts' `resourcesPreset` values. Each sets a CPU request
 * (no CPU limit: throttling a single-threaded server shows up as latency), a memory request equal to the
 * limit (a data store should not be the first pod evicted under node memory pressure), and `maxmemory`
 * at 75 % of the limit.
 */
export enum RedisResourcesPreset {
  /** 100m CPU, 128 MiB memory, maxmemory 96 MiB. */
  NANO = 'nano',
  /** 250m CPU, 256 MiB memory, maxmemory 192 MiB. */
  MICRO = 'micro',
  /** 500m CPU, 512 MiB memory, maxmemory 384 MiB. */
  SMALL = 'small',
  /** 500m CPU, 1 GiB memory, maxmemory 768 MiB. */
  MEDIUM = 'medium',
  /** 1 CPU, 2 GiB memory, maxmemory 1536 MiB. */
  LARGE = 'large',
  /** 2 CPU, 4 GiB memory, maxmemory 3 GiB. */
  XLARGE = 'xlarge',
  /** 2 CPU, 8 GiB memory, maxmemory 6 GiB. */
  XXLARGE = '2xlarge',
}

/** CPU request (millicores) and memory (MiB) of each preset. */
const PRESETS: { [preset: string]: [number, number] } = {
  [RedisResourcesPreset.NANO]: [100, 128],
  [RedisResourcesPreset.MICRO]: [250, 256],
  [RedisResourcesPreset.SMALL]: [500, 512],
  [RedisResourcesPreset.MEDIUM]: [500, 1024],
  [RedisResourcesPreset.LARGE]: [1000, 2048],
  [RedisResourcesPreset.XLARGE]: [2000, 4096],
  [RedisResourcesPreset.XXLARGE]: [2000, 8192],
};

/**
 * Share of the container memory limit that a derived `maxmemory` takes. The rest is for what Redis
 * allocates outside the dataset: client and replica output buffers, the replication backlog,
 * fragmentation, and pages copied while a forked child writes an RDB or rewrites the AOF.
 * @internal
 */
export const MAX_MEMORY_SHARE = 0.75;

/** @internal */
export function presetNames(): string[] {
  return Object.keys(PRESETS);
}

/**
 * Container resources of a preset, or undefined for an unknown preset.
 * @internal
 */
export function presetResources(preset: RedisResourcesPreset): ContainerResources | undefined {
  const p = PRESETS[preset];
  if (!p) return undefined;
  const memory = Size.mebibytes(p[1]);
  return { cpu: { request: p[0] % 1000 === 0 ? Cpu.units(p[0] / 1000) : Cpu.millis(p[0]) }, memory: { request: memory, limit: memory } };
}

/**
 * maxmemory derived from a memory limit: MAX_MEMORY_SHARE of it, rounded down to whole MiB.
 * @internal
 */
export function derivedMaxMemory(limit: Size): Size {
  return Size.mebibytes(Math.floor(limit.toKibibytes({ rounding: SizeRoundingBehavior.NONE }) / 1024 * MAX_MEMORY_SHARE));
}
