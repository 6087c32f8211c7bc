// SPDX-License-Identifier: Apache-2.0
import CModelsSupport
import Glibc
import ModelsCore

/// One HTTP exchange over libcurl, driven by the calling thread.
///
/// Each transfer owns a multi handle (from a pool) so the thread can wait in
/// `curl_multi_poll`, where a cancel from another thread wakes it at once
/// (`curl_multi_wakeup`). Connections live in the process-wide share handle, so
/// they are kept alive and reused across transfers and threads. No thread is
/// created: the caller's thread does the work.
///
/// The body goes either into a bounded buffer (`readBody`) or, for streams, to a
/// sink a piece at a time (`pump`), so a stream holds no more than one read's worth.
public final class HTTPTransfer {
    public typealias BodySink = (UnsafeRawBufferPointer) throws(ModelsError) -> Void

    private let handles: Curl.Handles
    private let limits: TransferLimits
    private let cancellation: Cancellation?
    private let url: String
    /// Host and port for messages (never the path, query or credentials).
    public var host: String { Self.hostForMessages(url) }

    public var head: HTTPResponseHead { headParser.head }
    private var headParser = ResponseHeadParser()
    private var headersComplete: Bool { headParser.isComplete }
    private var finishedCode: CURLcode?
    private var attached = false

    private var sink: BodySink?
    private var body: [UInt8] = []
    private var bodyLimit = 0
    /// An error raised while curl was calling us back; reported once control returns.
    private var callbackError: ModelsError?
    private var deliveredSincePump = false
    /// When the stream last completed an event (or its headers arrived).
    private var lastEventMs: Int64
    /// Set by `noteEvent`, read by `drive` (which has the time at hand).
    private var eventSinceDrive = false

    /// The most body bytes kept before the body is read or pumped.
    static let maxEarlyBodyBytes = 10 << 20

    /// Starts the transfer (nothing is sent until it is driven).
    public init(_ request: HTTPRequest, limits: TransferLimits, cancellation: Cancellation?) throws(ModelsError) {
        let setup = TransferSetup(url: request.url, method: request.method, headers: request.headers,
                                  http1Only: request.http1Only, proxy: Proxy.forURL(request.url))
        guard let handles = Curl.takeHandles(for: setup) else { throw ModelsError(.noMemory, "cannot create a libcurl handle") }
        self.handles = handles
        self.limits = limits
        self.cancellation = cancellation
        url = request.url
        lastEventMs = MonotonicClock.nowMs()
        handles.errorBuffer[0] = 0
        do { try configure(request, setup: setup) } catch {
            close()
            throw error
        }
    }

    deinit { close() }

    // MARK: Driving

    /// Waits for the response headers (status line and header lines).
    public func awaitHead() throws(ModelsError) -> HTTPResponseHead {
        try drive(until: { headersComplete }, deadline: min(limits.headersDeadlineMs, limits.totalDeadlineMs ?? .max),
                  timeoutMessage: { "no response from \(host) within \(limits.headersDeadlineMs - startMs) ms" })
        if !headersComplete { try throwFinished() }
        return head
    }

    /// Reads the whole body into memory, up to `limit` bytes (beyond it: `.protocol`
    /// error, or silent truncation when `truncate` is set, for error bodies).
    public func readBody(limit: Int, truncate: Bool = false) throws(ModelsError) -> [UInt8] {
        bodyLimit = limit
        truncateBody = truncate
        let deadline = limits.totalDeadlineMs ?? (MonotonicClock.nowMs() + limits.idleTimeoutMs)
        try drive(until: { false }, deadline: deadline,
                  timeoutMessage: { "the answer from \(host) did not complete within \(deadline - startMs) ms" })
        try throwFinished()
        // Bytes that came with the headers were kept under the larger early limit.
        if body.count > limit {
            guard truncate else { throw bodyTooLarge(limit) }
            body.removeSubrange(limit...)
        }
        return body
    }
    private var truncateBody = false
    private let startMs = MonotonicClock.nowMs()

