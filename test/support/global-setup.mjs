import { startTestStack } from './test-stack.mjs';

export default async function globalSetup() {
  await startTestStack();
}
