"""
Schemathesis hooks of e2e/contract-fuzz.int.test.ts (loaded through SCHEMATHESIS_HOOKS).

What a schema-valid request needs besides its schema, and that no OpenAPI document can say,
because it depends on the deployment or on data stored earlier in the same run. Each rule only
narrows positive (schema-valid) cases, which the API must accept; negative cases are sent as
generated. The reasons are repeated in the test.
"""

import os

import schemathesis

# `options.provider` names one of the providers the processor is configured with (LLM_PROVIDERS):
# deployment configuration, not part of the document. The test tells the names it configured.
PROVIDERS = [name for name in os.environ.get("SPS_FUZZ_PROVIDERS", "").split(",") if name]

# `model` of POST /v1/chat/completions names a configured provider or model (or a routing alias,
# `auto`, `auto/<policy>`): deployment configuration too, like `options.provider`. Schema-valid
# cases that name none get the test's first provider.
ROUTING_ALIASES = {"auto", "auto/priority", "auto/latency", "auto/cost", "auto/least-busy"}


def _known_model(model) -> bool:
    if not isinstance(model, str):
        return True  # not schema-valid: sent as generated
    provider = model.split("/", 1)[0]
    return model in ROUTING_ALIASES or model in PROVIDERS or (provider in PROVIDERS and len(model) > len(provider) + 1)


# Webhook targets: the API resolves a job's webhook host when the job is submitted. Schema-valid
# cases get the receiver address the test allowlists (nothing listens: no dispatcher runs), so
# the fuzzer makes the API look up no generated host names. Negative cases are refused by
# validation before any lookup.
WEBHOOK_URL = os.environ.get("SPS_FUZZ_WEBHOOK_URL", "")

# Bodies the API's JSON parser refuses (prototype-poisoning defence, stated in the document's
# description): a `__proto__` key, or a `constructor` key whose object has a `prototype` key,
# anywhere. JSON Schema cannot forbid a key inside free-form values (a caller's JSON Schema).


def _positive(case) -> bool:
    meta = case.meta
    return meta is None or meta.generation.mode.is_positive


def _has_poisoned_key(value) -> bool:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            constructor = node.get("constructor")
            if "__proto__" in node or (isinstance(constructor, dict) and "prototype" in constructor):
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


@schemathesis.hook
def map_case(context, case):
    body = case.body
    if not _positive(case) or not isinstance(body, dict):
        return case
    for holder in (body, body.get("request_params")):
        options = holder.get("options") if isinstance(holder, dict) else None
        if PROVIDERS and isinstance(options, dict) and options.get("provider") not in (None, *PROVIDERS):
            options["provider"] = PROVIDERS[0]
    if PROVIDERS and "messages" in body and "model" in body and not _known_model(body.get("model")):
        body["model"] = PROVIDERS[0]
    if WEBHOOK_URL and isinstance(body.get("webhook_url"), str):
        body["webhook_url"] = WEBHOOK_URL
    return case


def _error(response):
    try:
        error = response.json().get("error")
    except Exception:  # not the envelope: keep the failure
        return {}
    return error if isinstance(error, dict) else {}


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """Drops failures where a check's assumption meets documented behaviour; keeps all others."""
    error = _error(response)
    fields = [f for f in (error.get("details") or {}).get("fields") or [] if isinstance(f, dict)]
    # A template's parameters are those of the stored template (its {{placeholders}}): a
    # schema-valid reference can name parameters the template does not have, or miss some it
    # has, and is refused with 400 naming each `template.parameters.*` field.
    if failure.code == "ST202" and response.status_code == 400 and fields:
        if all(str(f.get("field", "")).startswith("template.parameters.") for f in fields):
            return False
    # POST /v1/chat/completions: the messages make one prompt, at most 10,000 characters in all (as
    # its description says), which JSON Schema cannot bound across array items: 400 naming `messages`.
    if failure.code == "ST202" and response.status_code == 400 and fields:
        if all(f.get("field") == "messages" and str(f.get("reason", "")).startswith("make a prompt of") for f in fields):
            return False
    # A caller's JSON Schema (`schema`, a free-form object in the document) must compile: one that
    # is not a valid JSON Schema, e.g. `{"if": [1]}` where `if` must be a schema, is refused with
    # 400 INVALID_SCHEMA (documented with the 400s). The document cannot carry the meta-schema.
    if failure.code == "ST202" and response.status_code == 400 and error.get("code") == "INVALID_SCHEMA":
        return False
    # A body with a `__proto__` key (or `constructor.prototype`) anywhere is refused with 400.
    if failure.code == "ST202" and response.status_code == 400 and _has_poisoned_key(case.body):
        return False
    # ensure_resource_availability reads any 404 after a POST that created something as "the
    # created resource is gone". A 404 whose details name a body field is about a reference in
    # the body (schema_ref or template naming nothing), not about the path's resource.
    if failure.code == "ST302" and response.status_code == 404:
        if any(f.get("reason") == "not found" for f in fields):
            return False
    # use_after_free expects a resource to be gone after a successful DELETE. DELETE /v1/jobs/{id}
    # cancels a job (documented): it stays readable, with status `cancelled`, until it expires.
    if failure.code == "ST301" and response.status_code == 200:
        try:
            if response.json().get("status") == "cancelled":
                return False
        except Exception:
            pass
    # ignored_auth sends an invalid key to every operation from one address; past the API's limit
    # of failed authentications per client address (a brute-force defence) it is answered 429
    # (RATE_LIMIT_EXCEEDED, Retry-After) instead of 401: refused all the same. The keys sent before
    # the limit are checked as usual. (`response` is the request with the valid key; the refused
    # one is only described in the failure's message.)
    if failure.code == "ST401" and "got `429 " in (failure.message or ""):
        return False
    return True