    /// Tells the stream's idle timer that a whole event arrived. Bytes alone do
    /// not count: comments, pings and an event trickling in a byte at a time
    /// would otherwise keep a stream open forever without an answer.
    @inline(__always)
    public func noteEvent() { eventSinceDrive = true }

    /// Asks libcurl to hold the body's next read until the next `pump` (or
    /// `finishQuietly`): a consumer that has what it waited for bounds what one
    /// pump hands it to the read in progress, not the hundred reads libcurl
    /// may make in one go.
    public func pauseAfterThisRead() { pauseWanted = true }
    private var pauseWanted = false
    private var paused = false

    /// Lets libcurl deliver the read it held, to the sink now in place.
    private func resume() {
        guard paused else { return }
        paused = false
        _ = curl_easy_pause(handles.easy, Int32(CURLPAUSE_CONT))
    }

    /// Drives the transfer until some body bytes went to `sink` or the body
    /// ended. Returns false once the body has ended cleanly; throws on failure.
    public func pump(_ sink: @escaping BodySink) throws(ModelsError) -> Bool {
        // A pause asked for applies to the pump it was asked in: after the read in progress.
        defer { pauseWanted = false }
        if let e = callbackError { throw e }
        if !body.isEmpty, head.isSuccess {
            // Body bytes that came in the same read as the headers (while
            // awaitHead had no sink) went to `body`: they come first.
            var early: [UInt8] = []
            swap(&early, &body)
            do {
                try early.withUnsafeBytes { bytes in Result { () throws(ModelsError) in try sink(bytes) } }.get()
            } catch {
                callbackError = error
                throw error
            }
            return true
        }
        self.sink = sink
        defer { self.sink = nil }
        if finishedCode != nil { try throwFinished(); return false }
        deliveredSincePump = false
        resume()
        if let e = callbackError { throw e }
        if deliveredSincePump { return true }
        let total = limits.streamDeadline
        try drive(until: { deliveredSincePump }, deadline: total?.atMs,
                  timeoutMessage: { "the stream from \(host) did not end within \(total?.afterMs ?? 0) ms" })
        if deliveredSincePump { return true }
        try throwFinished()
        return false
    }

    /// After a stream's terminator: lets curl read the rest of the body (usually
    /// just the chunked-encoding trailer) so the connection can be reused. Gives
    /// up quietly after `withinMs`.
    public func finishQuietly(withinMs: Int64 = 200) {
        guard finishedCode == nil else { return }
        sink = { _ throws(ModelsError) in }
        pauseWanted = false
        resume()
        let deadline = MonotonicClock.nowMs() + withinMs
        _ = try? drive(until: { false }, deadline: deadline, timeoutMessage: { "" })
    }

    /// Releases the handles; an unfinished transfer's connection is closed.
    public func close() {
        if attached {
            curl_multi_remove_handle(handles.multi, handles.easy)
            attached = false
        }
        if !released {
            released = true
            // Options stay for the next transfer only after a clean end; anything
            // else (an error, a cancel, a body left unread) resets them first.
            if finishedCode != CURLE_OK || callbackError != nil { handles.needsReset = true } else { keepConnection() }
            handles.transfer = nil
            Curl.returnHandles(handles)
        }
    }
    private var released = false

    /// After a clean end: tells `KeptConnections` whether the connection spoke
    /// HTTP/1.x, so that stray bytes on it keep it from being reused.
    private func keepConnection() {
        var version = 0, local = 0, peer = 0
        _ = cms_easy_getinfo_long(handles.easy, CURLINFO_HTTP_VERSION, &version)
        _ = cms_easy_getinfo_long(handles.easy, CURLINFO_LOCAL_PORT, &local)
        _ = cms_easy_getinfo_long(handles.easy, CURLINFO_PRIMARY_PORT, &peer)
        KeptConnections.finished(localPort: local, peerPort: peer,
                                 http1: version == CURL_HTTP_VERSION_1_0 || version == CURL_HTTP_VERSION_1_1)
    }

