/**
 * The metadata Raft group's status as a RobustMQ v0.4.11 member reports it on its admin API (GET /api/info, what
 * `robust-ctl cluster status` shows). Shared by the tests that run members as local processes
 * (test/support/robustmq-harness.ts) and the ones that run them in real pods (test/cluster/real-pods.test.ts).
 */
export interface RaftStatus {
  /** The member that answered (the first reachable entry of meta_addrs). */
  readonly id: number;
  readonly state: string;
  readonly currentLeader: number | undefined;
  readonly term: number;
  readonly lastLogIndex: number;
  /** Voter sets of the membership ([[1, 2, 3]] for one joint-free configuration of three). */
  readonly voters: number[][];
  /** Raft id to the gRPC address the cluster knows the member by. */
  readonly nodes: { [id: string]: string };
  /** On a leader: Raft id to the last log index replicated there. */
  readonly replication: { [id: string]: number } | undefined;
}

/**
 * Parses the body of GET /api/info. `who` names the member asked, for the error messages.
 * The server asks the first reachable entry of meta_addrs, so `id` says which member answered.
 */
export function parseRaftStatus(body: string, who: string): RaftStatus {
  let reply: any;
  try {
    reply = JSON.parse(body);
  } catch {
    throw new Error(`GET /api/info on ${who}: not JSON: ${body.slice(0, 300)}`);
  }
  const meta = reply?.data?.meta?.metadata_0;
  if (!meta) throw new Error(`GET /api/info on ${who}: no metadata_0 status: ${body.slice(0, 300)}`);
  const nodes: { [id: string]: string } = {};
  for (const [id, info] of Object.entries<any>(meta.membership_config.membership.nodes)) nodes[id] = info.rpc_addr;
  return {
    id: meta.id,
    state: meta.state,
    currentLeader: meta.current_leader ?? undefined,
    term: meta.current_term,
    lastLogIndex: meta.last_log_index,
    voters: meta.membership_config.membership.configs.map((c: number[]) => [...c].sort((a, b) => a - b)),
    nodes,
    replication: meta.replication
      ? Object.fromEntries(Object.entries<any>(meta.replication).map(([id, r]) => [id, r ? r.index : -1]))
      : undefined,
  };
}
