import { cachedBinary } from './build.js';
import { versions } from './versions.js';

/** HELM_BIN when the user has a helm, else helm v3 built once into the cache. */
export async function helmBinary(): Promise<string> {
  return (
    process.env.HELM_BIN ||
    cachedBinary({
      binary: 'helm',
      moduleDir: 'helm',
      pinned: { module: 'helm.sh/helm/v3', version: versions.helm },
      goPackage: 'helm.sh/helm/v3/cmd/helm',
      // Without this helm reports the source's default ("v3.22") instead of the release it was built from.
      ldflags: [`-X helm.sh/helm/v3/internal/version.version=${versions.helm}`],
    })
  );
}