    /// Times this transfer was stopped before sending because its connection held
    /// stray bytes (see `KeptConnections`), and started again on another.
    private var strayRestarts = 0
    /// The socket of the connection this transfer opened (-1: none, or a reused one).
    fileprivate var openedSocket: Int32 = -1
    private var stoppedForStrayInput = false

    private func throwFinished() throws(ModelsError) {
        if let e = callbackError { throw e }
        guard let code = finishedCode else { return }
        guard code != CURLE_OK else { return }
        if code == CURLE_OUT_OF_MEMORY {
            // libcurl reports a response line over its own limit (a header line
            // over 100 KiB, say) as out of memory: that is the server's fault,
            // and another model may answer.
            throw ModelsError(.protocol, headersComplete
                ? "the response from \(host) has a line longer than libcurl accepts"
                : "the response headers from \(host) have a line longer than libcurl accepts (100 KiB)")
        }
        throw TransportErrors.error(for: code, detail: String(cString: handles.errorBuffer), host: host)
    }

    private func drive(until done: () -> Bool, deadline: Int64?, timeoutMessage: () -> String) throws(ModelsError) {
        let multi = SendableHandle(multi: handles.multi)
        try cancellation.whileWaitingOrDirect(wake: { { curl_multi_wakeup(multi.multi) } }) { () throws(ModelsError) in
            while true {
                if let e = callbackError { throw e }
                if done() || finishedCode != nil { return }
                try cancellation?.checkCancelled()
                let now = MonotonicClock.nowMs()
                if let deadline, now >= deadline { throw ModelsError(.timeout, timeoutMessage(), isTransient: true) }
                takeEvent(at: now)
                if headersComplete, sink != nil, now - lastEventMs >= limits.idleTimeoutMs {
                    throw ModelsError(.timeout, "the stream from \(host) sent no event for \(limits.idleTimeoutMs) ms", isTransient: true)
                }
                var running: Int32 = 0
                let mc = curl_multi_perform(handles.multi, &running)
                guard mc == CURLM_OK else {
                    throw ModelsError(.transport, "libcurl: \(String(cString: curl_multi_strerror(mc)))")
                }
                collectFinished()
                takeEvent(at: now)
                if let e = callbackError { throw e }
                if done() || finishedCode != nil { return }
                var wait = Int64(1000)
                if let deadline { wait = min(wait, deadline - now) }
                if headersComplete, sink != nil { wait = min(wait, lastEventMs + limits.idleTimeoutMs - now) }
                _ = curl_multi_poll(handles.multi, nil, 0, Int32(max(wait, 1)), nil)
            }
        }
    }

    /// Restarts the idle timer when an event completed since the last look.
    private func takeEvent(at now: Int64) {
        if eventSinceDrive {
            lastEventMs = now
            eventSinceDrive = false
        }
    }

    private func collectFinished() {
        var left: Int32 = 0
        while let msg = curl_multi_info_read(handles.multi, &left) {
            if msg.pointee.msg == CURLMSG_DONE { finishedCode = msg.pointee.data.result }
        }
        if finishedCode == CURLE_ABORTED_BY_CALLBACK, stoppedForStrayInput { restartOnAnotherConnection() }
    }

    /// The transfer was stopped before it sent anything because its kept-alive
    /// connection held bytes that answer no request; libcurl closed that
    /// connection. Starts it again (the options are all in place).
    private func restartOnAnotherConnection() {
        stoppedForStrayInput = false
        strayRestarts += 1
        Log.debug("a kept-alive connection to \(host) held bytes that answer no request; closed, not reused")
        curl_multi_remove_handle(handles.multi, handles.easy)
        attached = false
        guard strayRestarts <= 3 else {
            callbackError = ModelsError(.transport, "every kept-alive connection to \(host) held bytes that answer no request",
                                        isTransient: true)
            return
        }
        handles.errorBuffer[0] = 0
        guard curl_multi_add_handle(handles.multi, handles.easy) == CURLM_OK else {
            callbackError = ModelsError(.transport, "libcurl refused the transfer")
            return
        }
        attached = true
        finishedCode = nil
    }

