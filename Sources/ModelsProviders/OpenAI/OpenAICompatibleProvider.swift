// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsTransport

/// Any provider that speaks OpenAI Chat Completions: `POST {base}/chat/completions`
/// with a bearer key. GitHub Copilot is one too, with its own credentials and
/// headers, and so is Azure OpenAI, with a URL per deployment and an `api-key` header.
public final class OpenAICompatibleProvider: ChatProvider {
    /// Where and how to authenticate one request. Copilot's change per request.
    public struct Endpoint: Sendable {
        public var baseURL: String
        public var bearer: String?
        public var headers: [(name: String, value: String)]
        /// Values that must not reach a message or a log line besides the bearer:
        /// those of the configured headers (an Azure `api-key`, a custom auth header).
        public var secrets: [String]
        /// Called when the provider answers HTTP 401 to these credentials (a
        /// token source then hands them out no more).
        package var refused: (@Sendable () -> Void)?

        public init(baseURL: String, bearer: String?, headers: [(name: String, value: String)] = [], secrets: [String] = []) {
            self.init(baseURL: baseURL, bearer: bearer, headers: headers, secrets: secrets, refused: nil)
        }

        package init(baseURL: String, bearer: String?, headers: [(name: String, value: String)] = [], secrets: [String] = [],
                     refused: (@Sendable () -> Void)?) {
            self.baseURL = baseURL
            self.bearer = bearer
            self.headers = headers
            self.secrets = secrets + BaseURL.queryValues(baseURL)
            self.refused = refused
        }
    }

    /// What an endpoint computed per request learns of that request.
    package struct EndpointQuery: Sendable {
        package var cancellation: Cancellation?
        /// A token the engine fetched for the attempt; nil: ask the token source.
        package var prefetchedToken: String?
    }

    /// The URL and headers of one kind of request (chat or stream) to an endpoint.
    private struct Target: Sendable {
        var url: String
        var embeddingsURL: String
        var headers: [(name: String, value: String)]
        var secrets: [String]
        var refused: (@Sendable () -> Void)?

        init(_ endpoint: Endpoint, stream: Bool) {
            url = BaseURL.appending("/chat/completions", to: endpoint.baseURL)
            embeddingsURL = BaseURL.appending("/embeddings", to: endpoint.baseURL)
            refused = endpoint.refused
            headers = [("Content-Type", "application/json"), ("Accept", stream ? "text/event-stream" : "application/json")]
            if let bearer = endpoint.bearer, !bearer.isEmpty { headers.append(("Authorization", "Bearer \(bearer)")) }
            headers += endpoint.headers
            secrets = (endpoint.bearer.map { [$0] } ?? []) + endpoint.secrets
        }
    }

    public let name: String
    private let endpoint: @Sendable (EndpointQuery) throws(ModelsError) -> Endpoint
    private let http1Only: Bool
    /// A fixed endpoint's targets, built once (the same strings every request
    /// also let the transfer see at a glance that its curl handle is set up).
    private let fixed: (chat: Target, stream: Target)?
    /// Azure: the URL of a request depends on its model id (the deployment),
    /// and an answer its content filter stopped is a `content_policy` error.
    private let azure: AzureEndpoint?
    /// Where the requests' token comes from, when a token source gives it.
    package let tokenSource: (any TokenSource)?

    /// A provider with a fixed base URL and key. The values of `headers` are
    /// treated as secrets, as the key is.
    public init(name: String, baseURL: String, apiKey: String?, headers: [(name: String, value: String)] = []) {
        let endpoint = Endpoint(baseURL: baseURL, bearer: apiKey, headers: headers, secrets: headers.map(\.value))
        self.name = name
        self.http1Only = false
        self.endpoint = { _ throws(ModelsError) in endpoint }
        fixed = (Target(endpoint, stream: false), Target(endpoint, stream: true))
        azure = nil
        tokenSource = nil
    }

    /// An Azure OpenAI provider: its key goes in the `api-key` header (never
    /// `Authorization`; an `api-key` among `headers` replaces it), the URL
    /// comes from `azure` and the model id.
    public init(name: String, azure: AzureEndpoint, apiKey: String?, headers: [(name: String, value: String)] = []) {
        let keyInHeaders = headers.contains { $0.name.lowercased() == "api-key" }
        let auth = keyInHeaders ? [] : apiKey.map { [(name: "api-key", value: $0)] } ?? []
        let endpoint = Endpoint(baseURL: azure.root, bearer: nil, headers: auth + headers,
                                secrets: (apiKey.map { [$0] } ?? []) + headers.map(\.value))
        self.name = name
        self.http1Only = false
        self.endpoint = { _ throws(ModelsError) in endpoint }
        fixed = (Target(endpoint, stream: false), Target(endpoint, stream: true))
        self.azure = azure
        tokenSource = nil
    }

