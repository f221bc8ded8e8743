/**
 * Who may import whom in src/ (CONTRIBUTING.md draws it). test/static/dependencies.test.ts runs
 * these rules in `npm test`; `npx depcruise src` prints the same verdict.
 *
 * FLOORS lists src/'s folders lowest first. A module imports only from its own folder, from a folder
 * listed before its own, or from the base utilities; so no floor imports one above it and no two
 * folders import each other (the order within a floor is the order they may lean on each other).
 */
const FLOORS = [
  { floor: 'core', folders: ['core'] },
  // the incident and source models, the ports the domain owns, the sources' CEL filters, normalize, verify/sign, the ingest use-case, admin jobs
  { floor: 'domain', folders: ['incidents', 'filters', 'sources', 'apikeys', 'audit', 'normalize', 'verify', 'ingest', 'jobs'] },
  // implement the domain's ports against the world: databases, files, the cluster, background loops, JSON
  { floor: 'adapters', folders: ['wire', 'store', 'providers', 'kubernetes', 'workers'] },
  { floor: 'entry points', folders: ['http', 'controller', 'cli'] },
];
/** Usable from any floor; they import only core/ and each other. */
const BASE = ['config', 'log', 'metrics'];
/** start.ts and main.ts: the top floor, imported by nothing in src/ but main.ts. */
const TOP = '^src/[^/]+[.]ts$';

const ORDER = FLOORS.flatMap(({ floor, folders }) => folders.map((folder) => ({ floor, folder })));
const folderPath = (folders) => `^src/(${folders.join('|')})/`;

const floorRules = ORDER.map(({ floor, folder }, rank) => ({
  name: `floor:${folder}`,
  comment: `${folder}/ (${floor}) imports only ${[...ORDER.slice(0, rank).map((entry) => entry.folder), ...BASE].join(', ') || 'nothing'} and itself`,
  severity: 'error',
  from: { path: folderPath([folder]) },
  to: { path: [folderPath(ORDER.slice(rank + 1).map((entry) => entry.folder)), TOP] },
}));

/** Each library that talks to the outside world is reached from one folder only. */
const LIBRARIES = [
  { folders: ['kubernetes'], modules: ['@kubernetes/client-node'], why: 'one Kubernetes wing, one client' },
  { folders: ['store'], modules: ['mongodb', 'better-sqlite3'], why: 'the store adapters encode; nothing else knows a database' },
  { folders: ['http'], modules: ['koa', '@koa/router', 'koa-bodyparser', 'raw-body'], why: 'HTTP is an entry point' },
  { folders: ['log'], modules: ['pino'], why: 'log/ is the logger everywhere else imports (types included)' },
  { folders: ['metrics'], modules: ['prom-client'], why: 'one metrics registry' },
  { folders: ['filters'], modules: ['@bufbuild/cel', '@bufbuild/re2'], why: 'one CEL environment, whose expressions are measured against their bounds before they are planned' },
];

const libraryRules = LIBRARIES.map(({ folders, modules, why }) => ({
  name: `library:${modules.join('+')}`,
  comment: `only ${folders.join(', ')}/ imports ${modules.join(', ')}: ${why}`,
  severity: 'error',
  from: { path: '^src/', pathNot: folderPath(folders) },
  to: { path: `^node_modules/(${modules.join('|')})/` },
}));

module.exports = {
  forbidden: [
    ...floorRules,
    {
      name: 'base',
      comment: `${BASE.join(', ')}/ are base utilities: they import core/ and each other only`,
      severity: 'error',
      from: { path: folderPath(BASE) },
      to: { path: [folderPath(ORDER.slice(1).map((entry) => entry.folder)), TOP] },
    },
    {
      name: 'domain-io',
      comment: 'core and the domain are pure: no files, sockets, processes or threads (they get what they need passed in)',
      severity: 'error',
      from: { path: folderPath(['core', ...FLOORS[1].folders]) },
      to: { dependencyTypes: ['core'], path: '^(node:)?(fs|fs/promises|http|https|http2|tls|dgram|child_process|worker_threads|cluster)$' },
    },
    ...libraryRules,
    { name: 'no-circular', comment: 'no module cycles either', severity: 'error', from: { path: '^src/' }, to: { circular: true } },
    { name: 'resolvable', comment: 'every import resolves', severity: 'error', from: {}, to: { couldNotResolve: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js'] },
  },
};
