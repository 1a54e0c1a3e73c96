export { loadConfig, ConfigError } from './load-config.js';
export {
  KafkaConfig,
  DatabaseConfig,
  RedisConfig,
  LogConfig,
  CommonConfig,
  StringEnum,
} from './shared-schemas.js';
