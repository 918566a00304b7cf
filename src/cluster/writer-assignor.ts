import { AssignerProtocol, type GroupMember, type GroupMemberAssignment, type PartitionAssigner } from 'kafkajs';

/**
 * What each instance tells the group when it joins (the member metadata's userData, JSON):
 * where the others forward writes to it, and the partitions whose writers it runs now, so
 * that a rebalance leaves them where they are (docs/scaling.md, "Placement").
 */
export interface MemberClaim {
  readonly address: string;
  readonly holds: readonly number[];
}

export const ASSIGNOR_NAME = 'CustodianWriters';
const VERSION = 1;

export function encodeClaim(topics: readonly string[], claim: MemberClaim): Buffer {
  return AssignerProtocol.MemberMetadata.encode({
    version: VERSION,
    topics: [...topics],
    userData: Buffer.from(JSON.stringify({ v: VERSION, ...claim })),
  });
}

/** A member's claim, or null for metadata that is not a Custodian instance's (or not this version's). */
export function decodeClaim(metadata: Buffer): MemberClaim | null {
  try {
    const decoded = AssignerProtocol.MemberMetadata.decode(metadata);
    if (!decoded?.userData || decoded.userData.length === 0) return null;
    const claim = JSON.parse(decoded.userData.toString('utf8')) as { v?: unknown; address?: unknown; holds?: unknown };
    if (claim.v !== VERSION || typeof claim.address !== 'string' || !Array.isArray(claim.holds)) return null;
    const holds = claim.holds.filter((p): p is number => Number.isInteger(p) && (p as number) >= 0);
    return { address: claim.address, holds };
  } catch {
    return null;
  }
}

/**
 * Places `partitions` writers on the members: each member keeps the partitions it claims, up to
 * its fair share (ceil(partitions / members)) and first come by address; the rest go, in order,
 * to the member with the fewest. Deterministic: every member that computes it gets the same.
 */
export function placeWriters(
  partitions: number,
  members: readonly { readonly memberId: string; readonly claim: MemberClaim }[],
): Map<string, number[]> {
  const sorted = [...members].sort(
    (a, b) => a.claim.address.localeCompare(b.claim.address) || a.memberId.localeCompare(b.memberId),
  );
  const placed = new Map<string, number[]>(sorted.map((member) => [member.memberId, []]));
  if (sorted.length === 0) return placed;
  const share = Math.ceil(partitions / sorted.length);
  const owner = new Map<number, string>();
  for (const member of sorted) {
    const mine = placed.get(member.memberId) as number[];
    for (const partition of [...member.claim.holds].sort((a, b) => a - b)) {
      if (!Number.isInteger(partition) || partition < 0 || partition >= partitions) continue;
      if (owner.has(partition) || mine.length >= share) continue;
      owner.set(partition, member.memberId);
      mine.push(partition);
    }
  }
  for (let partition = 0; partition < partitions; partition++) {
    if (owner.has(partition)) continue;
    let fewest = sorted[0] as (typeof sorted)[number];
    for (const member of sorted) {
      if ((placed.get(member.memberId) as number[]).length < (placed.get(fewest.memberId) as number[]).length) fewest = member;
    }
    owner.set(partition, fewest.memberId);
    (placed.get(fewest.memberId) as number[]).push(partition);
  }
  for (const list of placed.values()) list.sort((a, b) => a - b);
  return placed;
}

/**
 * The group's assignor (kafkajs PartitionAssigner): the leader places the writers of the
 * ledger's partitions by placeWriters; members that are not Custodian instances get nothing.
 */
export function writerAssignor(options: {
  readonly topic: string;
  readonly partitions: number;
  readonly claim: () => MemberClaim;
}): PartitionAssigner {
  return () => ({
    name: ASSIGNOR_NAME,
    version: VERSION,
    protocol: ({ topics }: { topics: string[] }) => ({ name: ASSIGNOR_NAME, metadata: encodeClaim(topics, options.claim()) }),
    assign: ({ members }: { members: GroupMember[]; topics: string[] }): Promise<GroupMemberAssignment[]> => {
      const claims = members.flatMap((member) => {
        const claim = decodeClaim(member.memberMetadata);
        return claim ? [{ memberId: member.memberId, claim }] : [];
      });
      const placed = placeWriters(options.partitions, claims);
      return Promise.resolve(
        members.map((member) => ({
          memberId: member.memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({
            version: VERSION,
            assignment: { [options.topic]: placed.get(member.memberId) ?? [] },
            userData: Buffer.alloc(0),
          }),
        })),
      );
    },
  });
}