    /// A provider whose endpoint is computed for every request (GitHub Copilot),
    /// at Azure's URLs when `azure` is given.
    package init(name: String, http1Only: Bool, azure: AzureEndpoint? = nil, tokenSource: (any TokenSource)? = nil,
                endpoint: @escaping @Sendable (EndpointQuery) throws(ModelsError) -> Endpoint) {
        self.name = name
        self.http1Only = http1Only
        self.endpoint = endpoint
        fixed = nil
        self.azure = azure
        self.tokenSource = tokenSource
    }

    /// A provider whose token comes from `auth` for every request, sent as
    /// `Authorization: Bearer` (OpenAI-compatible), or at Azure's URLs (with
    /// `azure`) as `Authorization: Bearer` (an Entra ID token: no `api-key` is
    /// sent) or as the `api-key` header (`placement` .apiKey). The values of
    /// `headers` are secrets, as the token is.
    package convenience init(name: String, baseURL: String, azure: AzureEndpoint? = nil, token auth: TokenAuth,
                            headers: [(name: String, value: String)] = []) {
        let source = auth.source
        // At Azure, the token replaces every api-key: configured, or in the headers.
        let sent = azure == nil ? headers : headers.filter { $0.name.lowercased() != "api-key" }
        let asAPIKey = azure != nil && auth.placement == .apiKey
        let secrets = headers.map(\.value)
        self.init(name: name, http1Only: false, azure: azure, tokenSource: source) { call throws(ModelsError) in
            let token: String
            if let prefetched = call.prefetchedToken { token = prefetched } else { token = try source.token(call.cancellation) }
            let refused: @Sendable () -> Void = { source.refused(token) }
            guard asAPIKey else { return Endpoint(baseURL: baseURL, bearer: token, headers: sent, secrets: secrets, refused: refused) }
            return Endpoint(baseURL: baseURL, bearer: nil, headers: [(name: "api-key", value: token)] + sent,
                            secrets: [token] + secrets, refused: refused)
        }
    }

    public func chat(_ call: ChatCall) throws(ModelsError) -> ChatAnswer {
        let (transfer, secrets, target) = try start(call, stream: false)
        defer { transfer.close() }
        let head = try transfer.awaitHead()
        guard head.isSuccess else { throw refusal(ProviderErrors.fromTransfer(transfer, provider: name, secrets: secrets), target) }
        return try answer(try transfer.readBody(limit: call.limits.maxBodyBytes), status: head.status, secrets: secrets)
    }

    /// A 2xx answer's body: passed back as the provider sent it, checked, not parsed.
    private func answer(_ bytes: [UInt8], status: Int, secrets: [String]) throws(ModelsError) -> ChatAnswer {
        let scan = bytes.withUnsafeBytes { Self.answerScanner.scan($0) }
        if scan.kind == .object, !scan.topLevelKeyHasEscape, !scan.hasDuplicateKey, scan.depth <= JSON.maxDepth,
           let choices = scan.range(of: 0),
           bytes[choices.lowerBound] == UInt8(ascii: "[") {
            if azure != nil, let refusal = AzureContentFilter.refusal(inAnswer: bytes, provider: name) { throw refusal }
            return ChatAnswer(checkedBytes: bytes, model: scan.range(of: 1))
        }
        // Anything else is an error to describe (nesting too deep included), or a key
        // spelled with escapes or repeated (the model splice needs the one "model"): parse it.
        let json = try parsedAnswer(bytes, status: status, secrets: secrets)
        if azure != nil, let refusal = AzureContentFilter.refusal(inAnswer: bytes, provider: name) { throw refusal }
        return ChatAnswer(json: json)
    }

    /// Looks for `choices` and `model` at the top level of an answer.
    private static let answerScanner = JSONScanner(keys: "choices", "model")

    private func parsedAnswer(_ bytes: [UInt8], status: Int, secrets: [String]) throws(ModelsError) -> JSON {
        let json: JSON
        do { json = try JSON.parse(bytes) } catch {
            throw ModelsError(.protocol, "\(name) answered with invalid JSON: \(error.message)")
        }
        guard json.kind == .object else { throw ModelsError(.protocol, "\(name) answered with \(json.kindName), not an object") }
        if json["error"] != nil, json["choices"] == nil {
            throw ModelsError(.api, "\(name) answered with an error: \(ProviderErrors.message(inBody: bytes, secrets: secrets))",
                              status: status)
        }
        guard json["choices"]?.kind == .array else { throw ModelsError(.protocol, "\(name) answered without \"choices\"") }
        return json
    }

