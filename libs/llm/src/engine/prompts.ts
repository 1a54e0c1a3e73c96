/** The system instruction sent with every request; the schema itself travels natively. */
export function systemPrompt(schema: Record<string, unknown>, isDefaultAnalysis: boolean): string {
  const task = isDefaultAnalysis
    ? 'Analyse the user prompt: its intent (the primary action), its subject, the key details it contains, ' +
      'the ISO 639-1 code of its language and your confidence between 0 and 1.'
    : 'Extract from the user prompt the data described by the JSON Schema below.';
  return [
    'You turn natural-language prompts into structured data.',
    task,
    'Answer with one JSON value that satisfies this JSON Schema, and nothing else:',
    JSON.stringify(schema),
  ].join('\n');
}

export function feedbackPrompt(errors: { path: string; message: string }[]): string {
  const lines = errors.slice(0, 20).map((e) => `- ${e.path}: ${e.message}`);
  return `Your answer does not satisfy the schema:\n${lines.join('\n')}\nAnswer again with corrected JSON only.`;
}
