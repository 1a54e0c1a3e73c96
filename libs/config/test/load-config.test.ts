import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { ConfigError, StringEnum, loadConfig } from '../src/index.js';

const schema = Type.Object({
  PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 8080 }),
  MODE: StringEnum(['dev', 'prod'] as const, { default: 'dev' }),
  SECRET: Type.String({ minLength: 8 }),
});

describe('loadConfig', () => {
  it('applies defaults and coerces numbers', () => {
    expect(loadConfig(schema, { SECRET: 'abcdefgh', PORT: '9000' })).toEqual({
      PORT: 9000,
      MODE: 'dev',
      SECRET: 'abcdefgh',
    });
  });

  it('reports every bad or missing variable, one line each', () => {
    try {
      loadConfig(schema, { PORT: 'not-a-port' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems;
      expect(problems).toContain('SECRET: is required but not set');
      expect(problems.some((p) => p.startsWith('PORT: must be integer'))).toBe(true);
    }
  });

  it('names the allowed values of an enumeration', () => {
    expect(() => loadConfig(schema, { SECRET: 'abcdefgh', MODE: 'staging' })).toThrow(
      'MODE: must be equal to one of the allowed values (one of: dev, prod)',
    );
  });
});
