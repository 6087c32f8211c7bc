// SPDX-License-Identifier: Apache-2.0
import Glibc
import Models
import ModelsCore
import ModelsProviders
import Synchronization

/// The C layout of `models_token_callbacks` in models.h.
public struct TokenCallbacks {
    public var size: Int
    public var getToken: (@convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                                          UnsafeMutablePointer<Int64>?, UnsafeMutablePointer<OpaquePointer?>?) -> Int32)?
    public var destroy: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?
    public var sendAs: Int32
}

/// `send_as` of models_token_callbacks.
enum TokenSendAs: Int32 {
    case bearer = 0
    case apiKey = 1

    var placement: TokenPlacement { self == .bearer ? .bearer : .apiKey }
}

/// A C program's `get_token`, called on the thread that needs a token (the
/// requesting thread, or a worker thread of an engine), at most one at a time
/// per source. `destroy` runs once the provider is released and no request uses it.
final class CallbackToken: @unchecked Sendable { // the table is immutable; the user pointer is the program's, never dereferenced here
    private let table: TokenCallbacks
    /// The caller's pointer, kept as bits: the library never dereferences it.
    private let userBits: UInt
    /// False once registration failed: the program keeps `user` and destroy is not called.
    private let armed = Atomic<Bool>(true)

    init(_ table: TokenCallbacks, user: UnsafeMutableRawPointer?) {
        self.table = table
        userBits = UInt(bitPattern: user)
    }

    deinit {
        if armed.load(ordering: .acquiring) { table.destroy?(UnsafeMutableRawPointer(bitPattern: userBits)) }
    }

    func disarm() { armed.store(false, ordering: .releasing) }

    /// One call of `get_token`: the token it set (taken over and freed) and its expiry.
    func fetch() throws(ModelsError) -> (token: String, expiresAt: Int64) {
        var out: UnsafeMutablePointer<CChar>?
        var expiresAt: Int64 = 0
        var reported: OpaquePointer?
        let code = table.getToken!(UnsafeMutableRawPointer(bitPattern: userBits), &out, &expiresAt, &reported)
        defer { free(out) }
        guard code == ModelsCode.ok.rawValue else { throw CallbackFailure.error(code, reported) }
        if let reported { models_error_free(reported) }
        guard let out else { throw ModelsError(.protocol, "get_token returned MODELS_OK and no token") }
        guard let token = CStrings.string(UnsafePointer(out), limit: TokenText.maxBytes) else {
            throw ModelsError(.protocol, "get_token gave a token longer than \(TokenText.maxBytes) bytes or not UTF-8")
        }
        return (token, expiresAt)
    }
}

/// What a callback of the program reported as its failure: the error it set
/// (taken over and freed), else its code (a value that is not a negative
/// models_code counts as MODELS_ERR_API). The message may quote a secret by
/// mistake: it is redacted by whoever builds the final message.
enum CallbackFailure {
    static func error(_ code: Int32, _ reported: OpaquePointer?) -> ModelsError {
        if let reported {
            let error = ErrorObject.from(reported).error
            models_error_free(reported)
            return error
        }
        let c = ModelsCode(rawValue: code).flatMap { $0.rawValue < 0 ? $0 : nil } ?? .api
        return ModelsError(c, "returned \(c.name)")
    }
}

@_cdecl("models_router_set_token_source")
public func models_router_set_token_source(_ r: OpaquePointer?, _ provider: UnsafePointer<CChar>?, _ source: UnsafeRawPointer?,
                                           _ user: UnsafeMutableRawPointer?, _ err: ErrorOut?) -> Int32 {
    let function = "models_router_set_token_source"
    do throws(ModelsError) {
        let router = try routerObject(r, function: function).router
        guard let provider else { throw .invalidArgument("\(function): provider is NULL") }
        guard let name = CStrings.string(provider, limit: 256), !name.isEmpty else {
            throw .invalidArgument("\(function): provider is empty, not valid UTF-8 or longer than 256 bytes")
        }
        guard let source else { throw .invalidArgument("\(function): source is NULL") }
        // The C struct ends in an int: its sizeof is the stride (padded), not Swift's size.
        try StructSize.check(source, expected: MemoryLayout<TokenCallbacks>.stride,
                             what: "\(function): source->size", type: "models_token_callbacks")
        let table = source.load(as: TokenCallbacks.self)
        guard table.getToken != nil else { throw .invalidArgument("\(function): source->get_token is NULL") }
        guard let sendAs = TokenSendAs(rawValue: table.sendAs) else {
            throw .invalidArgument("\(function): source->send_as is \(table.sendAs), not MODELS_TOKEN_BEARER or MODELS_TOKEN_API_KEY")
        }
        // Made only once every check passed: a refused source is never destroyed.
        let callback = CallbackToken(table, user: user)
        let refreshing = RefreshingTokenSource(provider: name) { _ throws(ModelsError) in try callback.fetch() }
        do {
            try router.setTokenSource(TokenAuth(source: refreshing, placement: sendAs.placement), provider: name, function: function)
        } catch {
            // The provider was not replaced: the caller keeps `user`, destroy is not called.
            callback.disarm()
            throw error
        }
        return succeed(err)
    } catch {
        return fail(error, err)
    }
}
