// SPDX-License-Identifier: Apache-2.0
import Glibc
import ModelsCore
import ModelsTransport

/// Anthropic's native Messages API behind the OpenAI-shaped interface: the
/// request and the answer are translated by the pure functions of
/// `AnthropicRequest`, `AnthropicResponse` and `AnthropicStreamTranslator`;
/// this type only does the HTTP and the one retry without thinking.
public final class AnthropicProvider: ChatProvider {
    /// The provider's name as configured ("anthropic", "anthropic-2", ...): messages and logs use it.
    public let name: String
    private let baseURL: String
    private let apiKey: String?
    private let headers: [(name: String, value: String)]
    private let thinking: ThinkingConfig
    /// A token source that replaces the key: its token goes in `Authorization:
    /// Bearer` (an OAuth token) or in `x-api-key` (a key that rotates).
    private let tokenAuth: TokenAuth?

    public static let apiVersion = "2023-06-01"

    public convenience init(name: String = "anthropic", baseURL: String, apiKey: String?, headers: [(name: String, value: String)] = [],
                            thinking: ThinkingConfig) {
        self.init(name: name, baseURL: baseURL, apiKey: apiKey, headers: headers, thinking: thinking, token: nil)
    }

    /// With `token`, a token source replaces the key (see `TokenAuth`).
    package init(name: String = "anthropic", baseURL: String, apiKey: String?, headers: [(name: String, value: String)] = [],
                 thinking: ThinkingConfig, token: TokenAuth?) {
        self.name = name
        self.baseURL = baseURL
        self.apiKey = token == nil ? apiKey : nil
        self.headers = headers
        self.thinking = thinking
        tokenAuth = token
    }

    /// The token of one attempt: fetched ahead by the engine, or asked of the source.
    private func token(_ call: ChatCall) throws(ModelsError) -> String? {
        guard let tokenAuth else { return nil }
        if let prefetched = call.prefetchedToken { return prefetched }
        return try tokenAuth.source.token(call.cancellation)
    }

    /// An HTTP error answer; a 401 tells the token source that its token was refused.
    private func refusal(_ error: ModelsError, token: String?) -> ModelsError {
        if error.status == 401, let token { tokenAuth?.source.refused(token) }
        return error
    }

    public func chat(_ call: ChatCall) throws(ModelsError) -> ChatAnswer {
        let body = try translate(call, stream: false)
        let token = try token(call)
        let transfer = try sendRetryingWithoutThinking(body, call: call, stream: false, token: token)
        defer { transfer.close() }
        return try answer(try transfer.readBody(limit: call.limits.maxBodyBytes), call: call, token: token)
    }

    /// A 2xx answer's body, translated.
    private func answer(_ bytes: [UInt8], call: ChatCall, token: String?) throws(ModelsError) -> ChatAnswer {
        let json: JSON
        do { json = try JSON.parse(bytes) } catch {
            throw ModelsError(.protocol, "\(name) answered with invalid JSON: \(error.message)")
        }
        // Some gateways answer 200 with an error body; report it as the error it is.
        if let (type, message) = AnthropicResponse.error(in: json) {
            let status = AnthropicResponse.status(forErrorType: type)
            throw .api(status: status, message: "\(name) answered with an error: \(type): \(Redact.secrets(message, known: secrets(call, token)))",
                       kind: ErrorKind.refusal(status: status, codes: [type], message: message))
        }
        return ChatAnswer(json: try AnthropicResponse.translate(json, model: call.model, created: Int64(time(nil)),
                                                                jsonAnswer: AnthropicRequest.jsonAnswerName(call.request.json)))
    }

    public func openStream(_ call: ChatCall) throws(ModelsError) -> any ProviderStream {
        let body = try translate(call, stream: true)
        let token = try token(call)
        let transfer = try sendRetryingWithoutThinking(body, call: call, stream: true, token: token)
        guard transfer.head.isEventStream else {
            let body = (try? transfer.readBody(limit: ProviderExchange.errorBodyBytes, truncate: true)) ?? []
            transfer.close()
            throw notEventStream(body, call: call, token: token)
        }
        let decoder = AnthropicStreamDecoder(provider: name, model: call.model, secrets: secrets(call, token),
                                             jsonAnswer: AnthropicRequest.jsonAnswerName(call.request.json))
        return DecodedStream(transfer: transfer, decoder: decoder)
    }

