import { stopTestStack } from './test-stack.mjs';

export default async function globalTeardown() {
  await stopTestStack();
}