    /// libcurl's PREREQFUNCTION: the request is about to go out on the connection
    /// with these ports. False stops the transfer when that connection holds stray bytes.
    fileprivate func connectionIsClean(localPort: Int, peerPort: Int) -> Bool {
        let socket = openedSocket
        openedSocket = -1
        guard KeptConnections.hasStrayInput(socket: socket, localPort: localPort, peerPort: peerPort) else { return true }
        stoppedForStrayInput = true
        return false
    }

    // MARK: Callbacks (called by curl on the driving thread)

    fileprivate func receiveHeader(_ line: UnsafeRawBufferPointer) -> Bool {
        switch headParser.take(line, easy: handles.easy) {
        case .more:
            return true
        case .complete:
            // The stream's idle time counts from here.
            lastEventMs = MonotonicClock.nowMs()
            return true
        case .tooLarge:
            callbackError = ModelsError(.protocol, "the response headers from \(host) are larger than \(ResponseHeadParser.maxHeaderBytes) bytes")
            return false
        }
    }

    /// The body's bytes from libcurl: how many were taken (all of them, or 0 to
    /// fail the transfer), or CURL_WRITEFUNC_PAUSE to have them again later.
    fileprivate func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Int {
        if let sink, head.isSuccess {
            if pauseWanted {
                pauseWanted = false
                paused = true
                return Int(CURL_WRITEFUNC_PAUSE)
            }
            do { try sink(bytes) } catch {
                callbackError = error
                return 0
            }
            deliveredSincePump = true
            return bytes.count
        }
        // Until readBody says what the body is for, the bytes that come with the
        // headers are kept: a stream's first events may be more than a small maxBodyBytes.
        let limit = bodyLimit > 0 ? bodyLimit : max(limits.maxBodyBytes, Self.maxEarlyBodyBytes)
        if bytes.count > limit - body.count {
            if truncateBody {
                body.append(contentsOf: bytes.prefix(max(0, limit - body.count)))
                return bytes.count
            }
            callbackError = bodyTooLarge(limit)
            return 0
        }
        body.append(contentsOf: bytes)
        return bytes.count
    }

    private func bodyTooLarge(_ limit: Int) -> ModelsError {
        ModelsError(.protocol, "the response body from \(host) is larger than \(limit) bytes")
    }

    // MARK: Setup

