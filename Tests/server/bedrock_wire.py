# SPDX-License-Identifier: Apache-2.0
"""AWS Bedrock's Converse, ConverseStream and InvokeModel (embeddings) wire formats for the loopback
test server: routes, answers, the binary event-stream framing of streams, and
the check of every request's SigV4 signature with botocore's signer (the
independent reference; botocore is a test-only dependency).

Kept apart from llm_test_server.py, which imports it; it imports nothing from
there (the answer object is passed in); InvokeModel's vectors come from
llm_embeddings (the same numbers as the OpenAI embeddings of the same text)."""

import binascii
import datetime
import hmac
import json
import re
import struct
import zlib
from typing import Any, Dict, Iterator, List, Optional, Tuple
from urllib.parse import unquote

import llm_embeddings

BEDROCK = "bedrock"

# The credentials the server knows: access key id -> (secret, session token or None).
CREDENTIALS: Dict[str, Tuple[str, Optional[str]]] = {
    "AKIDLOOPBACK": ("loopback/secret+key", None),
    "ASIALOOPBACK": ("loopback/temporary+secret", "loopback-session-token"),
}

_PATH = re.compile(r"/model/([^/]+)/(converse|converse-stream|invoke)$")

# HTTP status -> the exception AWS names in x-amzn-ErrorType.
_EXCEPTIONS = {
    400: "ValidationException", 403: "AccessDeniedException", 404: "ResourceNotFoundException",
    408: "ModelTimeoutException", 424: "ModelErrorException", 429: "ThrottlingException",
    500: "InternalServerException", 503: "ServiceUnavailableException",
}

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def route(method: str, path: str) -> Optional[Tuple[str, bool]]:
    """(model id, stream) for a Converse or InvokeModel path; None otherwise."""
    match = _PATH.search(path)
    if method != "POST" or not match:
        return None
    return unquote(match.group(1)), match.group(2) == "converse-stream"


def is_invoke(path: str) -> bool:
    match = _PATH.search(path)
    return bool(match) and match.group(2) == "invoke"


# ---- SigV4 -------------------------------------------------------------------

_AUTH = re.compile(r"^AWS4-HMAC-SHA256 Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request,\s*"
                   r"SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$")


def verify(method: str, target: str, headers: Dict[str, str], body: bytes) -> Tuple[Optional[str], Dict[str, Any]]:
    """Checks a request's signature with botocore. Returns (None, details) when
    it is good, else (the exception name AWS would give, details)."""
    details: Dict[str, Any] = {}
    try:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
    except ImportError:
        details["problem"] = "botocore is not installed (scripts/deps.sh installs python3-botocore)"
        return "MissingAuthenticationTokenException", details
    auth = headers.get("authorization", "")
    match = _AUTH.match(auth)
    if not match:
        details["problem"] = "no SigV4 Authorization header"
        return "MissingAuthenticationTokenException", details
    key_id, date, region, service, signed, signature = match.groups()
    details.update(key_id=key_id, region=region, service=service, signed_headers=signed.split(";"))
    known = CREDENTIALS.get(key_id)
    if known is None:
        details["problem"] = "unknown access key id"
        return "UnrecognizedClientException", details
    secret, token = known
    amz_date = headers.get("x-amz-date", "")
    names = signed.split(";")
    if "host" not in names or "x-amz-date" not in names or not amz_date.startswith(date):
        details["problem"] = "host or x-amz-date not signed, or the date does not match the scope"
        return "InvalidSignatureException", details
    try:
        when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        details["problem"] = "bad x-amz-date"
        return "InvalidSignatureException", details
    if abs((datetime.datetime.now(datetime.timezone.utc) - when).total_seconds()) > 300:
        details["problem"] = "signature expired"
        return "InvalidSignatureException", details
    if token is not None and (headers.get("x-amz-security-token") != token or "x-amz-security-token" not in names):
        details["problem"] = "missing or unsigned session token"
        return "UnrecognizedClientException", details
    missing = [n for n in names if n not in headers]
    if missing:
        details["problem"] = "signed headers not sent: %s" % ", ".join(missing)
        return "InvalidSignatureException", details
    request = AWSRequest(method=method, url="http://%s%s" % (headers["host"], target), data=body,
                         headers={n: headers[n] for n in names})
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(key_id, secret, token), service, region)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    details["canonical_path"] = canonical.split("\n")[1]
    if signer.signed_headers(signer.headers_to_sign(request)) != signed or not hmac.compare_digest(expected, signature):
        details["problem"] = "signature mismatch"
        return "InvalidSignatureException", details
    return None, details


