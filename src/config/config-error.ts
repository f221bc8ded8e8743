/** A setting or config file the service cannot run with. Start-up reports its message and exits. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