    /// The request in Anthropic's terms; the fields dropped on the way are logged.
    private func translate(_ call: ChatCall, stream: Bool) throws(ModelsError) -> JSON {
        let body = try AnthropicRequest.translate(call.request.json, modelID: call.modelID, thinking: thinking,
                                                  stream: stream, provider: name)
        let dropped = AnthropicParameters.droppedFields(call.request.json)
        if !dropped.isEmpty { Log.debug("\(name): not sent (no Anthropic equivalent): \(dropped.joined(separator: ", "))") }
        return body
    }

    private func notEventStream(_ body: [UInt8], call: ChatCall, token: String?) -> ModelsError {
        ModelsError(.protocol, "\(name) did not answer with an event stream: \(ProviderErrors.message(inBody: body, secrets: secrets(call, token)))")
    }

    /// The key or token, the configured header values, the values of the
    /// base URL's query and the call's extra header values: an error message may quote them.
    private func secrets(_ call: ChatCall, _ token: String?) -> [String] {
        (apiKey.map { [$0] } ?? []) + (token.map { [$0] } ?? []) + headers.map(\.value) + BaseURL.queryValues(baseURL)
            + call.extraHeaders.map(\.value)
    }

    /// Sends the request and waits for a 2xx head. A 400 that rejects thinking
    /// is retried once with thinking removed, as a user of the API would.
    private func sendRetryingWithoutThinking(_ body: JSON, call: ChatCall, stream: Bool, token: String?) throws(ModelsError) -> HTTPTransfer {
        var body = body
        var retried = false
        while true {
            let transfer = try HTTPTransfer(request(body, stream: stream, call: call, token: token), limits: call.limits,
                                            cancellation: call.cancellation)
            let head: HTTPResponseHead
            do { head = try transfer.awaitHead() } catch {
                transfer.close()
                throw error
            }
            if head.isSuccess { return transfer }
            let error = refusal(httpError(transfer, secrets: secrets(call, token)), token: token)
            transfer.close()
            if !retried, let without = withoutThinking(body, after: error, call: call) {
                body = without
                retried = true
                continue
            }
            throw error
        }
    }

    /// The request body without thinking, when `error` is a 400 that rejects
    /// thinking and the body asked for it; nil otherwise.
    private func withoutThinking(_ body: JSON, after error: ModelsError, call: ChatCall) -> JSON? {
        guard body["thinking"] != nil, AnthropicRequest.isThinkingRejection(status: error.status, message: error.message) else { return nil }
        Log.info("\(name) rejected extended thinking for \(call.modelID); retrying once without it")
        return AnthropicRequest.withoutThinking(body)
    }

    /// An HTTP error answer with Anthropic's error type next to its message
    /// ("anthropic answered HTTP 529: overloaded_error: Overloaded"), as stream
    /// error events are reported; other bodies as for any provider.
    private func httpError(_ transfer: HTTPTransfer, secrets: [String]) -> ModelsError {
        httpError(transfer.head, (try? transfer.readBody(limit: ProviderExchange.errorBodyBytes, truncate: true)) ?? [], secrets: secrets)
    }

    private func httpError(_ head: HTTPResponseHead, _ body: [UInt8], secrets: [String]) -> ModelsError {
        guard let json = try? JSON.parse(body), let (type, message) = AnthropicResponse.error(in: json) else {
            return ProviderErrors.httpError(provider: name, head: head, body: body, secrets: secrets)
        }
        let status = head.status
        return .api(status: status, message: "\(name) answered HTTP \(status): \(type): \(Redact.secrets(message, known: secrets))",
                    retryAfterMs: head.retryAfterMs, kind: ErrorKind.refusal(status: status, codes: [type], message: message))
    }

    private func request(_ body: JSON, stream: Bool, call: ChatCall, token: String?) -> HTTPRequest {
        var headers: [(name: String, value: String)] = [
            ("Content-Type", "application/json"),
            ("Accept", stream ? "text/event-stream" : "application/json"),
            ("anthropic-version", Self.apiVersion),
        ]
        if let token, let tokenAuth {
            headers.append(tokenAuth.placement == .bearer ? ("Authorization", "Bearer \(token)") : ("x-api-key", token))
        } else if let apiKey, !apiKey.isEmpty {
            headers.append(("x-api-key", apiKey))
        }
        headers += self.headers
        var request = HTTPRequest(method: .post, url: BaseURL.appending("/messages", to: baseURL), headers: headers,
                                  body: body.serializedBytes())
        request.add(extraHeaders: call.extraHeaders, extraQuery: call.extraQuery)
        return request
    }
}

