# SPDX-License-Identifier: Apache-2.0
"""Tests of the test server's Bedrock module: its SigV4 check accepts what
botocore signs and refuses the rest (a wrong secret, a missing session token,
a path signed without AWS's second encoding, as libcurl 7.88 signs it), and its
event-stream frames carry the CRCs AWS's framing has."""

import datetime
import os
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bedrock_wire  # noqa: E402

from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

PATH = "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
BODY = b'{"messages":[{"role":"user","content":[{"text":"hi"}]}]}'


def signed(key_id="AKIDLOOPBACK", secret="loopback/secret+key", token=None, path=PATH):
    request = AWSRequest(method="POST", url="http://127.0.0.1:9/" + path.lstrip("/"), data=BODY,
                         headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(key_id, secret, token), "bedrock", "us-east-1").add_auth(request)
    headers = {k.lower(): v for k, v in request.headers.items()}
    headers["host"] = "127.0.0.1:9"
    return headers


def test_botocore_signatures_pass():
    problem, details = bedrock_wire.verify("POST", PATH, signed(), BODY)
    assert problem is None, details
    assert details["canonical_path"] == "/model/anthropic.claude-3-5-sonnet-20240620-v1%253A0/converse"
    token = signed("ASIALOOPBACK", "loopback/temporary+secret", "loopback-session-token")
    assert bedrock_wire.verify("POST", PATH, token, BODY)[0] is None


def test_bad_signatures_are_refused():
    assert bedrock_wire.verify("POST", PATH, signed(secret="wrong"), BODY)[0] == "InvalidSignatureException"
    assert bedrock_wire.verify("POST", PATH, signed(), BODY + b" ")[0] == "InvalidSignatureException"
    assert bedrock_wire.verify("POST", PATH, signed("ASIALOOPBACK", "loopback/temporary+secret"), BODY)[0] \
        == "UnrecognizedClientException"
    assert bedrock_wire.verify("POST", PATH, signed("AKIDOTHER"), BODY)[0] == "UnrecognizedClientException"
    assert bedrock_wire.verify("POST", PATH, {}, BODY)[0] == "MissingAuthenticationTokenException"


def test_a_path_signed_without_the_second_encoding_is_refused():
    # What libcurl 7.88's CURLOPT_AWS_SIGV4 does: it signs the path exactly as sent.
    # Signing the decoded path makes botocore encode it only once, the same canonical path.
    headers = signed(path="/model/anthropic.claude-3-5-sonnet-20240620-v1:0/converse")
    assert bedrock_wire.verify("POST", PATH, headers, BODY)[0] == "InvalidSignatureException"


def test_an_old_signature_is_refused():
    headers = signed()
    old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)
    headers["x-amz-date"] = old.strftime("%Y%m%dT%H%M%SZ")
    assert bedrock_wire.verify("POST", PATH, headers, BODY)[0] == "InvalidSignatureException"


def test_frames_carry_their_crcs():
    frame = bedrock_wire.event("messageStart", {"role": "assistant"})
    total, headers_length, prelude_crc = struct.unpack(">III", frame[:12])
    assert total == len(frame)
    assert prelude_crc == zlib.crc32(frame[:8])
    assert struct.unpack(">I", frame[-4:])[0] == zlib.crc32(frame[:-4])
    assert frame[12 + headers_length:-4] == b'{"role":"assistant"}'
    assert b":event-type" in frame[12:12 + headers_length]


def test_routes():
    assert bedrock_wire.route("POST", "/model/a.b-v1%3A0/converse-stream") == ("a.b-v1:0", True)
    assert bedrock_wire.route("POST", "/model/arn%3Aaws%2Fx/converse") == ("arn:aws/x", False)
    assert bedrock_wire.route("GET", "/model/m/converse") is None


def test_invoke_model_embeddings():
    assert bedrock_wire.route("POST", "/model/amazon.titan-embed-text-v2%3A0/invoke") == ("amazon.titan-embed-text-v2:0", False)
    assert bedrock_wire.is_invoke("/model/m/invoke") and not bedrock_wire.is_invoke("/model/m/converse")
    status, body, headers = bedrock_wire.invoke("us.amazon.titan-embed-text-v2:0", {"inputText": "a b", "dimensions": 4, "normalize": True})
    assert status == 200 and len(body["embedding"]) == 4 and body["inputTextTokenCount"] == 2
    assert headers["X-Amzn-Bedrock-Input-Token-Count"] == "2"
    status, body, _ = bedrock_wire.invoke("cohere.embed-english-v3", {"texts": ["a", "b c"], "input_type": "search_query"})
    assert status == 200 and len(body["embeddings"]) == 2 and body["texts"] == ["a", "b c"]
    assert body["embeddings"][0] == bedrock_wire.llm_embeddings.vector("a", bedrock_wire.llm_embeddings.DEFAULT_DIMENSIONS)
    assert bedrock_wire.invoke("cohere.embed-english-v3", {"texts": ["a"]})[0] == 400
    assert bedrock_wire.invoke("amazon.titan-embed-text-v1", {"inputText": "a", "extra": 1})[0] == 400
    assert bedrock_wire.invoke("anthropic.claude", {"inputText": "a"})[0] == 400
