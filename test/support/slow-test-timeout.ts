import { jest } from '@jest/globals';

// Integration and e2e tests start consumers, brokers and processes: allow them a minute.
jest.setTimeout(60_000);
