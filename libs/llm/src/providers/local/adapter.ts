import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, resolve } from 'node:path';
import type * as NodeLlamaCpp from 'node-llama-cpp';
import type { ChatHistoryItem, Llama, LlamaContext, LlamaContextSequence, LlamaModel } from 'node-llama-cpp';
import type { GenerateRequest, GenerateResult, LanguageModel } from '../../language-model.js';
import { ProviderError } from '../../provider-error.js';
import { missingModelError, promptTooLongError, toProviderError } from './errors.js';
import { createResponseFormat, type ResponseFormat } from './response-format.js';
import { transformSchema } from './schema-transform.js';

export interface LocalModelOptions {
  /** Name this provider is configured under. Defaults to `local`. */
  provider?: string;
  /** Path of a GGUF file, e.g. the one `bash deploy/local/model.sh` prints. */
  modelPath: string;
  /** Tokens per sequence (prompt + answer). Defaults to 4096. */
  contextSize?: number;
  /**
   * CPU threads for evaluation. Defaults to half the available cores (at least 1): llama.cpp's
   * threads wait on each other at every step, so on cores shared with the rest of the service a
   * thread per core is slower, not faster (measured on 2 busy cores: 1 thread 2-5x faster than 2).
   */
  threads?: number;
  /** Generations run at once (sequences of the one context); further calls queue. Defaults to 1. */
  concurrency?: number;
  /** Deadline of one call, queueing and first-call model loading included. Defaults to 60 s. */
  timeoutMs?: number;
  /**
   * Penalty on tokens repeated within the last 64 (1 disables). Defaults to 1.2: small models
   * otherwise loop inside a JSON array or string until maxTokens (measured with SmolLM2-135M at
   * temperature 0 on 20 prompts: 13/20 answers complete at node-llama-cpp's default 1.1, 20/20 at 1.2).
   */
  repeatPenalty?: number;
}

export interface LocalLanguageModel extends LanguageModel {
  /** Frees the context and the model (a later call loads them again). */
  dispose(): Promise<void>;
}

interface Runtime {
  lib: typeof NodeLlamaCpp;
  model: LlamaModel;
  context: LlamaContext;
  pool: SequencePool;
  format: ResponseFormat;
}

/**
 * A local LLM on CPU through node-llama-cpp: nothing leaves the machine, no key, no network. The
 * model loads lazily on the first call and once (a failed load is retried by the next call); the
 * answer is constrained by a grammar built from the transformed schema (see response-format.ts).
 */
export function createLocalModel(options: LocalModelOptions): LocalLanguageModel {
  const provider = options.provider ?? 'local';
  const modelPath = resolve(options.modelPath);
  const contextSize = options.contextSize ?? 4096;
  const threads = Math.max(1, options.threads ?? Math.floor(availableParallelism() / 2));
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const repeatPenalty = options.repeatPenalty ?? 1.2;
  const modelName = basename(modelPath).replace(/\.gguf$/i, '');
  let runtime: Promise<Runtime> | undefined;

  async function load(): Promise<Runtime> {
    try {
      if (!(await stat(modelPath)).isFile()) throw missingModelError(modelPath, provider);
    } catch (error) {
      throw error instanceof ProviderError ? error : missingModelError(modelPath, provider, error);
    }
    const { lib, llama } = await loadLlama(provider);
    try {
      const model = await llama.loadModel({ modelPath });
      try {
        const context = await model.createContext({ contextSize, sequences: concurrency, threads });
        const sequences = Array.from({ length: concurrency }, () => context.getSequence());
        return {
          lib,
          model,
          context,
          pool: new SequencePool(sequences),
          format: createResponseFormat(llama),
        };
      } catch (error) {
        await model.dispose();
        throw error;
      }
    } catch (error) {
      throw toProviderError(error, provider, { lib });
    }
  }

  function getRuntime(): Promise<Runtime> {
    runtime ??= load().catch((error: unknown) => {
      runtime = undefined;
      throw error;
    });
    return runtime;
  }

  return {
    provider,
    model: modelName,
    transformSchema,
    async generate(request: GenerateRequest): Promise<GenerateResult> {
      const signal = AbortSignal.any([request.signal, AbortSignal.timeout(timeoutMs)]);
      let lib: typeof NodeLlamaCpp | undefined;
      try {
        signal.throwIfAborted();
        const rt = await abortable(getRuntime(), signal);
        lib = rt.lib;
        const { history, prompt } = toChatHistory(request, provider);
        const promptTokens = estimatePromptTokens(rt.model, request);
        if (promptTokens >= rt.context.contextSize)
          throw promptTooLongError(promptTokens, rt.context.contextSize, provider);
        const grammar = await abortable(rt.format.grammarFor(request.schema), signal);

        const sequence = await rt.pool.acquire(signal);
        try {
          // Each call starts from an empty sequence: no state leaks from one request to the next.
          await sequence.clearHistory();
          const session = new rt.lib.LlamaChatSession({
            contextSequence: sequence,
            autoDisposeSequence: false,
          });
          try {
            session.setChatHistory(history);
            const before = sequence.tokenMeter.getState();
            const result = await session.promptWithMeta(prompt, {
              grammar,
              maxTokens: Math.max(1, request.maxTokens),
              temperature: Math.max(0, request.temperature),
              repeatPenalty: repeatPenalty > 1 ? { penalty: repeatPenalty } : false,
              signal,
              stopOnAbortSignal: false,
            });
            // Evaluated tokens: input = prompt tokens, output = sampled tokens (end-of-turn included).
            const used = sequence.tokenMeter.diff(before);
            return {
              text: result.responseText,
              tokensIn: used.usedInputTokens,
              tokensOut: used.usedOutputTokens,
              model: modelName,
              finishReason: toFinishReason(result.stopReason),
            };
          } finally {
            session.dispose({ disposeSequence: false });
          }
        } finally {
          rt.pool.release(sequence);
        }
      } catch (error) {
        throw toProviderError(error, provider, { callerSignal: request.signal, signal, timeoutMs, lib });
      }
    },
    close() {
      return this.dispose();
    },
    async dispose() {
      const current = runtime;
      runtime = undefined;
      const rt = await current?.catch(() => undefined);
      if (!rt) return;
      rt.pool.close();
      await rt.context.dispose();
      await rt.model.dispose();
    },
  };
}

