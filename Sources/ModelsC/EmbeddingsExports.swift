// SPDX-License-Identifier: Apache-2.0
import Glibc
import Models
import ModelsCore
import ModelsProviders
import ModelsTransport

/// Checks a caller's embeddings request text.
func parseEmbeddingsRequest(_ text: UnsafePointer<CChar>?, function: String) throws(ModelsError) -> EmbeddingsRequest {
    guard let text else { throw .invalidArgument("\(function): request_json is NULL") }
    guard let bytes = CStrings.bytes(text, limit: maxRequestBytes) else {
        throw .invalidArgument("\(function): request_json is larger than \(maxRequestBytes) bytes")
    }
    return try EmbeddingsRequest(text: bytes)
}

@_cdecl("models_embed")
public func models_embed(_ r: OpaquePointer?, _ request: UnsafePointer<CChar>?,
                         _ response: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ err: ErrorOut?) -> Int32 {
    embed(r, request, nil, nil, response, err, function: "models_embed")
}

@_cdecl("models_embed_ex")
public func models_embed_ex(_ r: OpaquePointer?, _ request: UnsafePointer<CChar>?, _ options: UnsafePointer<CChar>?,
                            _ call: OpaquePointer?, _ response: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                            _ err: ErrorOut?) -> Int32 {
    embed(r, request, options, call, response, err, function: "models_embed_ex")
}

private func embed(_ r: OpaquePointer?, _ request: UnsafePointer<CChar>?, _ options: UnsafePointer<CChar>?, _ call: OpaquePointer?,
                   _ response: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ err: ErrorOut?, function: String) -> Int32 {
    response?.pointee = nil
    do throws(ModelsError) {
        let router = try routerObject(r, function: function).router
        guard let response else { throw ModelsError.invalidArgument("\(function): response_json is NULL") }
        let embeddingsRequest = try parseEmbeddingsRequest(request, function: function)
        let callOptions = try parseOptions(options, function: function)
        let answer = try router.embed(embeddingsRequest, options: callOptions, cancellation: cancellation(of: call))
        guard let text = answer.copyText({ malloc($0) }) else { throw ModelsError(.noMemory, "out of memory") }
        response.pointee = text
        return succeed(err)
    } catch {
        return fail(error, err)
    }
}

@_cdecl("models_embed_async")
public func models_embed_async(_ e: OpaquePointer?, _ request: UnsafePointer<CChar>?, _ options: UnsafePointer<CChar>?,
                               _ call: OpaquePointer?, _ onDone: DoneFunction?, _ user: UnsafeMutableRawPointer?,
                               _ err: ErrorOut?) -> Int32 {
    startAnswerCall("models_embed_async", e, options, onDone, user, err) { engine, callOptions, done throws(ModelsError) in
        let embeddingsRequest = try parseEmbeddingsRequest(request, function: "models_embed_async")
        try engine.embed(embeddingsRequest, options: callOptions, cancellation: cancellation(of: call), done: done)
    }
}
