// SPDX-License-Identifier: Apache-2.0
/// The outcome codes of the C API (`models_code` in models.h), in the core's terms.
public enum ModelsCode: Int32, Sendable, CaseIterable {
    case ok = 0
    case done = 1
    case invalidArgument = -1
    case noProvider = -2
    case api = -3
    case transport = -4
    case timeout = -5
    case cancelled = -6
    case `protocol` = -7
    case allCooldown = -8
    case allFailed = -9
    case noMemory = -10

    /// The C enumerator's name, e.g. `MODELS_ERR_API`.
    public var name: String {
        switch self {
        case .ok: return "MODELS_OK"
        case .done: return "MODELS_DONE"
        case .invalidArgument: return "MODELS_ERR_INVALID_ARGUMENT"
        case .noProvider: return "MODELS_ERR_NO_PROVIDER"
        case .api: return "MODELS_ERR_API"
        case .transport: return "MODELS_ERR_TRANSPORT"
        case .timeout: return "MODELS_ERR_TIMEOUT"
        case .cancelled: return "MODELS_ERR_CANCELLED"
        case .protocol: return "MODELS_ERR_PROTOCOL"
        case .allCooldown: return "MODELS_ERR_ALL_COOLDOWN"
        case .allFailed: return "MODELS_ERR_ALL_FAILED"
        case .noMemory: return "MODELS_ERR_NOMEM"
        }
    }
}

/// Every failure the core reports: a code, a message fit for a user (never a
/// secret), and what the router needs to classify it.
public struct ModelsError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: ModelsCode
    public var message: String
    /// The HTTP status of the provider's answer; 0 when there was none.
    public var status: Int
    /// The provider's Retry-After in milliseconds; 0 when it gave none.
    public var retryAfterMs: Int64
    /// Whether trying the same model again may succeed (the router retries these).
    public var isTransient: Bool
    /// Set when the provider's answer says more than the code and status do
    /// (a 400 that is a context-window or content-policy refusal).
    private var specificKind: ErrorKind?

    public init(_ code: ModelsCode, _ message: String, status: Int = 0, retryAfterMs: Int64 = 0,
                isTransient: Bool = false, kind: ErrorKind? = nil) {
        self.code = code
        self.message = message
        self.status = status
        self.retryAfterMs = retryAfterMs
        self.isTransient = isTransient
        self.specificKind = kind
    }

    /// What kind of failure this is.
    public var kind: ErrorKind {
        get { specificKind ?? ErrorKind.of(code: code, status: status) }
        set { specificKind = newValue }
    }

    public var description: String { "\(code.name): \(message)" }

    public static func invalidArgument(_ message: String) -> ModelsError { ModelsError(.invalidArgument, message) }

    /// An HTTP error answer. Transience follows the status: 408, 429, 500, 502, 503,
    /// 504 and 529 may pass; every other status (400, 401, 403, 404, 422, ...) will not.
    public static func api(status: Int, message: String, retryAfterMs: Int64 = 0, kind: ErrorKind? = nil) -> ModelsError {
        ModelsError(.api, message, status: status, retryAfterMs: retryAfterMs,
                    isTransient: isTransientStatus(status), kind: kind)
    }

    public static func isTransientStatus(_ status: Int) -> Bool {
        switch status {
        case 408, 429, 500, 502, 503, 504, 529: return true
        default: return false
        }
    }
}