    /// Sets the easy handle up: everything when it holds other options (or
    /// none), else only what changes from one request to the next.
    private func configure(_ request: HTTPRequest, setup: TransferSetup) throws(ModelsError) {
        let easy = handles.easy
        var rc = CURLE_OK
        func set(_ code: CURLcode) { if rc == CURLE_OK { rc = code } }
        if handles.setup == nil {
            // Counted as failed until the options are all in: a handle left half set up is reset.
            handles.needsReset = true
            try configureFully(request, setup: setup)
            handles.setup = setup
            handles.needsReset = false
        }
        // Options are set only when they differ from the handle's last transfer:
        // each setopt runs through libcurl's large option switch, cold by the
        // time the next request comes.
        handles.transfer = Unmanaged.passUnretained(self).toOpaque()
        let connectMs = Int(max(1, min(limits.headersDeadlineMs - MonotonicClock.nowMs(), 30_000)))
        if connectMs != handles.connectTimeoutMs {
            set(cms_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, connectMs))
            handles.connectTimeoutMs = connectMs
        }
        if request.method == .post {
            guard handles.storeBody(request.body) else { throw ModelsError(.noMemory, "out of memory") }
            if handles.body != handles.postedBody {
                set(cms_easy_setopt_ptr(easy, CURLOPT_POSTFIELDS, handles.body))
                handles.postedBody = handles.body
            }
            if request.body.count != handles.postedBytes {
                set(cms_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)))
                handles.postedBytes = request.body.count
            }
        }
        guard rc == CURLE_OK else {
            handles.needsReset = true
            throw TransportErrors.error(for: rc, detail: String(cString: curl_easy_strerror(rc)), host: host)
        }
        guard curl_multi_add_handle(handles.multi, easy) == CURLM_OK else {
            throw ModelsError(.transport, "libcurl refused the transfer")
        }
        attached = true
    }

    /// The options that stay for the next request with the same `setup`.
    @inline(never) // rarely runs: kept out of the per-request path
    private func configureFully(_ request: HTTPRequest, setup: TransferSetup) throws(ModelsError) {
        // The callbacks' user data is the handles (set once); they report to its current transfer.
        let me = Unmanaged.passUnretained(handles).toOpaque()
        try EasyOptions.configure(handles.easy, request, setup: setup, errorBuffer: handles.errorBuffer,
                                  headerList: &handles.headerList, user: me, callbacks: Self.callbacks, host: host)
    }

    private static let callbacks = EasyOptions.Callbacks(
        write: { data, size, count, user in
            guard let transfer = HTTPTransfer.current(user) else { return 0 }
            let n = size * count
            return transfer.receiveBody(UnsafeRawBufferPointer(start: data, count: n))
        },
        header: { data, size, count, user in
            guard let transfer = HTTPTransfer.current(user) else { return 0 }
            let n = size * count
            return transfer.receiveHeader(UnsafeRawBufferPointer(start: data, count: n)) ? n : 0
        },
        prereq: { user, _, _, peerPort, localPort in
            guard let transfer = HTTPTransfer.current(user) else { return 0 }
            return transfer.connectionIsClean(localPort: Int(localPort), peerPort: Int(peerPort))
                ? Int32(CURL_PREREQFUNC_OK) : Int32(CURL_PREREQFUNC_ABORT)
        },
        sockopt: { user, socket, purpose in
            if purpose == CURLSOCKTYPE_IPCXN {
                KeptConnections.opened(socket)
                HTTPTransfer.current(user)?.openedSocket = socket
            }
            return Int32(CURL_SOCKOPT_OK)
        })

    /// The transfer the handles at `user` (a callback's user data) work for.
    private static func current(_ user: UnsafeMutableRawPointer?) -> HTTPTransfer? {
        guard let user, let transfer = Unmanaged<Curl.Handles>.fromOpaque(user).takeUnretainedValue().transfer else { return nil }
        return Unmanaged<HTTPTransfer>.fromOpaque(transfer).takeUnretainedValue()
    }

    /// `scheme://host:port` of a URL, without credentials, path or query.
    package static func hostForMessages(_ url: String) -> String {
        // On the UTF-8 view: every delimiter is ASCII, and Character-wise
        // indexing cost more than the rest of setting up a transfer.
        var rest = Substring(url).utf8
        if let colon = rest.firstIndex(of: UInt8(ascii: ":")), rest[colon...].starts(with: "://".utf8) {
            rest = rest[rest.index(colon, offsetBy: 3)...]
        }
        if let slash = rest.firstIndex(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) {
            rest = rest[..<slash]
        }
        if let at = rest.lastIndex(of: UInt8(ascii: "@")) { rest = rest[rest.index(after: at)...] }
        return String(Substring(rest))
    }
}

private struct SendableHandle: @unchecked Sendable { let multi: UnsafeMutableRawPointer }

extension Optional where Wrapped == Cancellation {
    /// Installs the waker when there is a cancellation token; runs `body` as is
    /// otherwise (the waker is made only then: a closure allocation saved per wait).
    package func whileWaitingOrDirect<T>(wake: () -> @Sendable () -> Void, _ body: () throws(ModelsError) -> T) throws(ModelsError) -> T {
        guard let token = self else { return try body() }
        return try token.whileWaiting(wake: wake(), body)
    }
}
