// SPDX-License-Identifier: Apache-2.0
/// What kind of failure an error is: what a caller branches on and what the
/// fallback policy (`fallback_on`) decides by. The raw values are the names of
/// the C API (`models_error_kind`) and of the config.
public enum ErrorKind: String, Sendable, CaseIterable {
    case rateLimit = "rate_limit"
    case auth
    case notFound = "not_found"
    case contextWindow = "context_window"
    case contentPolicy = "content_policy"
    case badRequest = "bad_request"
    case server
    case timeout
    case transport
    case `protocol`
    case cancelled
    case invalidArgument = "invalid_argument"
    case noProvider = "no_provider"
    case allCooldown = "all_cooldown"
    case allFailed = "all_failed"
    case noMemory = "no_memory"

    /// The kinds a provider's failure can have: the values `fallback_on` takes.
    public static let providerFailures: [ErrorKind] = [
        .rateLimit, .auth, .notFound, .contextWindow, .contentPolicy, .badRequest, .server, .timeout, .transport, .protocol,
    ]

    /// The kind of an error with `code` and HTTP `status` when nothing more is
    /// known (the provider's message can make a 400 a context-window error).
    public static func of(code: ModelsCode, status: Int) -> ErrorKind {
        switch code {
        case .api: return ofStatus(status)
        case .timeout: return .timeout
        case .transport: return .transport
        case .protocol: return .protocol
        case .cancelled: return .cancelled
        case .invalidArgument, .ok, .done: return .invalidArgument
        case .noProvider: return .noProvider
        case .allCooldown: return .allCooldown
        case .allFailed: return .allFailed
        case .noMemory: return .noMemory
        }
    }

    /// An HTTP error status as a kind; an error without one (an error event
    /// inside a stream) is the server's.
    static func ofStatus(_ status: Int) -> ErrorKind {
        switch status {
        case 429: return .rateLimit
        case 401, 403: return .auth
        case 404: return .notFound
        case 408: return .timeout
        case 400...499: return .badRequest
        default: return .server
        }
    }
}
