// SPDX-License-Identifier: Apache-2.0
import Glibc
import Models
import ModelsCore
import ModelsTransport

/// The object behind `models_stream *`: the core stream, its cancellation
/// token (the only part another thread touches) and the strings it lends.
final class StreamObject: OpaqueHandle {
    let cancellation: Cancellation
    var stream: ChatStream?
    var model: UnsafeMutablePointer<CChar>?

    init(cancellation: Cancellation) { self.cancellation = cancellation }
    deinit { free(model) }
}

@_cdecl("models_stream_open")
public func models_stream_open(_ r: OpaquePointer?, _ request: UnsafePointer<CChar>?, _ err: ErrorOut?) -> OpaquePointer? {
    openStream(r, request, nil, nil, err, function: "models_stream_open")
}

@_cdecl("models_stream_open_ex")
public func models_stream_open_ex(_ r: OpaquePointer?, _ request: UnsafePointer<CChar>?, _ options: UnsafePointer<CChar>?,
                                  _ call: OpaquePointer?, _ err: ErrorOut?) -> OpaquePointer? {
    openStream(r, request, options, call, err, function: "models_stream_open_ex")
}

private func openStream(_ r: OpaquePointer?, _ request: UnsafePointer<CChar>?, _ options: UnsafePointer<CChar>?,
                        _ call: OpaquePointer?, _ err: ErrorOut?, function: String) -> OpaquePointer? {
    do throws(ModelsError) {
        let router = try routerObject(r, function: function).router
        let chatRequest = try parseRequest(request, function: function)
        let callOptions = try parseOptions(options, function: function)
        let object = StreamObject(cancellation: cancellation(of: call) ?? Cancellation())
        let stream = try router.openStream(chatRequest, options: callOptions, cancellation: object.cancellation)
        object.stream = stream
        object.model = CStrings.copy(stream.model)
        succeed(err)
        return object.handle
    } catch {
        fail(error, err)
        return nil
    }
}

@_cdecl("models_stream_next")
public func models_stream_next(_ s: OpaquePointer?, _ chunk: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
                               _ len: UnsafeMutablePointer<Int>?, _ err: ErrorOut?) -> Int32 {
    chunk?.pointee = nil
    len?.pointee = 0
    guard let s else { return fail(.invalidArgument("models_stream_next: stream is NULL"), err) }
    guard let chunk else { return fail(.invalidArgument("models_stream_next: chunk_json is NULL"), err) }
    guard let stream = StreamObject.from(s).stream else { return fail(.invalidArgument("models_stream_next: stream is not open"), err) }
    do throws(ModelsError) {
        guard let next = try stream.next() else {
            err?.pointee = nil
            return ModelsCode.done.rawValue
        }
        chunk.pointee = next.baseAddress?.assumingMemoryBound(to: CChar.self)
        len?.pointee = next.count
        return succeed(err)
    } catch {
        return fail(error, err)
    }
}

@_cdecl("models_stream_on_thinking")
public func models_stream_on_thinking(_ s: OpaquePointer?, _ fn: TextFunction?, _ user: UnsafeMutableRawPointer?) {
    guard let s, let stream = StreamObject.from(s).stream else { return }
    stream.onThinking = thinkingSink(fn, user)
}

@_cdecl("models_stream_usage")
public func models_stream_usage(_ s: OpaquePointer?, _ input: UnsafeMutablePointer<Int64>?, _ output: UnsafeMutablePointer<Int64>?) {
    let usage: (input: Int64, output: Int64) = s.flatMap { StreamObject.from($0).stream?.usage } ?? (0, 0)
    input?.pointee = usage.input
    output?.pointee = usage.output
}

@_cdecl("models_stream_model")
public func models_stream_model(_ s: OpaquePointer?) -> UnsafePointer<CChar>? {
    guard let s else { return nil }
    return UnsafePointer(StreamObject.from(s).model)
}

@_cdecl("models_stream_cancel")
public func models_stream_cancel(_ s: OpaquePointer?) {
    guard let s else { return }
    StreamObject.from(s).cancellation.cancel()
}

@_cdecl("models_stream_collect")
public func models_stream_collect(_ s: OpaquePointer?, _ text: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                                  _ err: ErrorOut?) -> Int32 {
    text?.pointee = nil
    guard let s else { return fail(.invalidArgument("models_stream_collect: stream is NULL"), err) }
    guard let text else { return fail(.invalidArgument("models_stream_collect: text is NULL"), err) }
    guard let stream = StreamObject.from(s).stream else { return fail(.invalidArgument("models_stream_collect: stream is not open"), err) }
    do throws(ModelsError) {
        let collected = try stream.collect()
        guard let copy = CStrings.copy(collected) else { throw ModelsError(.noMemory, "out of memory") }
        text.pointee = copy
        return succeed(err)
    } catch {
        return fail(error, err)
    }
}

@_cdecl("models_stream_close")
public func models_stream_close(_ s: OpaquePointer?) {
    guard let s else { return }
    let object = StreamObject.from(s)
    object.stream?.close()
    StreamObject.release(s)
}