def signature_error(exception: str) -> Dict[str, Any]:
    if exception == "UnrecognizedClientException":
        return {"message": "The security token included in the request is invalid."}
    if exception == "MissingAuthenticationTokenException":
        return {"message": "Missing Authentication Token"}
    return {"message": "The request signature we calculated does not match the signature you provided. "
                       "Check your AWS Secret Access Key and signing method."}


# ---- answers -----------------------------------------------------------------

def error_headers(status: int, exception: Optional[str] = None) -> Dict[str, str]:
    name = exception or _EXCEPTIONS.get(status, "InternalServerException" if status >= 500 else "ValidationException")
    return {"x-amzn-ErrorType": "%s:http://internal.amazon.com/coral/com.amazon.bedrock/" % name}


def error_body(status: int, message: Optional[str] = None) -> Dict[str, Any]:
    return {"message": message or "scripted error %d" % status}


def usage(answer: Any) -> Dict[str, Any]:
    out = {"inputTokens": answer.prompt_tokens, "outputTokens": answer.completion_tokens}
    out.update(answer.step.usage or {})
    out.setdefault("totalTokens", out["inputTokens"] + out["outputTokens"])
    return out


def stop_reason(answer: Any) -> str:
    return answer.step.stop_reason or ("tool_use" if answer.tool_calls else "end_turn")


def _tool_input(arguments: str) -> Any:
    try:
        value = json.loads(arguments) if arguments else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def response(answer: Any) -> Dict[str, Any]:
    content: List[Any] = []
    if answer.thinking is not None:
        content.append({"reasoningContent": {"reasoningText": {"text": answer.thinking, "signature": "sig"}}})
    text = answer.full_text()
    if text is not None:
        content.append({"text": text})
    for call in answer.tool_calls:
        content.append({"toolUse": {"toolUseId": call["id"], "name": call["name"], "input": _tool_input(call["arguments"])}})
    return {"output": {"message": {"role": "assistant", "content": content}}, "stopReason": stop_reason(answer),
            "usage": usage(answer), "metrics": {"latencyMs": 1}}


# ---- InvokeModel: Titan and Cohere embeddings -----------------------------------

def invoke(model: str, request: Dict[str, Any]) -> Tuple[int, Dict[str, Any], Dict[str, str]]:
    """(status, body, headers) of an InvokeModel call: Titan text embeddings
    (one `inputText`, optional `dimensions`) or Cohere v3 (`texts`, `input_type`).
    Vectors as llm_embeddings gives them (DEFAULT_DIMENSIONS numbers unless
    `dimensions`); tokens are words, also in X-Amzn-Bedrock-Input-Token-Count."""
    bare = model.split("/")[-1]
    bare = bare.split(".", 1)[1] if bare.split(".")[0] not in ("amazon", "cohere") and "." in bare else bare
    if bare.startswith("amazon.titan-embed-text-"):
        text = request.get("inputText")
        dims = request.get("dimensions", llm_embeddings.DEFAULT_DIMENSIONS)
        extra = set(request) - {"inputText", "dimensions", "normalize", "model", "stream", "invoke"}
        if not isinstance(text, str) or not text or not isinstance(dims, int) or not 0 < dims <= llm_embeddings.MAX_DIMENSIONS or extra:
            return 400, {"message": "Malformed input request, please reformat your input and try again."}, error_headers(400)
        tokens = llm_embeddings.tokens_of(text)
        return 200, {"embedding": llm_embeddings.vector(text, dims), "inputTextTokenCount": tokens}, \
            {"X-Amzn-Bedrock-Input-Token-Count": str(tokens)}
    if bare.startswith("cohere.embed-"):
        texts = request.get("texts")
        if not isinstance(texts, list) or not texts or len(texts) > 96 or not all(isinstance(t, str) and t for t in texts) \
                or not isinstance(request.get("input_type"), str):
            return 400, {"message": "Malformed input request, please reformat your input and try again."}, error_headers(400)
        tokens = sum(llm_embeddings.tokens_of(t) for t in texts)
        body = {"embeddings": [llm_embeddings.vector(t, llm_embeddings.DEFAULT_DIMENSIONS) for t in texts],
                "id": "emb-loopback", "response_type": "embeddings_floats", "texts": texts}
        return 200, body, {"X-Amzn-Bedrock-Input-Token-Count": str(tokens)}
    return 400, {"message": "The provided model doesn't support embeddings."}, error_headers(400)


