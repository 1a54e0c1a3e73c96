import { ServiceError } from '@sps/contracts';

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** The parameter names a template uses, in order of first appearance. */
export function templateParameters(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((match) => match[1]!))];
}

/**
 * Fills `{{name}}` placeholders. A missing or an unknown parameter is an INVALID_REQUEST that
 * names each of them, so the caller can fix every problem at once.
 */
export function renderTemplate(
  template: string,
  parameters: Record<string, string | number | boolean>,
): string {
  const expected = templateParameters(template);
  const missing = expected.filter((name) => !(name in parameters));
  const unknown = Object.keys(parameters).filter((name) => !expected.includes(name));
  if (missing.length > 0 || unknown.length > 0) {
    const fields = [
      ...missing.map((name) => ({
        field: `template.parameters.${name}`,
        reason: 'is required by the template',
      })),
      ...unknown.map((name) => ({
        field: `template.parameters.${name}`,
        reason: 'is not a parameter of the template',
      })),
    ];
    throw new ServiceError('INVALID_REQUEST', fields.map((f) => `${f.field}: ${f.reason}`).join('; '), {
      fields,
    });
  }
  return template.replace(PLACEHOLDER, (_match, name: string) => String(parameters[name]));
}
