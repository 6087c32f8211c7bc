// SPDX-License-Identifier: Apache-2.0

/// One HTTP request as a provider builds it.
public struct HTTPRequest: Sendable {
    public enum Method: String, Sendable { case get = "GET", post = "POST" }

    public var method: Method
    public var url: String
    /// Header lines as name and value. Secrets (Authorization) travel here and
    /// nowhere else: they are never logged.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// Restricts the transfer to HTTP/1.1 (GitHub Copilot times out on HTTP/2).
    public var http1Only = false

    public init(method: Method, url: String, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// Adds a call's extra headers (one with the name of a header already set
    /// replaces it, whatever its case) and query parameters.
    public mutating func add(extraHeaders: [(name: String, value: String)], extraQuery: String) {
        for extra in extraHeaders {
            let name = extra.name.lowercased()
            headers.removeAll { $0.name.lowercased() == name }
            headers.append(extra)
        }
        if !extraQuery.isEmpty { url = Self.url(url, addingQuery: extraQuery) }
    }

    /// `url` with the parameters of `query` added; a parameter of the URL
    /// named in `query` is replaced by it. Names are compared as written.
    static func url(_ url: String, addingQuery query: String) -> String {
        guard let q = url.utf8.firstIndex(of: UInt8(ascii: "?")) else { return url + "?" + query }
        func name(_ pair: Substring) -> Substring { pair.prefix { $0 != "=" } }
        let replaced = Set(query.split(separator: "&").map(name))
        let kept = url[url.index(after: q)...].split(separator: "&").filter { !replaced.contains(name($0)) }
        return String(url[..<q]) + "?" + (kept + [Substring(query)]).joined(separator: "&")
    }
}

/// When a transfer must give up. Deadlines are absolute times of `MonotonicClock`.
public struct TransferLimits: Sendable {
    /// The response headers must have arrived by then (time to first byte).
    public var headersDeadlineMs: Int64
    /// The whole transfer must be over by then; nil for streams, whose body is
    /// bounded by `idleTimeoutMs` and `streamDeadline`.
    public var totalDeadlineMs: Int64?
    /// A stream that completes no event for this long fails with a timeout.
    public var idleTimeoutMs: Int64
    /// When a stream's body must have ended, and the configured duration that
    /// set it (for the message); nil: no limit.
    public var streamDeadline: (atMs: Int64, afterMs: Int64)?
    /// The largest body read into memory (non-streaming answers and error bodies).
    public var maxBodyBytes: Int = 10 << 20

    public init(headersDeadlineMs: Int64, totalDeadlineMs: Int64?, idleTimeoutMs: Int64) {
        self.headersDeadlineMs = headersDeadlineMs
        self.totalDeadlineMs = totalDeadlineMs
        self.idleTimeoutMs = idleTimeoutMs
    }
}

/// The status line and the headers the library reads.
public struct HTTPResponseHead: Sendable {
    public var status: Int = 0
    public var contentType: String = ""
    public var retryAfter: String?
    /// AWS's `x-amzn-ErrorType` (`ThrottlingException:http://...`): the exception an error answer names.
    public var awsErrorType: String?
    /// Bedrock's `X-Amzn-Bedrock-Input-Token-Count` (the input tokens an InvokeModel call counted), as sent.
    public var bedrockInputTokens: String?

    public var isSuccess: Bool { (200..<300).contains(status) }
    /// Server-sent events, or AWS's binary event stream (Bedrock's ConverseStream).
    public var isEventStream: Bool {
        let type = contentType.lowercased()
        return type.hasPrefix("text/event-stream") || type.hasPrefix("application/vnd.amazon.eventstream")
    }
    public var retryAfterMs: Int64 { retryAfter.flatMap { RetryAfter.milliseconds($0) } ?? 0 }
}
