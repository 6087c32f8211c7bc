// SPDX-License-Identifier: Apache-2.0
import Glibc
import Models
import ModelsCore
import ModelsProviders

/// The object behind `models_engine *`.
final class EngineObject: OpaqueHandle {
    let engine: Engine
    init(_ engine: Engine) { self.engine = engine }
}

/// `void (*)(void *user, models_code code, const char *response_json, const models_error *err)`
public typealias DoneFunction = @convention(c) (UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?, OpaquePointer?) -> Void

/// A pointer the caller lends for the call's callbacks, used on the engine's thread.
struct UserPointer: @unchecked Sendable { let raw: UnsafeMutableRawPointer? } // the C caller's, passed back untouched

@_cdecl("models_engine_new")
public func models_engine_new(_ r: OpaquePointer?, _ err: ErrorOut?) -> OpaquePointer? {
    do throws(ModelsError) {
        let router = try routerObject(r, function: "models_engine_new").router
        let engine = try Engine(router: router)
        succeed(err)
        return EngineObject(engine).handle
    } catch {
        fail(error, err)
        return nil
    }
}

@_cdecl("models_engine_free")
public func models_engine_free(_ e: OpaquePointer?) {
    guard let e else { return }
    EngineObject.from(e).engine.close()
    EngineObject.release(e)
}

@_cdecl("models_engine_fd")
public func models_engine_fd(_ e: OpaquePointer?) -> Int32 {
    guard let e else { return -1 }
    return EngineObject.from(e).engine.fd
}

@_cdecl("models_engine_process")
public func models_engine_process(_ e: OpaquePointer?, _ timeoutMs: Int32) -> Int32 {
    guard let e else { return ModelsCode.invalidArgument.rawValue }
    let n = EngineObject.from(e).engine.process(timeoutMs: timeoutMs)
    return n < 0 ? ModelsCode.invalidArgument.rawValue : Int32(clamping: n)
}

@_cdecl("models_engine_calls")
public func models_engine_calls(_ e: OpaquePointer?) -> Int32 {
    guard let e else { return 0 }
    return Int32(clamping: EngineObject.from(e).engine.inFlight)
}

@_cdecl("models_engine_start_thread")
public func models_engine_start_thread(_ e: OpaquePointer?, _ err: ErrorOut?) -> Int32 {
    guard let e else { return fail(.invalidArgument("models_engine_start_thread: engine is NULL"), err) }
    let engine = EngineObject.from(e).engine
    if engine.hasThread { return fail(.invalidArgument("models_engine_start_thread: the engine has its thread already"), err) }
    guard engine.startThread() else { return fail(ModelsError(.noMemory, "models_engine_start_thread: cannot create a thread"), err) }
    return succeed(err)
}

/// Calls `onDone` with the result; the answer text and the error object live until it returns.
func complete(_ onDone: DoneFunction, _ user: UserPointer, answer: ChatAnswer?, error: ModelsError?) {
    if let error {
        let object = ErrorObject(error)
        let handle = object.handle
        onDone(user.raw, error.code.rawValue, nil, handle)
        ErrorObject.release(handle)
        return
    }
    guard let answer else { return onDone(user.raw, ModelsCode.ok.rawValue, nil, nil) }
    guard let text = answer.copyText({ malloc($0) }) else {
        return complete(onDone, user, answer: nil, error: ModelsError(.noMemory, "out of memory"))
    }
    onDone(user.raw, ModelsCode.ok.rawValue, text, nil)
    free(text)
}

@_cdecl("models_chat_async")
public func models_chat_async(_ e: OpaquePointer?, _ request: UnsafePointer<CChar>?, _ options: UnsafePointer<CChar>?,
                              _ call: OpaquePointer?, _ onDone: DoneFunction?, _ user: UnsafeMutableRawPointer?,
                              _ err: ErrorOut?) -> Int32 {
    startAnswerCall("models_chat_async", e, options, onDone, user, err) { engine, callOptions, done throws(ModelsError) in
        let chatRequest = try parseRequest(request, function: "models_chat_async")
        try engine.chat(chatRequest, options: callOptions, cancellation: cancellation(of: call), done: done)
    }
}

/// What the asynchronous calls that end with one answer (chat, embeddings)
/// share: the checks of their arguments, the options, and the completion that
/// calls `on_done` on the engine's thread. `start` parses the request and
/// starts the call with `done`.
func startAnswerCall(_ function: String, _ e: OpaquePointer?, _ options: UnsafePointer<CChar>?, _ onDone: DoneFunction?,
                     _ user: UnsafeMutableRawPointer?, _ err: ErrorOut?,
                     _ start: (Engine, CallOptions, @escaping (Result<ChatAnswer, ModelsError>) -> Void) throws(ModelsError) -> Void)
    -> Int32
{
    do throws(ModelsError) {
        guard let e else { throw ModelsError.invalidArgument("\(function): engine is NULL") }
        guard let onDone else { throw ModelsError.invalidArgument("\(function): on_done is NULL") }
        let callOptions = try parseOptions(options, function: function)
        let user = UserPointer(raw: user)
        try start(EngineObject.from(e).engine, callOptions) { result in
            switch result {
            case .success(let answer): complete(onDone, user, answer: answer, error: nil)
            case .failure(let error): complete(onDone, user, answer: nil, error: error)
            }
        }
        return succeed(err)
    } catch {
        return fail(error, err)
    }
}

@_cdecl("models_stream_async")
public func models_stream_async(_ e: OpaquePointer?, _ request: UnsafePointer<CChar>?, _ options: UnsafePointer<CChar>?,
                                _ call: OpaquePointer?, _ onChunk: ChunkFunction?, _ onThinking: TextFunction?,
                                _ onDone: DoneFunction?, _ user: UnsafeMutableRawPointer?, _ err: ErrorOut?) -> Int32 {
    let function = "models_stream_async"
    do throws(ModelsError) {
        guard let e else { throw ModelsError.invalidArgument("\(function): engine is NULL") }
        guard let onChunk else { throw ModelsError.invalidArgument("\(function): on_chunk is NULL") }
        guard let onDone else { throw ModelsError.invalidArgument("\(function): on_done is NULL") }
        let chatRequest = try parseRequest(request, function: function)
        let callOptions = try parseOptions(options, function: function)
        let user = UserPointer(raw: user)
        try EngineObject.from(e).engine.stream(
            chatRequest, options: callOptions, cancellation: cancellation(of: call),
            chunk: { chunk in onChunk(user.raw, chunk.baseAddress?.assumingMemoryBound(to: CChar.self), chunk.count) == 0 },
            thinking: thinkingSink(onThinking, user.raw),
            done: { error in complete(onDone, user, answer: nil, error: error) })
        return succeed(err)
    } catch {
        return fail(error, err)
    }
}
