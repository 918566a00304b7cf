/** The key that seals forwarded writes (forwarding.ts, forwardingKey): a Buffer. */
export const FORWARDING_KEY = Symbol('FORWARDING_KEY');

/** The application's mapping of domain errors to problem details (src/problems.ts), for answers that cross to another instance. */
export const DOMAIN_PROBLEMS = Symbol('DOMAIN_PROBLEMS');
