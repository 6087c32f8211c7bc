// SPDX-License-Identifier: Apache-2.0
import Glibc
import ModelsCore
import ModelsTransport

/// AWS Bedrock's Converse and ConverseStream APIs behind the OpenAI-shaped
/// interface: requests and answers are translated by `BedrockRequest`,
/// `BedrockResponse` and `BedrockStreamTranslator`, streams are framed by
/// `EventStreamParser`, and each request is signed with SigV4 (`AWSSigV4`).
/// This type only builds the requests and reads the answers.
public final class BedrockProvider: ChatProvider {
    public let name: String
    let endpoint: BedrockEndpoint
    let headers: [(name: String, value: String)]
    /// Unix seconds, for the signature's date (tests fix it).
    let now: @Sendable () -> Int64

    public init(name: String = "bedrock", endpoint: BedrockEndpoint, headers: [(name: String, value: String)] = [],
                now: @escaping @Sendable () -> Int64 = { Int64(time(nil)) }) {
        self.name = name
        self.endpoint = endpoint
        self.headers = headers
        self.now = now
    }

    public func chat(_ call: ChatCall) throws(ModelsError) -> ChatAnswer {
        let exchange = try chatExchange(call)
        let transfer = try HTTPTransfer(exchange.request, limits: call.limits, cancellation: call.cancellation)
        defer { transfer.close() }
        let head = try transfer.awaitHead()
        guard head.isSuccess else {
            throw exchange.failure(head, (try? transfer.readBody(limit: ProviderExchange.errorBodyBytes, truncate: true)) ?? [])
        }
        return try exchange.answer(head, try transfer.readBody(limit: call.limits.maxBodyBytes))
    }

    public func openStream(_ call: ChatCall) throws(ModelsError) -> any ProviderStream {
        let exchange = try streamExchange(call)
        let transfer = try HTTPTransfer(exchange.request, limits: call.limits, cancellation: call.cancellation)
        let head: HTTPResponseHead
        do { head = try transfer.awaitHead() } catch {
            transfer.close()
            throw error
        }
        guard head.isSuccess, head.isEventStream else {
            let body = (try? transfer.readBody(limit: ProviderExchange.errorBodyBytes, truncate: true)) ?? []
            transfer.close()
            throw head.isSuccess ? exchange.notEventStream(head, body) : exchange.failure(head, body)
        }
        return decodedStream(transfer, exchange.decoder())
    }

    /// The request body in Converse's terms; the fields dropped on the way are logged.
    private func translate(_ call: ChatCall) throws(ModelsError) -> JSON {
        let body = try BedrockRequest.translate(call.request.json, modelID: call.modelID, provider: name)
        let dropped = BedrockParameters.droppedFields(call.request.json)
        if !dropped.isEmpty { Log.debug("\(name): not sent (no Converse equivalent): \(dropped.joined(separator: ", "))") }
        return body
    }

    private func secrets(_ call: ChatCall) -> [String] {
        endpoint.signer.secrets + headers.map(\.value) + call.extraHeaders.map(\.value)
    }

    private func request(_ body: JSON, stream: Bool, call: ChatCall) -> HTTPRequest {
        var headers: [(name: String, value: String)] = [
            ("Content-Type", "application/json"),
            ("Accept", stream ? "application/vnd.amazon.eventstream" : "application/json"),
        ]
        headers += self.headers
        var request = HTTPRequest(method: .post, url: endpoint.url(modelID: call.modelID, stream: stream), headers: headers,
                                  body: body.serializedBytes())
        request.add(extraHeaders: call.extraHeaders, extraQuery: call.extraQuery)
        return endpoint.signer.sign(request, now: now())
    }

    /// A 2xx answer's body, translated.
    private func answer(_ bytes: [UInt8], call: ChatCall) throws(ModelsError) -> ChatAnswer {
        let json: JSON
        do { json = try JSON.parse(bytes) } catch {
            throw ModelsError(.protocol, "\(name) answered with invalid JSON: \(error.message)")
        }
        return ChatAnswer(json: try BedrockResponse.translate(json, model: call.model, created: Int64(time(nil)),
                                                              jsonAnswer: AnthropicRequest.jsonAnswerName(call.request.json), provider: name))
    }

    /// An HTTP error answer: AWS's `{"message": ...}` (or `Message`), with the
    /// exception name of the `x-amzn-ErrorType` header (or the body's `__type`).
    func httpError(_ head: HTTPResponseHead, _ body: [UInt8], secrets: [String]) -> ModelsError {
        let json = try? JSON.parse(body)
        let raw = json?["message"]?.string ?? json?["Message"]?.string
        guard let raw else { return ProviderErrors.httpError(provider: name, head: head, body: body, secrets: secrets) }
        let named = head.awsErrorType.map { String($0.split(separator: ":").first ?? "") } ?? json?["__type"]?.string
        let type = named.map { String($0.split(separator: "#").last ?? "") }.map(HeaderText.printableName).flatMap { $0.isEmpty ? nil : $0 }
        let status = head.status
        let prefix = type.map { "\($0): " } ?? ""
        return .api(status: status, message: "\(name) answered HTTP \(status): \(prefix)\(Redact.secrets(raw, known: secrets))",
                    retryAfterMs: head.retryAfterMs, kind: ErrorKind.refusal(status: status, codes: type.map { [$0] } ?? [], message: raw))
    }

    private func notEventStream(_ body: [UInt8], secrets: [String]) -> ModelsError {
        ModelsError(.protocol, "\(name) did not answer with an event stream: \(ProviderErrors.message(inBody: body, secrets: secrets))")
    }
}

extension BedrockProvider: ExchangeProvider {
    public func chatExchange(_ call: ChatCall) throws(ModelsError) -> ChatExchange {
        let body = try translate(call)
        let secrets = secrets(call)
        return ChatExchange(
            request: request(body, stream: false, call: call), secrets: secrets,
            answer: { _, bytes throws(ModelsError) in try self.answer(bytes, call: call) },
            failure: { head, bytes in self.httpError(head, bytes, secrets: secrets) },
            retryInstead: nil)
    }

    public func streamExchange(_ call: ChatCall) throws(ModelsError) -> StreamExchange {
        let body = try translate(call)
        let secrets = secrets(call), name = self.name, jsonAnswer = AnthropicRequest.jsonAnswerName(call.request.json)
        return StreamExchange(
            request: request(body, stream: true, call: call), secrets: secrets,
            failure: { head, bytes in self.httpError(head, bytes, secrets: secrets) },
            notEventStream: { _, bytes in self.notEventStream(bytes, secrets: secrets) },
            retryInstead: nil,
            decoder: { BedrockStreamDecoder(provider: name, model: call.model, secrets: secrets, jsonAnswer: jsonAnswer) })
    }
}

