// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsTransport

/// What one call may change of the router's behaviour, apart from the request
/// body: its timeouts, retries, fallbacks, extra HTTP headers and query
/// parameters, and metadata that is only handed back in events.
///
/// Read from JSON like the config, with the same care: unknown keys are errors
/// that suggest the key meant, wrong types and out-of-range numbers name the
/// key, and header values are never echoed.
public struct CallOptions: Sendable {
    /// Each model's time limit, retries included (the config's `timeout_ms`).
    public var timeoutMs: Int64?
    /// Retries per model after its first attempt (the config's `max_retries`).
    public var maxRetries: Int?
    /// The models to fall back to in place of the configured ones; empty: none.
    public var fallbacks: [String]?
    public var streamIdleTimeoutMs: Int64?
    public var streamTimeoutMs: Int64?
    /// Sent with every attempt; a name the provider also sets replaces its value.
    public var extraHeaders: [(name: String, value: String)] = []
    /// Added to every attempt's URL, already percent-encoded (`a=1&b=x%20y`).
    public var extraQuery = ""
    /// The caller's metadata object as compact JSON text, opaque to the router.
    public var metadata: String?
    /// Adds (true) or leaves out (false) the answer's `x_libmodels` member; nil: the config decides.
    public var xLibmodels: Bool?
    /// Hedging for this call (`hedge_after_ms`): 0 turns it off; nil: the config decides.
    public var hedgeAfterMs: Int64?
    /// What a stream does when it breaks after its first word; nil: the config's `stream_recovery`.
    public var streamRecovery: StreamRecovery?

    public init() {}

    static let keys = [
        "timeout_ms", "max_retries", "fallbacks", "stream_idle_timeout_ms", "stream_timeout_ms",
        "extra_headers", "extra_query", "metadata", "x_libmodels", "hedge_after_ms",
        "stream_recovery",
    ]

    /// Headers the transfer itself owns: replacing them would break the request.
    static let reservedHeaders: Set<String> = ["host", "content-length", "transfer-encoding", "connection", "expect"]

    /// The largest options text accepted.
    public static let maxTextBytes = 1 << 20

    /// Parses and validates options JSON text.
    public init(text: UnsafeRawBufferPointer) throws(ModelsError) {
        guard text.count <= Self.maxTextBytes else {
            throw .invalidArgument("options: \(text.count) bytes is larger than the limit of \(Self.maxTextBytes)")
        }
        let json: JSON
        do { json = try JSON.parse(text) } catch {
            throw .invalidArgument("options: not valid JSON: \(error.message) (line \(error.line), column \(error.column))")
        }
        try self.init(json: json)
    }

    public init(json: JSON) throws(ModelsError) {
        let r = try ConfigReader(json, path: "", allowed: Self.keys, document: "options")
        let durations = 1...Int64(86_400_000)
        timeoutMs = try r.integer("timeout_ms", in: durations)
        maxRetries = try r.integer("max_retries", in: 0...100).map { Int($0) }
        fallbacks = try r.stringArray("fallbacks")
        for (i, model) in (fallbacks ?? []).enumerated() {
            if let problem = ModelName.problem(with: model) {
                throw .invalidArgument("options: \"fallbacks[\(i)]\" \(problem); model names look like \"provider/model-id\"")
            }
        }
        streamIdleTimeoutMs = try r.integer("stream_idle_timeout_ms", in: durations)
        streamTimeoutMs = try r.integer("stream_timeout_ms", in: durations)
        for (name, value) in try r.objectMembers("extra_headers") ?? [] {
            let key = "extra_headers.\(HeaderText.printableName(name))"
            guard let text = value.string else { throw .invalidArgument("options: \"\(key)\" must be a string, not \(value.kindName)") }
            guard HeaderText.isValidName(name), HeaderText.isValidValue(text) else {
                throw .invalidArgument("options: \"\(key)\" is not a valid HTTP header (a header name is letters, digits and -_.!#$%&'*+^`|~; a value has no control characters)")
            }
            guard !Self.reservedHeaders.contains(name.lowercased()) else {
                throw .invalidArgument("options: \"\(key)\" is set by the library and cannot be replaced")
            }
            extraHeaders.append((name, text))
        }
        var query: [String] = []
        for (name, value) in try r.objectMembers("extra_query") ?? [] {
            guard !name.isEmpty else { throw .invalidArgument("options: \"extra_query\" has an empty parameter name") }
            let text: String
            switch value.kind {
            case .string: text = value.string!
            case .integer, .real, .bool: text = value.serialized()
            default:
                throw .invalidArgument("options: \"extra_query.\(HeaderText.printableName(name))\" must be a string, number or boolean, not \(value.kindName)")
            }
            query.append(URLQuery.encode(name) + "=" + URLQuery.encode(text))
        }
        extraQuery = query.joined(separator: "&")
        if let m = json["metadata"] {
            guard m.kind == .object else { throw .invalidArgument("options: \"metadata\" must be an object, not \(m.kindName)") }
            metadata = m.serialized()
        }
        xLibmodels = try r.bool("x_libmodels")
        hedgeAfterMs = try r.integer("hedge_after_ms", in: 0...3_600_000)
        streamRecovery = try RouterConfig.readStreamRecovery(r, document: "options")
    }

    /// The values of the extra headers: kept out of log lines and error messages.
    public var secrets: [String] { extraHeaders.map(\.value) }
}

/// Percent-encoding for URL query parameters (RFC 3986 unreserved characters pass).
enum URLQuery {
    static func encode(_ text: String) -> String {
        var out = ""
        for b in text.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(b >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(b & 0xf)]))
            }
        }
        return out
    }
}
