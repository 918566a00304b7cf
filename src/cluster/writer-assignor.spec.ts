import { describe, expect, it } from '@jest/globals';
import { AssignerProtocol } from 'kafkajs';
import { decodeClaim, encodeClaim, type MemberClaim, placeWriters, writerAssignor } from './writer-assignor.js';

const member = (memberId: string, address: string, holds: number[] = []) => ({ memberId, claim: { address, holds } });
const asObject = (placed: Map<string, number[]>) => Object.fromEntries(placed);

describe('placeWriters', () => {
  it('spreads the partitions over the members by address when nobody holds any', () => {
    const placed = placeWriters(5, [member('m-c', 'h:3'), member('m-a', 'h:1'), member('m-b', 'h:2')]);
    expect(asObject(placed)).toEqual({ 'm-a': [0, 3], 'm-b': [1, 4], 'm-c': [2] });
  });

  it('leaves each writer where it runs, and gives only the departed member’s partitions to the others', () => {
    // Three instances held 0-5 two each; the one holding 2 and 5 died.
    const placed = placeWriters(6, [member('m-a', 'h:1', [0, 3]), member('m-b', 'h:2', [1, 4])]);
    expect(asObject(placed)).toEqual({ 'm-a': [0, 2, 3], 'm-b': [1, 4, 5] });
  });

  it('gives one partition to one member only, the first claimant by address, up to its fair share', () => {
    // A member that was cut off and a member that took over both claim partition 0.
    expect(asObject(placeWriters(1, [member('m-b', 'h:2', [0]), member('m-a', 'h:1', [0])]))).toEqual({ 'm-a': [0], 'm-b': [] });
    // A member claiming every partition keeps only its share when another joins.
    expect(asObject(placeWriters(4, [member('m-a', 'h:1', [0, 1, 2, 3]), member('m-b', 'h:2')]))).toEqual({
      'm-a': [0, 1],
      'm-b': [2, 3],
    });
  });

  it('ignores claims of partitions the ledger does not have, and places every partition once', () => {
    const placed = placeWriters(3, [member('m-a', 'h:1', [7, 1]), member('m-b', 'h:2', [-1])]);
    expect([...placed.values()].flat().sort()).toEqual([0, 1, 2]);
    expect(placed.get('m-a')).toContain(1);
  });

  it('places nothing without members', () => {
    expect(placeWriters(3, []).size).toBe(0);
  });
});

describe('the claim in the group protocol', () => {
  it('round-trips through the member metadata, and metadata that is not a Custodian claim is none', () => {
    const claim: MemberClaim = { address: '10.0.0.7:4000', holds: [2, 0] };
    expect(decodeClaim(encodeClaim(['custodian.ledger.writers'], claim))).toEqual(claim);
    const foreign = AssignerProtocol.MemberMetadata.encode({ version: 0, topics: ['t'], userData: Buffer.alloc(0) });
    expect(decodeClaim(foreign)).toBeNull();
    const otherVersion = AssignerProtocol.MemberMetadata.encode({
      version: 0,
      topics: ['t'],
      userData: Buffer.from(JSON.stringify({ v: 9, address: 'h:1', holds: [] })),
    });
    expect(decodeClaim(otherVersion)).toBeNull();
    expect(decodeClaim(Buffer.from('garbage'))).toBeNull();
  });

  it('is what the leader’s assignor reads: each member is given its partitions of the placement topic', async () => {
    const topic = 'ledger.writers';
    const assignor = writerAssignor({ topic, partitions: 3, claim: () => ({ address: 'h:1', holds: [] }) })({} as never);
    expect(decodeClaim(assignor.protocol({ topics: [topic] }).metadata)).toEqual({ address: 'h:1', holds: [] });
    const assignments = await assignor.assign({
      topics: [topic],
      members: [
        { memberId: 'm-a', memberMetadata: encodeClaim([topic], { address: 'h:1', holds: [2] }) },
        { memberId: 'm-b', memberMetadata: encodeClaim([topic], { address: 'h:2', holds: [] }) },
        {
          memberId: 'stranger',
          memberMetadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics: [topic], userData: Buffer.alloc(0) }),
        },
      ],
    });
    const given = Object.fromEntries(
      assignments.map((a) => [a.memberId, AssignerProtocol.MemberAssignment.decode(a.memberAssignment)?.assignment[topic]]),
    );
    // m-a keeps 2; the free ones go to whoever has fewest (m-b, then m-a first by address).
    expect(given).toEqual({ 'm-a': [1, 2], 'm-b': [0], stranger: [] });
  });
});