# ---- event-stream framing ------------------------------------------------------

def frame(headers: List[Tuple[str, str]], payload: bytes) -> bytes:
    """One message: prelude with its CRC, string headers, payload, message CRC."""
    head = b"".join(bytes([len(n.encode())]) + n.encode() + b"\x07" + struct.pack(">H", len(v.encode())) + v.encode()
                    for n, v in headers)
    prelude = struct.pack(">II", 16 + len(head) + len(payload), len(head))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + head + payload
    return message + struct.pack(">I", zlib.crc32(message))


def event(name: str, data: Any) -> bytes:
    return frame([(":event-type", name), (":content-type", "application/json"), (":message-type", "event")],
                 _dumps(data).encode())


def exception(error: Any) -> bytes:
    """An exception message; `error` is a name, {"type", "message"}, or None (throttling)."""
    if isinstance(error, dict):
        name, message = str(error.get("type", "throttlingException")), str(error.get("message", "scripted stream error"))
    else:
        name, message = (error if isinstance(error, str) else "throttlingException"), "scripted stream error"
    return frame([(":exception-type", name), (":content-type", "application/json"), (":message-type", "exception")],
                 _dumps({"message": message}).encode())


def raw_items(items: List[Any]) -> Iterator[bytes]:
    """A scripted stream: {"event": E, "data": D} frames an event; {"exception": E, "message": M}
    an exception; {"error_code": C, "error_message": M} an error message; {"corrupt": item} the
    item with its last byte flipped (a bad message CRC); {"hex": "..."} raw bytes; a string as is."""
    for item in items:
        if isinstance(item, str):
            yield item.encode()
        elif isinstance(item, dict) and "hex" in item:
            yield binascii.unhexlify(item["hex"])
        elif isinstance(item, dict) and "corrupt" in item:
            data = next(raw_items([item["corrupt"]]))
            yield data[:-1] + bytes([data[-1] ^ 0xFF])
        elif isinstance(item, dict) and "exception" in item:
            yield exception({"type": item["exception"], "message": item.get("message", "scripted stream error")})
        elif isinstance(item, dict) and "error_code" in item:
            yield frame([(":error-code", str(item["error_code"])), (":error-message", str(item.get("error_message", ""))),
                         (":message-type", "error")], b"")
        elif isinstance(item, dict) and "event" in item:
            yield event(str(item["event"]), item.get("data", {}))
        else:
            yield event("unknownEvent", item)


def stream(answer: Any, split_words: Any, split_arguments: Any) -> Iterator[bytes]:
    """ConverseStream events: messageStart, reasoning, text and tool blocks, messageStop, metadata."""
    yield event("messageStart", {"role": "assistant"})
    index = 0
    if answer.thinking is not None:
        for piece in split_words(answer.thinking):
            yield event("contentBlockDelta", {"contentBlockIndex": index, "delta": {"reasoningContent": {"text": piece}}})
        yield event("contentBlockDelta", {"contentBlockIndex": index, "delta": {"reasoningContent": {"signature": "sig"}}})
        yield event("contentBlockStop", {"contentBlockIndex": index})
        index += 1
    if answer.has_text:
        for piece in answer.pieces():
            yield event("contentBlockDelta", {"contentBlockIndex": index, "delta": {"text": piece}})
        yield event("contentBlockStop", {"contentBlockIndex": index})
        index += 1
    for call in answer.tool_calls:
        yield event("contentBlockStart", {"contentBlockIndex": index,
                                          "start": {"toolUse": {"toolUseId": call["id"], "name": call["name"]}}})
        for piece in split_arguments(call["arguments"]):
            yield event("contentBlockDelta", {"contentBlockIndex": index, "delta": {"toolUse": {"input": piece}}})
        yield event("contentBlockStop", {"contentBlockIndex": index})
        index += 1
    yield event("messageStop", {"stopReason": stop_reason(answer)})
    if not answer.step.omit_terminator:
        yield event("metadata", {"usage": usage(answer), "metrics": {"latencyMs": 1}})
