import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

/**
 * For a consumer that is alone in its group and must read exactly one partition of a topic
 * (kafkajs has no manual assignment). The API instance's reply consumer uses it so that replies
 * reach only the instance that waits for them, and no rebalance ever moves them elsewhere.
 */
export function fixedPartitionAssigner(topic: string, partition: number): PartitionAssigner {
  return () => ({
    name: 'FixedPartitionAssigner',
    version: 1,
    async assign({ members }) {
      return members.map((member, index) => ({
        memberId: member.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: index === 0 ? { [topic]: [partition] } : {},
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return {
        name: 'FixedPartitionAssigner',
        metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
      };
    },
  });
}
