import { AssignerProtocol, type Admin, type Consumer, type Kafka } from 'kafkajs';
import type { LedgerWriter } from '../ledger/ledger-writer.js';
import { decodeClaim, writerAssignor } from './writer-assignor.js';

export interface WriterPlacementOptions {
  readonly kafka: Kafka;
  /** The ledger's topic; the group subscribes to `${topic}.writers`, an empty topic with as many partitions. */
  readonly topic: string;
  readonly ledgerId: string;
  readonly partitions: number;
  /** host:port where this instance takes forwarded writes. */
  readonly address: string;
  readonly sessionTimeoutMs: number;
  readonly writer: LedgerWriter;
  readonly log?: (level: 'log' | 'warn' | 'error', message: string) => void;
}

/** Who writes each partition, as the group's coordinator describes it now. */
export interface Directory {
  /** host:port of the instance whose writer holds the partition, or undefined while none does. */
  addressOf(partition: number): string | undefined;
}

/**
 * Places each ledger partition's writer in one live instance, by Kafka's group membership (no
 * consensus of our own): every instance joins the group `custodian-writers-<ledger>`, subscribed
 * to the empty topic `<ledger topic>.writers` whose partitions stand for the ledger's. The
 * leader's assignor (writer-assignor.ts) keeps each writer where it runs and gives a dead or
 * departed instance's partitions to the others; each instance starts the writers it is given
 * (from their snapshots) and stops those it lost. Kafka's transactional fencing keeps a writer
 * that has not heard yet from appending: one chain per partition whatever the timing.
 * The others find a partition's writer by describing the group: each member's metadata names
 * its forwarding address, each member's assignment its partitions.
 */
export class WriterPlacement {
  private consumer: Consumer | null = null;
  private admin: Admin | null = null;
  private joined = false;
  private stopping = false;
  /** This instance's member id in the group at its last join: a new one means it was out of the group meanwhile. */
  private memberId: string | null = null;
  private assigned = new Set<number>();
  /** Assignments applied one after another, in the order the group gave them. */
  private applying: Promise<void> = Promise.resolve();
  private directory: { at: number; owners: Map<number, string> } | null = null;
  private refreshing: Promise<Map<number, string>> | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  /** Since when each writer here has been fenced. */
  private readonly fencedSince = new Map<number, number>();

  constructor(private readonly options: WriterPlacementOptions) {}

  get groupId(): string {
    return `custodian-writers-${this.options.ledgerId}`;
  }

  get placementTopic(): string {
    return `${this.options.topic}.writers`;
  }

  /** Whether this instance is in the group with an assignment (false again while it rejoins after a failure). */
  get ready(): boolean {
    return this.joined;
  }

  /** The partitions the group gave this instance. */
  partitionsHere(): number[] {
    return [...this.assigned].sort((a, b) => a - b);
  }

  /** Joins the group; resolves once the writers of the first assignment have started. */
  async start(): Promise<void> {
    this.stopping = false;
    this.admin = this.options.kafka.admin();
    await this.admin.connect();
    await this.ensurePlacementTopic(this.admin);
    await this.join();
    await this.applying;
    // A writer fenced while the group still places its partition here is started again (after a
    // heartbeat or two, so that a rebalance that moved it is heard of first).
    const every = Math.max(500, Math.floor(this.options.sessionTimeoutMs / 2));
    this.watchdog = setInterval(() => {
      void this.restartFenced(every);
    }, every);
    this.watchdog.unref();
  }

