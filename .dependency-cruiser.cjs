/**
 * The architecture, as rules (`npm run lint` runs them). The layers, from the edge down:
 *
 *   edge          src/main.ts, src/application.ts, src/app.module.ts, src/problems.ts, src/tools/
 *                 — start-up and CLIs: build the parts and wire them; may import anything.
 *   capabilities  src/custody/, src/projection/, src/provenance/, src/verification/, src/ledger-module/,
 *                 src/epcis/, src/consumer/, src/cluster/ (several instances: writer placement, forwarding)
 *                 — each a folder with its Nest module; data flows one way between them:
 *                   custody → (ledger) → projection → provenance, verification → consumer (the page).
 *   shared        src/infrastructure/ (config, auth, database, kafka, health, http, logging)
 *                 — mechanisms every capability uses; knows no capability.
 *   core          src/ledger/ (records, hashing, Merkle tree, checkpoints, verifier, writer;
 *                 adapters/ for Kafka, PostgreSQL and the key file) and src/gs1/
 *                 — plain TypeScript, no framework, nothing from outside its own folder.
 */
const CAPABILITIES = '^src/(custody|projection|provenance|verification|ledger-module|epcis|consumer|cluster)/';
/**
 * What a capability offers the others; everything else in its folder is its own. (The edge may
 * import anything: it builds and wires the parts.)
 */
const PUBLIC_APIS = [
  '^src/custody/events/index\\.ts$', // what each custody event type means: state and read-model rows
  '^src/custody/custody-state\\.ts$', // the writer's fold of custody state
  '^src/custody/custody-api\\.ts$', // commands, rules and the recording of steps, for EPCIS capture
  '^src/projection/index\\.ts$', // the projector's fold and row writes, the read-model schema
  '^src/ledger-module/ledger-parts\\.ts$', // the ledger's parts built from the configuration
  '^src/epcis/epcis-event-rows\\.ts$', // every step as the EPCIS event it is, and its query rows, for the projector
  '^src/provenance/provenance-queries\\.ts$', // the provenance questions, which the consumer page asks too
  '^src/provenance/provenance\\.module\\.ts$', // the Nest module that provides them
  '^src/verification/product-evidence\\.ts$', // a product's evidence bundle and its keys, for the consumer page
  '^src/verification/verification\\.module\\.ts$', // the Nest module that provides them
  '^src/cluster/cluster\\.(module|tokens)\\.ts$', // the placement and forwarding parts, their tokens
  '^src/cluster/(forwarding|writer-placement)\\.ts$', // forwarded writes: the transport, where a partition's writer runs
];
/**
 * The consumer page's browser script (src/consumer/browser/) is a build input of
 * scripts/build-browser.mjs, not server code: it may import only what runs in a browser, the
 * offline checker of evidence bundles and the ledger core under it.
 */
const BROWSER_SCRIPT = '^src/consumer/browser/';
/** Specs test a part from outside (with test/support): the layers are about the shipped code. */
const SPECS = '\\.spec\\.ts$';