    public func openStream(_ call: ChatCall) throws(ModelsError) -> any ProviderStream {
        let (transfer, secrets, target) = try start(call, stream: true)
        do throws(ModelsError) {
            let head = try transfer.awaitHead()
            guard head.isSuccess else { throw refusal(ProviderErrors.fromTransfer(transfer, provider: name, secrets: secrets), target) }
            guard head.isEventStream else {
                // Some servers answer a stream request with a JSON error and status 200.
                let body = (try? transfer.readBody(limit: ProviderExchange.errorBodyBytes, truncate: true)) ?? []
                throw notEventStream(head, body, secrets: secrets)
            }
            let decoder = OpenAIStreamDecoder(provider: name, secrets: secrets, model: call.model,
                                              contentFilterIsRefusal: azure != nil)
            return DecodedStream(transfer: transfer, decoder: decoder)
        } catch {
            transfer.close()
            throw error
        }
    }

    private func notEventStream(_ head: HTTPResponseHead, _ body: [UInt8], secrets: [String]) -> ModelsError {
        let text = ProviderErrors.message(inBody: body, secrets: secrets)
        return ModelsError(.protocol, "\(name) did not answer with an event stream (Content-Type \"\(head.contentType)\"): \(text)")
    }

    private func start(_ call: ChatCall, stream: Bool) throws(ModelsError) -> (HTTPTransfer, [String], Target) {
        let (request, secrets, target) = try request(call, stream: stream)
        return (try HTTPTransfer(request, limits: call.limits, cancellation: call.cancellation), secrets, target)
    }

    /// An HTTP error answer; a 401 tells the token source that its token was refused.
    private func refusal(_ error: ModelsError, _ target: Target) -> ModelsError {
        if error.status == 401 { target.refused?() }
        return error
    }

    /// The request of one attempt, the secrets its answers may quote, and its target.
    private func request(_ call: ChatCall, stream: Bool) throws(ModelsError) -> (HTTPRequest, [String], Target) {
        let target: Target
        if let fixed { target = stream ? fixed.stream : fixed.chat } else {
            target = Target(try endpoint(EndpointQuery(cancellation: call.cancellation, prefetchedToken: call.prefetchedToken)), stream: stream)
        }
        let body = OpenAIRequest.body(call.request, modelID: call.modelID, stream: stream)
        let url = azure.map { $0.chatURL(modelID: call.modelID) } ?? target.url
        var request = HTTPRequest(method: .post, url: url, headers: target.headers, body: body)
        request.http1Only = http1Only
        request.add(extraHeaders: call.extraHeaders, extraQuery: call.extraQuery)
        return (request, call.extraHeaders.isEmpty ? target.secrets : target.secrets + call.extraHeaders.map(\.value), target)
    }

    /// The request of one embeddings attempt (`POST {base}/embeddings`), the
    /// secrets its answers may quote, and what to do with an HTTP error (a 401
    /// tells the token source, as for chat).
    func embeddingsRequest(_ call: EmbeddingsCall) throws(ModelsError)
        -> (request: HTTPRequest, secrets: [String], refusal: @Sendable (ModelsError) -> ModelsError)
    {
        let target: Target
        if let fixed { target = fixed.chat } else {
            target = Target(try endpoint(EndpointQuery(cancellation: call.cancellation, prefetchedToken: call.prefetchedToken)), stream: false)
        }
        let url = azure.map { $0.embeddingsURL(modelID: call.modelID) } ?? target.embeddingsURL
        var request = HTTPRequest(method: .post, url: url, headers: target.headers, body: call.request.body(modelID: call.modelID))
        request.http1Only = http1Only
        request.add(extraHeaders: call.extraHeaders, extraQuery: call.extraQuery)
        let secrets = call.extraHeaders.isEmpty ? target.secrets : target.secrets + call.extraHeaders.map(\.value)
        let refused = target.refused
        return (request, secrets, { error in
            if error.status == 401 { refused?() }
            return error
        })
    }
}

extension OpenAICompatibleProvider: ExchangeProvider, TokenSourcedProvider {
    public func chatExchange(_ call: ChatCall) throws(ModelsError) -> ChatExchange {
        let (request, secrets, target) = try request(call, stream: false)
        let name = self.name
        return ChatExchange(
            request: request, secrets: secrets,
            answer: { head, body throws(ModelsError) in try self.answer(body, status: head.status, secrets: secrets) },
            failure: { head, body in self.refusal(ProviderErrors.httpError(provider: name, head: head, body: body, secrets: secrets), target) })
    }

    public func streamExchange(_ call: ChatCall) throws(ModelsError) -> StreamExchange {
        let (request, secrets, target) = try request(call, stream: true)
        let name = self.name
        return StreamExchange(
            request: request, secrets: secrets,
            failure: { head, body in self.refusal(ProviderErrors.httpError(provider: name, head: head, body: body, secrets: secrets), target) },
            notEventStream: { head, body in self.notEventStream(head, body, secrets: secrets) },
            decoder: { [azure] in
                OpenAIStreamDecoder(provider: name, secrets: secrets, model: call.model, contentFilterIsRefusal: azure != nil)
            })
    }
}