/** One llama.cpp backend per process, shared by every local model; CPU only, never built or downloaded. */
let sharedLlama: Promise<{ lib: typeof NodeLlamaCpp; llama: Llama }> | undefined;

function loadLlama(provider: string): Promise<{ lib: typeof NodeLlamaCpp; llama: Llama }> {
  sharedLlama ??= (async () => {
    // Imported lazily: importing node-llama-cpp costs about half a second, paid only when used.
    const lib = await import('node-llama-cpp');
    try {
      const llama = await lib.getLlama({
        gpu: false,
        build: 'never',
        skipDownload: true,
        usePrebuiltBinaries: true,
        progressLogs: false,
        logLevel: lib.LlamaLogLevel.error,
        maxThreads: 0, // each context's `threads` is then the exact number used
      });
      return { lib, llama };
    } catch (error) {
      throw toProviderError(error, provider, { lib });
    }
  })().catch((error: unknown) => {
    sharedLlama = undefined;
    throw error;
  });
  return sharedLlama;
}

/** The request as a chat history plus the final user message to prompt with. */
function toChatHistory(
  request: GenerateRequest,
  provider: string,
): { history: ChatHistoryItem[]; prompt: string } {
  const last = request.messages.at(-1);
  if (last && last.role !== 'user') {
    throw new ProviderError(
      'bad_request',
      'the local provider needs the conversation to end with a user message',
      provider,
    );
  }
  const history: ChatHistoryItem[] = [{ type: 'system', text: request.system }];
  for (const message of request.messages.slice(0, -1)) {
    history.push(
      message.role === 'user'
        ? { type: 'user', text: message.content }
        : { type: 'model', response: [message.content] },
    );
  }
  return { history, prompt: last?.content ?? '' };
}

/** Prompt tokens plus a small allowance per message for the chat template's markers. */
function estimatePromptTokens(model: LlamaModel, request: GenerateRequest): number {
  const texts = [request.system, ...request.messages.map((m) => m.content)];
  return texts.reduce((sum, text) => sum + model.tokenize(text).length + 8, 0);
}

function toFinishReason(stopReason: string): GenerateResult['finishReason'] {
  if (stopReason === 'eogToken' || stopReason === 'stopGenerationTrigger') return 'stop';
  if (stopReason === 'maxTokens') return 'length';
  return 'other';
}

/** Rejects with the signal's reason as soon as it aborts (the work itself goes on, shared). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise<T>((resolvePromise, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolvePromise(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** The context's sequences, handed out one call at a time; waiting callers queue in order. */
class SequencePool {
  private readonly waiters: { grant(sequence: LlamaContextSequence): void; fail(error: unknown): void }[] =
    [];

  constructor(private readonly free: LlamaContextSequence[]) {}

  acquire(signal: AbortSignal): Promise<LlamaContextSequence> {
    signal.throwIfAborted();
    const sequence = this.free.pop();
    if (sequence) return Promise.resolve(sequence);
    return new Promise((resolvePromise, reject) => {
      const waiter = {
        grant: (granted: LlamaContextSequence) => {
          signal.removeEventListener('abort', onAbort);
          resolvePromise(granted);
        },
        fail: (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  release(sequence: LlamaContextSequence): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter.grant(sequence);
    else this.free.push(sequence);
  }

  /** Fails every queued caller (on dispose). */
  close(): void {
    for (const waiter of this.waiters.splice(0)) waiter.fail(new Error('the local model was disposed'));
  }
}