extension AnthropicProvider: ExchangeProvider, TokenSourcedProvider {
    package var tokenSource: (any TokenSource)? { tokenAuth?.source }

    public func chatExchange(_ call: ChatCall) throws(ModelsError) -> ChatExchange {
        let body = try translate(call, stream: false)
        let token = try token(call)
        let secrets = secrets(call, token)
        return ChatExchange(
            request: request(body, stream: false, call: call, token: token), secrets: secrets,
            answer: { _, bytes throws(ModelsError) in try self.answer(bytes, call: call, token: token) },
            failure: { head, bytes in self.refusal(self.httpError(head, bytes, secrets: secrets), token: token) },
            retryInstead: { error in
                self.withoutThinking(body, after: error, call: call).map { self.request($0, stream: false, call: call, token: token) }
            })
    }

    public func streamExchange(_ call: ChatCall) throws(ModelsError) -> StreamExchange {
        let body = try translate(call, stream: true)
        let token = try token(call)
        let secrets = secrets(call, token), name = self.name, jsonAnswer = AnthropicRequest.jsonAnswerName(call.request.json)
        return StreamExchange(
            request: request(body, stream: true, call: call, token: token), secrets: secrets,
            failure: { head, bytes in self.refusal(self.httpError(head, bytes, secrets: secrets), token: token) },
            notEventStream: { _, bytes in self.notEventStream(bytes, call: call, token: token) },
            retryInstead: { error in
                self.withoutThinking(body, after: error, call: call).map { self.request($0, stream: true, call: call, token: token) }
            },
            decoder: { AnthropicStreamDecoder(provider: name, model: call.model, secrets: secrets, jsonAnswer: jsonAnswer) })
    }
}

/// Anthropic's event stream as bytes come: events parsed and translated into chunks.
final class AnthropicStreamDecoder: StreamDecoder {
    private var parser = SSEParser()
    private var translator: AnthropicStreamTranslator
    private(set) var finished = false
    /// The API key: an error event may quote it back.
    private let secrets: [String]
    private let provider: String

    init(provider: String, model: String, secrets: [String], jsonAnswer: String?) {
        self.provider = provider
        self.secrets = secrets
        translator = AnthropicStreamTranslator(model: model, created: Int64(time(nil)), provider: provider, jsonAnswer: jsonAnswer)
    }

    var usage: (input: Int64, output: Int64) { (translator.inputTokens, translator.outputTokens) }

    var endedEarly: ModelsError { ModelsError(.protocol, "stream from \(provider) ended before completion (no message_stop)") }

    func feed(_ bytes: UnsafeRawBufferPointer, to outlet: ChunkOutlet, onEvent: () -> Void) throws(ModelsError) {
        try parser.feed(bytes) { event throws(ModelsError) in try self.handle(event, outlet, onEvent) }
    }

    private func handle(_ event: borrowing SSEEvent, _ outlet: ChunkOutlet, _ onEvent: () -> Void) throws(ModelsError) {
        guard !finished else { return }
        let data: JSON
        do { data = try JSON.parse(event.data) } catch {
            throw ModelsError(.protocol, "stream from \(provider) sent an event that is not valid JSON")
        }
        let type = event.type.count == 0 ? "" : event.typeString
        // Pings keep the connection busy, not the answer going: they do not reset the idle timer.
        if (type.isEmpty ? data["type"]?.string : type) != "ping" { onEvent() }
        let output: AnthropicStreamTranslator.Output
        do { output = try translator.translate(type: type, data: data) } catch {
            var redacted = error
            redacted.message = Redact.secrets(error.message, known: secrets)
            throw redacted
        }
        switch output {
        case .chunk(let chunk):
            try outlet.chunk(json: chunk)
        case .thinking(let text):
            outlet.thinking(text)
        case .nothing:
            break
        case .end:
            finished = true
        }
    }
}