  /** Stops the writers here (their batches end, waiting appends are refused unsent), then leaves the group so that the others take over at once. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.apply(new Set());
    await this.applying;
    await this.consumer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    this.consumer = null;
    this.admin = null;
    this.joined = false;
  }

  private join(): Promise<void> {
    const { kafka, sessionTimeoutMs } = this.options;
    const consumer = kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: sessionTimeoutMs,
      rebalanceTimeout: Math.max(sessionTimeoutMs * 2, 5000),
      heartbeatInterval: Math.max(100, Math.floor(sessionTimeoutMs / 6)),
      // The topic stays empty: a fetch returns after this, and the heartbeat goes with it.
      maxWaitTimeInMs: Math.max(100, Math.floor(sessionTimeoutMs / 6)),
      allowAutoTopicCreation: false,
      partitionAssigners: [
        writerAssignor({
          topic: this.placementTopic,
          partitions: this.options.partitions,
          claim: () => ({ address: this.options.address, holds: this.claimable() }),
        }),
      ],
    });
    this.consumer = consumer;
    return new Promise<void>((resolve, reject) => {
      let first = true;
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        if (this.stopping || this.consumer !== consumer) return;
        const { memberId, memberAssignment } = event.payload;
        // Out of the group meanwhile (a pause past the session timeout): another instance may
        // have written these partitions since; their writers start again from the chain.
        const rejoined = this.memberId !== null && this.memberId !== memberId;
        this.memberId = memberId;
        this.joined = true;
        this.directory = null;
        this.apply(new Set(memberAssignment[this.placementTopic] ?? []), rejoined);
        if (first) resolve();
        first = false;
      });
      consumer.on(consumer.events.CRASH, (event) => {
        const { error, restart } = event.payload;
        if (this.stopping || this.consumer !== consumer) return;
        this.options.log?.('warn', `the writers' group membership failed: ${error.message}${restart ? '; joining again' : ''}`);
        if (!first) {
          // Out of the group (kafkajs left it before saying so): the others may take these
          // partitions now, so nothing is written here until the group places writers here again.
          this.joined = false;
          this.apply(new Set());
        }
        if (restart) return;
        if (first) {
          first = false;
          reject(
            new Error(
              `could not join the writers' group ${this.groupId}: ${error.message} (CLUSTER_SESSION_TIMEOUT_MS must lie within the broker's group.min.session.timeout.ms and group.max.session.timeout.ms)`,
            ),
          );
          return;
        }
        // kafkajs gave up: this instance joins again by itself.
        void this.rejoinLater(consumer);
      });
      consumer
        .connect()
        .then(() => consumer.subscribe({ topics: [this.placementTopic], fromBeginning: false }))
        .then(() => consumer.run({ eachMessage: () => Promise.resolve() }))
        .catch((error: unknown) => {
          if (first) {
            first = false;
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        });
    });
  }

  /** Read through a method: stop() may set it while an await is pending. */
  private isStopping(): boolean {
    return this.stopping;
  }

