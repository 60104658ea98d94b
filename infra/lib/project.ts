/**
 * The project as configured: gitops.config.json, read and validated once at import. Importing this
 * module fails with the file's problems, each naming its field, when the file is invalid.
 */
import {
  environmentNamed,
  parseProjectFile,
  readProjectFile,
  type EnvironmentConfig,
  type ProjectConfig,
} from './config.js';

/** The project as configured in gitops.config.json. */
export const PROJECT: ProjectConfig = parseProjectFile(readProjectFile());

/** The environments, in promotion order (the first one is deployed first). */
export const ENVIRONMENTS: readonly EnvironmentConfig[] = PROJECT.environments;

/** The configured environment with this name, or a ConfigError listing the known ones. */
export function configuredEnvironment(name: string): EnvironmentConfig {
  return environmentNamed(name, ENVIRONMENTS);
}
