// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

/// SigV4 signatures, checked against botocore's signer (the values below are
/// what botocore 1.43's SigV4Auth computes for the same requests).
@Suite struct AWSSigV4Tests {
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    static let now: Int64 = 1_796_126_400  // 20261201T120000Z

    @Test func aConverseRequestWithASessionToken() {
        let signer = AWSSigV4(accessKeyID: "AKIDEXAMPLE", secretAccessKey: Self.secret, sessionToken: "tok/+=",
                              region: "us-east-1", service: "bedrock")
        let request = HTTPRequest(method: .post, url: "http://127.0.0.1:8080/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse?b=2&a=1",
                                  headers: [("Content-Type", "application/json"), ("Accept", "application/json")],
                                  body: Array(#"{"messages":[{"role":"user","content":[{"text":"hi"}]}]}"#.utf8))
        let signed = signer.sign(request, now: Self.now)
        let headers = Dictionary(signed.headers.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        #expect(headers["X-Amz-Date"] == "20261201T120000Z")
        #expect(headers["X-Amz-Security-Token"] == "tok/+=")
        #expect(headers["Authorization"] == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261201/us-east-1/bedrock/aws4_request, "
                + "SignedHeaders=accept;content-type;host;x-amz-date;x-amz-security-token, "
                + "Signature=bb4ba77bf793372a7372af705090341cf2b548f4fa61b66d124dba6a6297144a")
    }

    @Test func anARNIsEncodedOnceInTheURLAndTwiceInTheSignature() {
        let signer = AWSSigV4(accessKeyID: "AKIDEXAMPLE", secretAccessKey: Self.secret, sessionToken: nil, region: "us-east-1", service: "bedrock")
        let endpoint = BedrockEndpoint(baseURL: nil, signer: signer)
        let url = endpoint.url(modelID: "arn:aws:bedrock:us-east-1:123:inference-profile/us.anthropic.claude-v1:0", stream: true)
        #expect(url == "https://bedrock-runtime.us-east-1.amazonaws.com/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123%3Ainference-profile%2Fus.anthropic.claude-v1%3A0/converse-stream")
        let signed = signer.sign(HTTPRequest(method: .post, url: url, headers: [("Content-Type", "application/json")], body: Array("{}".utf8)), now: Self.now)
        #expect(signed.headers.last?.value.hasSuffix("SignedHeaders=content-type;host;x-amz-date, "
                + "Signature=6209d0a2f2ef73ace4db94371e27813daeef34d4b76f8b1649655a65a82fa4eb") == true)
        #expect(!signed.headers.contains { $0.value.contains(Self.secret) })
    }

    @Test func sha256AndHMACMatchTheirStandards() {
        #expect(SHA256.hex(SHA256.hash(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(SHA256.hash([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        // RFC 4231 test case 2.
        #expect(SHA256.hex(SHA256.hmac(key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8)))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func urlParts() {
        #expect(AWSSigV4.split("https://H.example.com:443/a/b?x=1").host == "h.example.com")
        #expect(AWSSigV4.split("http://h:8080").path == "/")
        #expect(AWSSigV4.canonicalQuery("b=2&a=%7e&a=1") == "a=1&a=~&b=2")
    }
}
