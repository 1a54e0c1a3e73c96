export { RequestProcessor, type RequestProcessorDeps } from './request-processor.js';
export { ProcessorMetrics } from './processor-metrics.js';
export { decodeRequest, type DecodedRequest } from './decode-request.js';
export { toXml, fromXml } from './xml-output.js';
export { renderTemplate, templateParameters } from './prompt-template.js';
export { decodePipelineRequest, type PipelineRequest, type ReplyTopic } from './pipeline-request.js';
export { redactPii, type Redaction } from './pii.js';
