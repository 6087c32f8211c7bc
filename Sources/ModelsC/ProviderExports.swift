// SPDX-License-Identifier: Apache-2.0
import Glibc
import Models
import ModelsCore
import ModelsProviders

/// The C layout of `models_provider_callbacks` in models.h (`size`, then five function pointers).
public struct ProviderCallbacks {
    public var size: Int
    public var chat: (@convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?,
                                      UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, UnsafeMutablePointer<OpaquePointer?>?) -> Int32)?
    public var streamOpen: (@convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?,
                                            UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutablePointer<OpaquePointer?>?) -> Int32)?
    public var streamNext: (@convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafeMutablePointer<UnsafePointer<CChar>?>?,
                                            UnsafeMutablePointer<Int>?, UnsafeMutablePointer<OpaquePointer?>?) -> Int32)?
    public var streamClose: (@convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Void)?
    public var destroy: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?
}

/// The error a C callback reported: the object it set (taken over), or one made from its code.
private func callbackError(_ code: Int32, _ reported: OpaquePointer?, provider: String, what: String) -> ModelsError {
    if let reported {
        let error = ErrorObject.from(reported).error
        models_error_free(reported)
        return error
    }
    let c = ModelsCode(rawValue: code).flatMap { $0.rawValue < 0 ? $0 : nil } ?? .api
    return ModelsError(c, "provider \(provider) failed in \(what) (\(c.name))",
                       isTransient: c == .transport || c == .timeout)
}

/// The request a C provider receives: the caller's, with `model` set to the model id.
private func requestText(_ call: ChatCall) -> String {
    var request = call.request.json
    request.set("model", .string(call.modelID))
    return request.serialized()
}

@_cdecl("models_router_add_provider")
public func models_router_add_provider(_ r: OpaquePointer?, _ name: UnsafePointer<CChar>?,
                                       _ callbacks: UnsafeRawPointer?, _ user: UnsafeMutableRawPointer?,
                                       _ err: ErrorOut?) -> Int32 {
    do throws(ModelsError) {
        let router = try routerObject(r, function: "models_router_add_provider").router
        guard let name else { throw .invalidArgument("models_router_add_provider: name is NULL") }
        guard let providerName = CStrings.string(name, limit: 256) else {
            throw .invalidArgument("models_router_add_provider: name is not valid UTF-8 or longer than 256 bytes")
        }
        guard !providerName.isEmpty else { throw .invalidArgument("models_router_add_provider: name is empty") }
        guard !providerName.contains("/") else { throw .invalidArgument("models_router_add_provider: name contains '/'") }
        guard let callbacks else { throw .invalidArgument("models_router_add_provider: callbacks is NULL") }
        // Five pointer-sized fields, laid out as the C struct is.
        try StructSize.check(callbacks, expected: MemoryLayout<ProviderCallbacks>.size,
                             what: "models_router_add_provider: callbacks->size", type: "models_provider_callbacks")
        let table = callbacks.load(as: ProviderCallbacks.self)
        guard let chatFn = table.chat else { throw .invalidArgument("models_router_add_provider: callbacks->chat is NULL") }
        let streams = table.streamOpen != nil && table.streamNext != nil
        if (table.streamOpen != nil || table.streamNext != nil) && !streams {
            throw .invalidArgument("models_router_add_provider: stream_open and stream_next go together")
        }
        let userBits = UInt(bitPattern: user)
        let userPointer = { UnsafeMutableRawPointer(bitPattern: userBits) }

        let chat = { (call: ChatCall) throws(ModelsError) -> String in
            var response: UnsafeMutablePointer<CChar>?
            var reported: OpaquePointer?
            let code = requestText(call).withCString { chatFn(userPointer(), call.modelID, $0, &response, &reported) }
            defer { free(response) }
            guard code == ModelsCode.ok.rawValue else {
                throw callbackError(code, reported, provider: providerName, what: "chat")
            }
            if let reported { models_error_free(reported) }
            guard let response else { throw ModelsError(.protocol, "provider \(providerName) returned MODELS_OK and no response") }
            return String(cString: response)
        }

        var stream: ((ChatCall) throws(ModelsError) -> CallbackProvider.Stream)?
        if streams, let openFn = table.streamOpen, let nextFn = table.streamNext {
            let closeFn = table.streamClose
            stream = { (call: ChatCall) throws(ModelsError) -> CallbackProvider.Stream in
                var handle: UnsafeMutableRawPointer?
                var reported: OpaquePointer?
                let code = requestText(call).withCString { openFn(userPointer(), call.modelID, $0, &handle, &reported) }
                guard code == ModelsCode.ok.rawValue else {
                    throw callbackError(code, reported, provider: providerName, what: "stream_open")
                }
                if let reported { models_error_free(reported) }
                let handleBits = UInt(bitPattern: handle)
                return CallbackProvider.Stream(next: { () throws(ModelsError) -> UnsafeRawBufferPointer? in
                    var chunk: UnsafePointer<CChar>?
                    var length = 0
                    var reported: OpaquePointer?
                    let code = nextFn(userPointer(), UnsafeMutableRawPointer(bitPattern: handleBits), &chunk, &length, &reported)
                    if code == ModelsCode.done.rawValue { return nil }
                    guard code == ModelsCode.ok.rawValue else {
                        throw callbackError(code, reported, provider: providerName, what: "stream_next")
                    }
                    guard let chunk else { throw ModelsError(.protocol, "provider \(providerName) returned MODELS_OK and no chunk") }
                    // The header promises NUL-terminated chunks; trust the length only up to the NUL.
                    let n = strnlen(chunk, length)
                    return UnsafeRawBufferPointer(start: chunk, count: n)
                }, close: {
                    closeFn?(userPointer(), UnsafeMutableRawPointer(bitPattern: handleBits))
                })
            }
        }
        let destroy = table.destroy
        router.register(CallbackProvider(name: providerName, chat: chat, stream: stream, onRelease: {
            destroy?(userPointer())
        }))
        return succeed(err)
    } catch {
        return fail(error, err)
    }
}

@_cdecl("models_error_new")
public func models_error_new(_ code: Int32, _ message: UnsafePointer<CChar>?, _ status: Int32,
                             _ retryAfterMs: Int64) -> OpaquePointer? {
    let c = ModelsCode(rawValue: code).flatMap { $0.rawValue < 0 ? $0 : nil } ?? .api
    let text = message.flatMap { CStrings.string($0, limit: 64 << 10) } ?? c.name
    let transient = c == .api ? ModelsError.isTransientStatus(Int(status)) : (c == .transport || c == .timeout)
    return ErrorObject(ModelsError(c, text, status: Int(max(0, status)), retryAfterMs: max(0, retryAfterMs),
                                   isTransient: transient)).handle
}