  private async rejoinLater(failed: Consumer): Promise<void> {
    await failed.disconnect().catch(() => undefined);
    for (let attempt = 0; !this.isStopping(); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 500 * 2 ** attempt)));
      if (this.isStopping()) return;
      try {
        await this.join();
        return;
      } catch (error) {
        this.options.log?.('warn', `joining the writers' group again failed: ${(error as Error).message}`);
      }
    }
  }

  /** The partitions this instance claims at a rebalance: those whose writers run here (open, starting, or waiting for Kafka). */
  private claimable(): number[] {
    const states = this.options.writer.describe();
    return this.options.writer.held().filter((partition) => {
      const state = states[partition]?.state;
      return state === 'open' || state === 'new' || state === 'unavailable';
    });
  }

  /**
   * A writer fenced here for a whole interval, whose partition the group (asked again, stable)
   * still places with this instance, is started anew; one fenced by a rightful owner is left for
   * the rebalance that moves it to be heard of.
   */
  private async restartFenced(interval: number): Promise<void> {
    const fenced = new Set(this.fencedHere());
    for (const partition of this.fencedSince.keys()) if (!fenced.has(partition)) this.fencedSince.delete(partition);
    if (!this.joined || this.stopping || fenced.size === 0) return;
    const now = Date.now();
    for (const partition of fenced) if (!this.fencedSince.has(partition)) this.fencedSince.set(partition, now);
    const due = [...fenced].filter((partition) => now - (this.fencedSince.get(partition) ?? now) >= interval);
    if (due.length === 0) return;
    try {
      const owners = await this.owners(true);
      if (due.some((partition) => owners.addressOf(partition) === this.options.address && this.assigned.has(partition))) {
        for (const partition of due) this.fencedSince.delete(partition);
        this.apply(new Set(this.assigned));
      }
    } catch {
      // The coordinator did not answer: asked again at the next tick.
    }
  }

  private fencedHere(): number[] {
    const states = this.options.writer.describe();
    return this.options.writer.held().filter((partition) => {
      const state = states[partition]?.state;
      return state === 'fenced' || state === 'closed';
    });
  }

  /**
   * Starts the writers of the partitions given to this instance and stops the others; a writer
   * found fenced on a partition given to it (another instance had it meanwhile), or every writer
   * after a rejoin (`restart`), is started anew: it fences the other and reads the chain again.
   */
  private apply(assignment: Set<number>, restart = false): void {
    this.assigned = assignment;
    this.applying = this.applying
      .then(async () => {
        const leaving = this.stopping;
        const { writer } = this.options;
        const wanted = this.assigned;
        const states = writer.describe();
        await Promise.all(
          writer.held().map((partition) => {
            const state = states[partition]?.state;
            const stale = restart || state === 'fenced' || state === 'closed';
            if (wanted.has(partition) && !stale) return Promise.resolve();
            // Leaving the group, the others take over only after this: a last snapshot shortens their start. A writer
            // that moves to a live instance leaves none: the new one may have loaded the last one already.
            return writer.release(partition, { snapshot: leaving && !stale });
          }),
        );
        if (this.stopping && wanted.size > 0) return;
        await Promise.all([...wanted].map((partition) => this.takeWhileAssigned(partition, wanted)));
      })
      .catch((error: unknown) => {
        this.options.log?.('error', `the writers placed here could not all be started or stopped: ${(error as Error).message}`);
      });
  }

  /**
   * Starts the partition's writer here, again after a failure (Kafka or PostgreSQL did not
   * answer, the writer that had it was still finishing), for as long as the partition is ours.
   */
  private async takeWhileAssigned(partition: number, wanted: Set<number>): Promise<void> {
    for (let attempt = 0; this.assigned === wanted && !this.stopping; attempt++) {
      try {
        if (this.options.writer.held().includes(partition)) return;
        const head = await this.options.writer.take(partition);
        this.options.log?.(
          'log',
          `partition ${partition}: this instance writes it (Kafka group ${this.groupId})${head ? `, head at sequence ${head.nextSequence - 1}` : ''}`,
        );
        return;
      } catch (error) {
        this.options.log?.(
          'warn',
          `partition ${partition}: its writer did not start here (${(error as Error).message}); trying again`,
        );
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 250 * 2 ** attempt)));
      }
    }
  }

  /** Who writes each partition, as the coordinator describes the group (cached until `refresh`). */
  async owners(refresh = false): Promise<Directory> {
    if (!refresh && this.directory && Date.now() - this.directory.at < 5000) {
      const owners = this.directory.owners;
      return { addressOf: (partition) => owners.get(partition) };
    }
    this.refreshing ??= this.describe().finally(() => {
      this.refreshing = null;
    });
    const owners = await this.refreshing;
    return { addressOf: (partition) => owners.get(partition) };
  }

  private async describe(): Promise<Map<number, string>> {
    const admin = this.admin;
    const owners = new Map<number, string>();
    if (!admin) return owners;
    const { groups } = await admin.describeGroups([this.groupId]);
    const group = groups[0];
    if (group?.state === 'Stable') {
      for (const member of group.members) {
        const claim = decodeClaim(member.memberMetadata);
        if (!claim) continue;
        const assignment = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
        for (const partition of assignment?.assignment[this.placementTopic] ?? []) owners.set(partition, claim.address);
      }
    }
    this.directory = { at: Date.now(), owners };
    return owners;
  }

  /** Creates `<topic>.writers` with the ledger's partition count (it holds no records), or checks the one there. */
  private async ensurePlacementTopic(admin: Admin): Promise<void> {
    const topic = this.placementTopic;
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) {
      await admin
        .createTopics({
          waitForLeaders: true,
          topics: [
            {
              topic,
              numPartitions: this.options.partitions,
              configEntries: [
                { name: 'cleanup.policy', value: 'delete' },
                { name: 'retention.ms', value: '60000' },
              ],
            },
          ],
        })
        .catch((error: unknown) => {
          // Another instance created it meanwhile: checked below.
          if ((error as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw error;
        });
    }
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    const count = metadata.topics[0]?.partitions.length ?? 0;
    if (count !== this.options.partitions) {
      throw new Error(
        `${topic} has ${count} partition(s) but the ledger has ${this.options.partitions}: delete it, it holds no records`,
      );
    }
  }
}
