/**
 * The one place the test servers' versions are pinned. Each Go tools module under test/infra/go/<tool>
 * requires exactly this version (build.ts refuses to build when they disagree), and the cache folder
 * name carries it, so bumping a version here and in go.mod (`go get <module>@<version> && go mod tidy`)
 * rebuilds on the next run.
 */
export const versions = {
  /** A current minor; etcd below is the one its hack/lib/etcd.sh recommends. */
  kubernetes: 'v1.36.3',
  etcd: 'v3.6.8',
  /** The last line that runs on plain PostgreSQL (2.x needs the DocumentDB extension); Debian's postgresql serves it. */
  ferretdb: 'v1.24.2',
  helm: 'v3.22.0',
  /** Only its CustomResourceDefinitions (ServiceMonitor, PrometheusRule) are used: the chart is dry-run against them. */
  prometheusOperator: 'v0.85.0',
} as const;
