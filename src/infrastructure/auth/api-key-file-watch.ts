import type { LoggerService } from '@nestjs/common';
import { type FSWatcher, watch } from 'node:fs';
import { dirname } from 'node:path';
import { ApiKeyRing, readApiKeyFile } from './api-keys.js';

/** How long the directory must be quiet after a change before the file is read (one save is often several writes). */
const SETTLE_MS = 100;

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * The API key file, kept loaded: a changed file is picked up without a restart, when the
 * process gets SIGHUP and when the file changes. The watch is on the file's directory, not on
 * the file, so that a file replaced by a rename is seen too (npm run api-key writes it so, and
 * so do editors and Kubernetes secret volumes); a change of anything else in the directory only
 * costs a read of the file. A file that does not load keeps the keys in force, and says why.
 */
export class ApiKeyFileWatch {
  readonly ring = new ApiKeyRing([]);
  private loadedText: string | null = null;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> = Promise.resolve();
  private readonly onHangup = () => void this.reload('SIGHUP');

  constructor(
    readonly file: string,
    private readonly logger: LoggerService,
  ) {}

  /** The first load, at start: a file that does not load stops the start. */
  async load(): Promise<void> {
    const { text, entries } = await readApiKeyFile(this.file);
    this.ring.replace(entries);
    this.loadedText = text;
    if (entries.length === 0) {
      this.logger.warn(`no API keys in ${this.file}: create one with "npm run api-key -- --help"`);
    } else {
      this.logger.log(`${entries.length} API keys from ${this.file}`);
    }
  }

  start(): void {
    process.on('SIGHUP', this.onHangup);
    const directory = dirname(this.file);
    try {
      this.watcher = watch(directory, { persistent: false }, () => {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => void this.reload('the file changed'), SETTLE_MS);
      });
      this.watcher.on('error', (error) => {
        this.logger.warn(`stopped watching ${directory} (${error.message}); SIGHUP still reloads the API keys`);
        this.watcher?.close();
      });
    } catch (error) {
      this.logger.warn(`cannot watch ${directory} (${messageOf(error)}); send SIGHUP to reload the API keys`);
    }
  }

  stop(): void {
    process.off('SIGHUP', this.onHangup);
    clearTimeout(this.timer);
    this.watcher?.close();
  }

  /** Reads the file again and takes its keys if they changed (always on SIGHUP); one read at a time. */
  reload(reason: string): Promise<void> {
    this.reading = this.reading.then(async () => {
      let read;
      try {
        read = await readApiKeyFile(this.file);
      } catch (error) {
        this.logger.error(
          `${this.file} did not load (${reason}): ${messageOf(error)}; the ${this.ring.size} API keys in force stay`,
        );
        return;
      }
      if (read.text === this.loadedText && reason !== 'SIGHUP') return;
      this.ring.replace(read.entries);
      this.loadedText = read.text;
      this.logger.log(`${read.entries.length} API keys from ${this.file} (reloaded: ${reason})`);
    });
    return this.reading;
  }
}
