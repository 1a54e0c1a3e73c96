"""
Python clients nobody here wrote, pointed at the service's OpenAI-compatible door by base URL: the
official `openai` package and Instructor (with a Pydantic model). Run by
e2e/openai-compatible.int.test.ts with the virtualenv of scripts/python-clients.sh; each run does
one case and prints one JSON object on stdout, which the test asserts on.

    python openai_clients.py CASE [--base-url URL] [--api-key KEY] [--model MODEL] [--prompt TEXT]

Base URL and key default to SPS_BASE_URL (the service's root, `/v1` is appended) and SPS_API_KEY.
Cases:
  schema      chat.completions.create with response_format json_schema: content, parsed, usage, headers
  stream      the same with stream=True (and stream_options.include_usage): the content of the chunks
  instructor  instructor.from_openai(client, mode=Mode.JSON_SCHEMA) with response_model=Invoice
  instructor-json  the same with Mode.JSON (response_format json_object, the schema in a system message)
  refused     a parameter the service does not support (top_p): the typed error the SDK raises
  models      client.models.list()

Instructor's modes: JSON_SCHEMA sends OpenAI's `response_format: json_schema`, so the service validates
(and re-asks) against the model's schema itself; JSON sends `json_object` (any JSON object) and
Instructor validates; TOOLS / TOOLS_STRICT / PARALLEL_TOOLS send `tools`, which the service refuses
(400 naming `tools`).
"""

import argparse
import json
import os
import sys

import instructor
import openai
from pydantic import BaseModel

SCHEMA = {
    "type": "object",
    "required": ["restaurant", "people", "day"],
    "properties": {
        "restaurant": {"type": "string"},
        "people": {"type": "integer"},
        "day": {"type": "string"},
    },
    "additionalProperties": False,
}


class Invoice(BaseModel):
    """An invoice's key details."""

    invoice_number: str
    date: str
    total: float
    paid: bool
    items: list[str]


def schema_case(client: openai.OpenAI, model: str, prompt: str) -> dict:
    raw = client.chat.completions.with_raw_response.create(
        model=model,
        messages=[
            {"role": "system", "content": "Extract the booking."},
            {"role": "user", "content": prompt},
        ],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "booking", "schema": SCHEMA, "strict": True},
        },
    )
    completion = raw.parse()
    content = completion.choices[0].message.content
    return {
        "id": completion.id,
        "object": completion.object,
        "model": completion.model,
        "finish_reason": completion.choices[0].finish_reason,
        "content": content,
        "parsed": json.loads(content),
        "usage": completion.usage.model_dump() if completion.usage else None,
        "headers": {
            name: raw.headers.get(name)
            for name in (
                "x-request-id",
                "x-sps-request-id",
                "x-sps-validation-status",
                "x-sps-provider",
                "x-sps-cached",
            )
        },
    }


def stream_case(client: openai.OpenAI, model: str, prompt: str) -> dict:
    stream = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": prompt}],
        response_format={"type": "json_schema", "json_schema": {"name": "booking", "schema": SCHEMA}},
        stream=True,
        stream_options={"include_usage": True},
    )
    content, finish_reason, usage, chunks = "", None, None, 0
    for chunk in stream:
        chunks += 1
        if chunk.usage:
            usage = chunk.usage.model_dump()
        for choice in chunk.choices:
            content += choice.delta.content or ""
            finish_reason = choice.finish_reason or finish_reason
    return {
        "chunks": chunks,
        "content": content,
        "parsed": json.loads(content),
        "finish_reason": finish_reason,
        "usage": usage,
    }


def instructor_case(client: openai.OpenAI, model: str, prompt: str, mode: instructor.Mode) -> dict:
    patched = instructor.from_openai(client, mode=mode)
    invoice, completion = patched.chat.completions.create_with_completion(
        model=model,
        response_model=Invoice,
        messages=[{"role": "user", "content": prompt}],
        max_retries=1,
    )
    return {
        "mode": mode.value,
        "type": type(invoice).__name__,
        "is_invoice": isinstance(invoice, Invoice),
        "invoice": invoice.model_dump(),
        "completion_id": completion.id,
        "usage": completion.usage.model_dump() if completion.usage else None,
    }


def refused_case(client: openai.OpenAI, model: str, prompt: str) -> dict:
    try:
        client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": prompt}], top_p=0.5
        )
    except openai.APIStatusError as error:
        return {
            "error_class": type(error).__name__,
            "is_bad_request": isinstance(error, openai.BadRequestError),
            "status_code": error.status_code,
            "code": error.code,
            "message": error.message,
            "body": error.body,
        }
    return {"error_class": None}


def models_case(client: openai.OpenAI, _model: str, _prompt: str) -> dict:
    return {"ids": [model.id for model in client.models.list()]}


CASES = {
    "schema": schema_case,
    "stream": stream_case,
    "instructor": lambda c, m, p: instructor_case(c, m, p, instructor.Mode.JSON_SCHEMA),
    "instructor-json": lambda c, m, p: instructor_case(c, m, p, instructor.Mode.JSON),
    "refused": refused_case,
    "models": models_case,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("case", choices=sorted(CASES))
    parser.add_argument("--base-url", default=os.environ.get("SPS_BASE_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--api-key", default=os.environ.get("SPS_API_KEY"))
    parser.add_argument("--model", default=os.environ.get("SPS_MODEL", "auto"))
    parser.add_argument(
        "--prompt",
        default="Invoice #12345, 2025-01-15: two pizzas and a salad, $42.50, paid by card. Table for 2 at Luigi on Friday.",
    )
    args = parser.parse_args()
    if not args.api_key:
        parser.error("an API key is needed: --api-key or SPS_API_KEY")
    client = openai.OpenAI(base_url=args.base_url.rstrip("/") + "/v1", api_key=args.api_key, max_retries=0)
    result = CASES[args.case](client, args.model, args.prompt)
    json.dump(
        {
            "case": args.case,
            "versions": {"openai": openai.__version__, "instructor": instructor.__version__},
            **result,
        },
        sys.stdout,
    )
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