module.exports = {
  forbidden: [
    {
      name: 'ledger-core-is-self-contained',
      comment: 'The ledger core imports nothing outside src/ledger/ but Node built-ins and @noble: it is a library.',
      severity: 'error',
      from: { path: '^src/ledger/', pathNot: ['^src/ledger/adapters/', SPECS] },
      to: { pathNot: ['^src/ledger/', '^node_modules/@noble/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'ledger-adapters-stay-in-the-ledger',
      comment: "The ledger's adapters (Kafka, PostgreSQL, key file) import the core and their client libraries, no framework.",
      severity: 'error',
      from: { path: '^src/ledger/adapters/', pathNot: SPECS },
      to: { path: ['^src/(?!ledger/)', '^node_modules/@nestjs/'] },
    },
    {
      name: 'gs1-is-self-contained',
      comment: 'GS1 keys and paths are plain functions.',
      severity: 'error',
      from: { path: '^src/gs1/', pathNot: SPECS },
      to: { pathNot: ['^src/gs1/', '^node_modules/@noble/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'infrastructure-knows-no-capability',
      comment:
        'Shared mechanisms (config, auth, database, kafka, health, http, logging) are used by the capabilities, never the other way.',
      severity: 'error',
      from: { path: '^src/infrastructure/', pathNot: SPECS },
      to: { path: [CAPABILITIES, '^src/(ledger|tools)/', '^src/(main|application|app\\.module|problems)\\.ts$'] },
    },
    {
      name: 'capabilities-do-not-reach-the-edge',
      comment: 'Capabilities are wired by the edge (app module, main, CLIs), never import it.',
      severity: 'error',
      from: {
        path: [
          '^src/(custody|projection|provenance|verification|ledger-module|epcis|consumer|cluster|infrastructure|ledger|gs1)/',
        ],
        pathNot: SPECS,
      },
      to: { path: ['^src/tools/', '^src/(main|application|app\\.module|problems)\\.ts$'] },
    },
    {
      name: 'data-flows-one-way',
      comment:
        'Steps are recorded (custody), appended (ledger), projected (projection), then read (provenance) and verified (verification): no capability imports one downstream of it.',
      severity: 'error',
      from: { path: '^src/(custody|ledger-module|cluster)/', pathNot: SPECS },
      to: { path: '^src/(projection|provenance|verification|consumer)/' },
    },
    {
      name: 'readers-do-not-reach-each-other',
      comment: 'Provenance and verification both read what the projection made; neither depends on the other.',
      severity: 'error',
      from: { path: '^src/(provenance|verification)/', pathNot: SPECS },
      to: { path: '^src/(provenance|verification)/', pathNot: '^src/$1/' },
    },
    {
      name: 'projection-does-not-reach-its-readers',
      severity: 'error',
      from: { path: '^src/projection/', pathNot: SPECS },
      to: { path: '^src/(provenance|verification|consumer)/' },
    },
    {
      name: 'nothing-depends-on-the-consumer-page',
      comment: 'The consumer page reads what the other capabilities make; none of them, nor the shared code, imports it.',
      severity: 'error',
      from: {
        path: '^src/(custody|projection|provenance|verification|ledger-module|epcis|infrastructure|ledger|gs1)/',
        pathNot: SPECS,
      },
      to: { path: '^src/consumer/' },
    },
    {
      name: 'the-browser-script-runs-in-a-browser',
      comment:
        "The page's script imports the offline bundle checker, the ledger core (not its adapters), GS1 paths, the page's own shared view code and @noble: nothing of the server.",
      severity: 'error',
      from: { path: BROWSER_SCRIPT },
      to: {
        pathNot: [
          BROWSER_SCRIPT,
          '^src/consumer/(step-view|product-page|key-fingerprint)\\.ts$',
          '^src/verification/(evidence-bundle|attestation)\\.ts$',
          '^src/ledger/(?!adapters/)',
          '^src/gs1/',
          '^node_modules/@noble/',
        ],
      },
    },
    {
      name: 'the-browser-script-is-a-build-input',
      comment: 'No server module imports the browser script: scripts/build-browser.mjs bundles it.',
      severity: 'error',
      from: { path: '^src/', pathNot: [BROWSER_SCRIPT, SPECS] },
      to: { path: BROWSER_SCRIPT },
    },
    {
      name: 'capabilities-use-each-others-public-api',
      comment: "A capability imports another's public API (PUBLIC_APIS), never its internals.",
      severity: 'error',
      from: {
        path: '^src/(custody|projection|provenance|verification|ledger-module|epcis|consumer|cluster)/',
        pathNot: [SPECS, BROWSER_SCRIPT],
      },
      to: { path: CAPABILITIES, pathNot: ['^src/$1/', ...PUBLIC_APIS] },
    },
    {
      name: 'no-folder-cycles',
      comment: 'No two folders depend on each other, directly or through others.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/', pathNot: SPECS },
      to: { circular: true },
    },
    {
      name: 'no-module-cycles',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-test-code-in-src',
      severity: 'error',
      from: { path: '^src/', pathNot: SPECS },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Specs and test support test the parts from outside; the layers are about the shipped code.
    exclude: { path: ['^dist/', '^node_modules/', SPECS] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js', '.mjs', '.json'],
    },
  },
};
