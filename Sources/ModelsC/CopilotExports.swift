// SPDX-License-Identifier: Apache-2.0
import Glibc
import Models
import ModelsCore
import ModelsProviders
import ModelsTransport

/// The C layout of `models_token_source` in models.h (`size`, then three function pointers).
public struct TokenSourceCallbacks {
    public var size: Int
    public var getToken: (@convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                                          UnsafeMutablePointer<OpaquePointer?>?) -> Int32)?
    public var getAPIURL: (@convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                                           UnsafeMutablePointer<OpaquePointer?>?) -> Int32)?
    public var destroy: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?
}

/// A C program's token source: `get_token` then `get_api_url` on the requesting
/// thread, for every request. Whatever they report as a failure becomes a
/// permanent error (another try with the same source is not expected to help).
final class CallbackTokenSource: CopilotTokenSource, @unchecked Sendable {
    private let table: TokenSourceCallbacks
    /// The caller's pointer, kept as bits: the library never dereferences it.
    private let userBits: UInt

    init(_ table: TokenSourceCallbacks, user: UnsafeMutableRawPointer?) {
        self.table = table
        userBits = UInt(bitPattern: user)
    }

    /// Runs when the router no longer holds the provider and no request uses it.
    deinit { table.destroy?(UnsafeMutableRawPointer(bitPattern: userBits)) }

    func credentials(_ cancellation: Cancellation?) throws(ModelsError) -> CopilotCredentials {
        let token = try call(table.getToken!, what: "get_token")
        let url = try table.getAPIURL.map { (fn) throws(ModelsError) in try call(fn, what: "get_api_url") }
        return try CopilotCredentials.checked(token: token, apiURL: url ?? KnownProviders.copilotAPIURL,
                                              source: "github-copilot: the token source")
    }

    /// Calls one string-yielding callback and takes over (frees) what it set.
    private func call(_ fn: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                                            UnsafeMutablePointer<OpaquePointer?>?) -> Int32,
                      what: String) throws(ModelsError) -> String {
        var out: UnsafeMutablePointer<CChar>?
        var reported: OpaquePointer?
        let code = fn(UnsafeMutableRawPointer(bitPattern: userBits), &out, &reported)
        defer { free(out) }
        guard code == ModelsCode.ok.rawValue else {
            throw failure(code, reported, what: what)
        }
        if let reported { models_error_free(reported) }
        guard let out else { throw ModelsError(.protocol, "github-copilot: the token source's \(what) returned MODELS_OK and no string") }
        guard let text = CStrings.string(UnsafePointer(out), limit: 64 << 10) else {
            throw ModelsError(.protocol, "github-copilot: the token source's \(what) returned a string that is too long or not UTF-8")
        }
        return text
    }

    /// The source's failure, never transient: its code and status when it gave
    /// them, its message (with anything key-like masked) after ours.
    private func failure(_ code: Int32, _ reported: OpaquePointer?, what: String) -> ModelsError {
        var error: ModelsError
        if let reported {
            error = ErrorObject.from(reported).error
            models_error_free(reported)
        } else {
            let c = ModelsCode(rawValue: code).flatMap { $0.rawValue < 0 ? $0 : nil } ?? .api
            error = ModelsError(c, "returned \(c.name)")
        }
        error.message = "github-copilot: the token source failed in \(what): " + Redact.secrets(error.message, known: [])
        error.isTransient = false
        return error
    }
}

@_cdecl("models_router_add_copilot")
public func models_router_add_copilot(_ r: OpaquePointer?, _ source: UnsafeRawPointer?, _ user: UnsafeMutableRawPointer?,
                                      _ err: ErrorOut?) -> Int32 {
    do throws(ModelsError) {
        let router = try routerObject(r, function: "models_router_add_copilot").router
        guard let source else { throw .invalidArgument("models_router_add_copilot: source is NULL") }
        try StructSize.check(source, expected: MemoryLayout<TokenSourceCallbacks>.size,
                             what: "models_router_add_copilot: source->size", type: "models_token_source")
        // Four pointer-sized fields, laid out as the C struct is.
        let table = source.load(as: TokenSourceCallbacks.self)
        guard table.getToken != nil else { throw .invalidArgument("models_router_add_copilot: source->get_token is NULL") }
        router.register(CopilotProvider.make(source: CallbackTokenSource(table, user: user)))
        return succeed(err)
    } catch {
        return fail(error, err)
    }
}
