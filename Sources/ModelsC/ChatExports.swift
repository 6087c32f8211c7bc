// SPDX-License-Identifier: Apache-2.0
import Glibc
import Models
import ModelsCore
import ModelsProviders
import ModelsTransport

/// The largest request text accepted (images as data: URLs make requests large).
let maxRequestBytes = 32 << 20

/// Checks a caller's request text (JSON, and the shape of a chat request).
func parseRequest(_ text: UnsafePointer<CChar>?, function: String) throws(ModelsError) -> ChatRequest {
    guard let text else { throw .invalidArgument("\(function): request_json is NULL") }
    guard let bytes = CStrings.bytes(text, limit: maxRequestBytes) else {
        throw .invalidArgument("\(function): request_json is larger than \(maxRequestBytes) bytes")
    }
    return try ChatRequest(text: bytes)
}

func routerObject(_ r: OpaquePointer?, function: String) throws(ModelsError) -> RouterObject {
    guard let r else { throw .invalidArgument("\(function): router is NULL") }
    return RouterObject.from(r)
}

/// Reads a call's options text; NULL means the router's settings.
func parseOptions(_ text: UnsafePointer<CChar>?, function: String) throws(ModelsError) -> CallOptions {
    guard let text else { return CallOptions() }
    guard let bytes = CStrings.bytes(text, limit: CallOptions.maxTextBytes) else {
        throw .invalidArgument("\(function): options_json is larger than \(CallOptions.maxTextBytes) bytes")
    }
    do { return try CallOptions(text: bytes) } catch {
        throw .invalidArgument("\(function): \(error.message)")
    }
}

/// The cancellation token of a `models_call *`, when the caller gave one.
func cancellation(of call: OpaquePointer?) -> Cancellation? {
    call.map { CallObject.from($0).cancellation }
}

@_cdecl("models_chat")
public func models_chat(_ r: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                        _ response: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ err: ErrorOut?) -> Int32 {
    chat(r, request, nil, nil, response, err, function: "models_chat")
}

@_cdecl("models_chat_ex")
public func models_chat_ex(_ r: OpaquePointer?, _ request: UnsafePointer<CChar>?, _ options: UnsafePointer<CChar>?,
                           _ call: OpaquePointer?, _ response: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                           _ err: ErrorOut?) -> Int32 {
    chat(r, request, options, call, response, err, function: "models_chat_ex")
}

private func chat(_ r: OpaquePointer?, _ request: UnsafePointer<CChar>?, _ options: UnsafePointer<CChar>?, _ call: OpaquePointer?,
                  _ response: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ err: ErrorOut?, function: String) -> Int32 {
    response?.pointee = nil
    do throws(ModelsError) {
        let router = try routerObject(r, function: function).router
        guard let response else { throw ModelsError.invalidArgument("\(function): response_json is NULL") }
        let chatRequest = try parseRequest(request, function: function)
        let callOptions = try parseOptions(options, function: function)
        let answer = try router.chat(chatRequest, options: callOptions, cancellation: cancellation(of: call))
        guard let text = answer.copyText({ malloc($0) }) else { throw ModelsError(.noMemory, "out of memory") }
        response.pointee = text
        return succeed(err)
    } catch {
        return fail(error, err)
    }
}

public typealias ChunkFunction = @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, Int) -> Int32
public typealias TextFunction = @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, Int) -> Void

/// Wraps a C text callback and its user pointer as a thinking sink.
func thinkingSink(_ fn: TextFunction?, _ user: UnsafeMutableRawPointer?) -> ChunkOutlet.Thinking? {
    guard let fn else { return nil }
    return { text in fn(user, text.baseAddress?.assumingMemoryBound(to: CChar.self), text.count) }
}

@_cdecl("models_chat_stream")
public func models_chat_stream(_ r: OpaquePointer?, _ request: UnsafePointer<CChar>?, _ onChunk: ChunkFunction?,
                               _ onThinking: TextFunction?, _ user: UnsafeMutableRawPointer?, _ err: ErrorOut?) -> Int32 {
    chatStream(r, request, nil, nil, onChunk, onThinking, user, err, function: "models_chat_stream")
}

@_cdecl("models_chat_stream_ex")
public func models_chat_stream_ex(_ r: OpaquePointer?, _ request: UnsafePointer<CChar>?, _ options: UnsafePointer<CChar>?,
                                  _ call: OpaquePointer?, _ onChunk: ChunkFunction?, _ onThinking: TextFunction?,
                                  _ user: UnsafeMutableRawPointer?, _ err: ErrorOut?) -> Int32 {
    chatStream(r, request, options, call, onChunk, onThinking, user, err, function: "models_chat_stream_ex")
}

private func chatStream(_ r: OpaquePointer?, _ request: UnsafePointer<CChar>?, _ options: UnsafePointer<CChar>?,
                        _ call: OpaquePointer?, _ onChunk: ChunkFunction?, _ onThinking: TextFunction?,
                        _ user: UnsafeMutableRawPointer?, _ err: ErrorOut?, function: String) -> Int32 {
    do throws(ModelsError) {
        let router = try routerObject(r, function: function).router
        guard let onChunk else { throw ModelsError.invalidArgument("\(function): on_chunk is NULL") }
        let chatRequest = try parseRequest(request, function: function)
        let callOptions = try parseOptions(options, function: function)
        let stream = try router.openStream(chatRequest, options: callOptions, cancellation: cancellation(of: call))
        let outlet = ChunkOutlet(push: { chunk in
            onChunk(user, chunk.baseAddress?.assumingMemoryBound(to: CChar.self), chunk.count) == 0
        }, onThinking: thinkingSink(onThinking, user))
        try stream.pumpAll(outlet)
        return succeed(err)
    } catch {
        return fail(error, err)
    }
}

/// The object behind `models_call *`: a cancellation token for one call.
final class CallObject: OpaqueHandle {
    let cancellation = Cancellation()
}

@_cdecl("models_call_new")
public func models_call_new() -> OpaquePointer? { CallObject().handle }

@_cdecl("models_call_cancel")
public func models_call_cancel(_ call: OpaquePointer?) {
    guard let call else { return }
    CallObject.from(call).cancellation.cancel()
}

@_cdecl("models_call_is_cancelled")
public func models_call_is_cancelled(_ call: OpaquePointer?) -> Int32 {
    guard let call else { return 0 }
    return CallObject.from(call).cancellation.isCancelled ? 1 : 0
}

@_cdecl("models_call_free")
public func models_call_free(_ call: OpaquePointer?) {
    guard let call else { return }
    CallObject.release(call)
}
