// SPDX-License-Identifier: Apache-2.0
import CModelsSupport
import Glibc
import ModelsCore
import ModelsProviders
import ModelsTransport
import Synchronization

/// Many chat and stream calls driven from one thread: one libcurl multi
/// handle run by `curl_multi_socket_action`, its sockets and one timer in an
/// epoll set, and every call's routing (retries, backoffs, fallbacks,
/// cooldowns, rate limits, deadlines) as timers and state in an `EngineCall`.
/// No thread per call, no polling.
///
/// Threading: `process` runs on one thread at a time (the engine's thread: a
/// host's event loop, or the engine's own from `startThread`), and every
/// callback of every call runs there. `chat`, `stream` and `cancel` may be
/// called from any thread (a call starts on the engine's thread, woken by an
/// eventfd). The epoll descriptor `fd` is readable whenever `process` has
/// something to do, so a host loop can watch it.
public final class Engine: @unchecked Sendable { // loop state is confined to the thread in `process`; other threads touch only `inbox` (locked), `inFlight` (atomic) and the eventfd
    let router: Router
    private let multi: UnsafeMutableRawPointer
    /// The epoll set: the sockets libcurl asks for, `wakeFd` and `timerFd`.
    public let fd: Int32
    private let wakeFd: Int32
    private let timerFd: Int32

    private var calls: [UInt64: EngineCall] = [:]
    /// The call each easy handle in the multi works for, by the handle's address.
    private var transfers: [UInt: EngineCall] = [:]
    private var timers = TimerHeap()
    private var curlTimerMs: Int64?
    private var armedMs = Int64.max
    private var processing = false
    private var finishedCount = 0

    private struct Inbox: @unchecked Sendable { // EngineCall objects pass from the submitting thread to the engine's, under the lock
        var calls: [EngineCall] = []
        var cancels: [UInt64] = []
        /// What attempts on `workers` reported, for the calls they work for.
        var reports: [(id: UInt64, report: OffThreadReport)] = []
        var nextID: UInt64 = 1
        var closed = false
    }
    private let inbox = Locked(Inbox())
    private let inFlightCount = Atomic<Int>(0)
    private let stopThread = Atomic<Bool>(false)
    private var thread: pthread_t?
    private let threaded = Atomic<Bool>(false)
    /// The engine's own thread, once it runs.
    private let loopThread = Atomic<UInt>(0)
    /// Threads for the attempts of providers that block (made on first use).
    private var workersIfAny: EngineWorkers?

    public init(router: Router) throws(ModelsError) {
        self.router = router
        _ = Curl.share
        let epfd = cms_epoll_new(), wake = cms_eventfd_new(), timer = cms_timerfd_new()
        guard epfd >= 0, wake >= 0, timer >= 0, let multi = curl_multi_init() else {
            for f in [epfd, wake, timer] where f >= 0 { Glibc.close(f) }
            throw ModelsError(.noMemory, "cannot create the engine's descriptors or multi handle")
        }
        self.multi = multi
        fd = epfd
        wakeFd = wake
        timerFd = timer
        for f in [wake, timer] { _ = cms_epoll_set(epfd, f, 1, 0) }
        let me = Unmanaged.passUnretained(self).toOpaque()
        _ = cms_multi_setopt_ptr(multi, CURLMOPT_SOCKETDATA, me)
        _ = cms_multi_setopt_ptr(multi, CURLMOPT_TIMERDATA, me)
        _ = cms_multi_setopt_socketfn(multi) { _, socket, what, user, _ in
            Unmanaged<Engine>.fromOpaque(user!).takeUnretainedValue().watch(socket, what)
            return 0
        }
        _ = cms_multi_setopt_timerfn(multi) { _, timeoutMs, user in
            let engine = Unmanaged<Engine>.fromOpaque(user!).takeUnretainedValue()
            engine.curlTimerMs = timeoutMs < 0 ? nil : MonotonicClock.nowMs().saturatingAdd(Int64(timeoutMs))
            return 0
        }
    }

    deinit {
        close()
        workersIfAny?.stop()
        curl_multi_cleanup(multi)
        Glibc.close(fd)
        Glibc.close(wakeFd)
        Glibc.close(timerFd)
    }

    /// Calls submitted and not finished yet (their completion not yet called). Any thread.
    public var inFlight: Int { inFlightCount.load(ordering: .acquiring) }

    // MARK: Submitting (any thread)

    /// Starts a chat call; `done` gets the answer or the error, on the engine's
    /// thread, once. Throws (and `done` is never called) for a request the
    /// router refuses before sending anything.
    public func chat(_ request: ChatRequest, options: CallOptions = CallOptions(), cancellation: Cancellation? = nil,
                     done: @escaping (Result<ChatAnswer, ModelsError>) -> Void) throws(ModelsError) {
        try submit(.chat(request), options: options, stream: false, cancellation: cancellation, handlers: EngineCall.Handlers(
            done: { result in done(result.map { $0! }) }))
    }

    /// Starts a stream call: chunks go to `chunk` (false stops the stream),
    /// thinking to `thinking`, and `done` is called once at the end.
    public func stream(_ request: ChatRequest, options: CallOptions = CallOptions(), cancellation: Cancellation? = nil,
                       chunk: @escaping ChunkOutlet.PushChunk, thinking: ChunkOutlet.Thinking? = nil,
                       done: @escaping (ModelsError?) -> Void) throws(ModelsError) {
        try submit(.chat(request), options: options, stream: true, cancellation: cancellation, handlers: EngineCall.Handlers(
            chunk: chunk, thinking: thinking, done: { result in
                if case .failure(let error) = result { done(error) } else { done(nil) }
            }))
    }

    func submit(_ request: CallRequest, options: CallOptions, stream: Bool, cancellation: Cancellation?,
                        handlers: EngineCall.Handlers) throws(ModelsError) {
        let plan = try router.plan(request, options: options, stream: stream)
        let closed = inbox.withLock { box -> Bool in
            guard !box.closed else { return true }
            let id = box.nextID
            box.nextID += 1
            let call = EngineCall(id: id, engine: self, plan: plan, ledger: router.ledger(plan, sharing: false), view: router.view(plan),
                                  handlers: handlers, cancellation: cancellation)
            box.calls.append(call)
            inFlightCount.add(1, ordering: .releasing)
            if let cancellation {
                call.listenerKey = cancellation.addListener { [unowned self] in self.cancel(id) }
            }
            return false
        }
        if closed { throw ModelsError(.invalidArgument, "the engine is being freed") }
        wake()
    }

    /// Cancels call `id` (any thread): it ends with `.cancelled` on the engine's thread.
    func cancel(_ id: UInt64) {
        inbox.withLock { $0.cancels.append(id) }
        wake()
    }

    private func wake() {
        var one: UInt64 = 1
        _ = write(wakeFd, &one, 8)
    }

    // MARK: Processing (the engine's thread)

    /// Does what is ready, waiting up to `timeoutMs` (-1: until something is)
    /// for it; returns the number of calls that finished, or -1 when called
    /// from inside one of the engine's callbacks.
    @discardableResult
    public func process(timeoutMs: Int32) -> Int {
        // Another thread's engine is not this thread's to process (checked before
        // `processing`, which belongs to the engine's thread).
        guard !threaded.load(ordering: .acquiring) || loopThread.load(ordering: .acquiring) == pthread_self(), !processing else {
            return -1
        }
        processing = true
        defer { processing = false }
        let before = finishedCount
        takeInbox()
        runDue()
        var wait = Int64(timeoutMs)
        let due = nextDueMs()
        if finishedCount != before { wait = 0 }
        if due != .max {
            let ms = max(0, due - MonotonicClock.nowMs())
            wait = wait < 0 ? ms : min(wait, ms)
        }
        var fds = (0..<128).map { _ in Int32(0) }, flags = fds
        let n = cms_epoll_wait(fd, &fds, &flags, 128, Int32(clamping: wait))
        if n > 0 {
            for i in 0..<Int(n) {
                let f = fds[i], flags = flags[i]
                if f == wakeFd {
                    var value: UInt64 = 0
                    _ = read(wakeFd, &value, 8)
                    takeInbox()
                } else if f == timerFd {
                    var value: UInt64 = 0
                    _ = read(timerFd, &value, 8)
                    armedMs = .max
                } else {
                    var mask: Int32 = 0
                    if flags & 1 != 0 { mask |= CURL_CSELECT_IN }
                    if flags & 2 != 0 { mask |= CURL_CSELECT_OUT }
                    if flags & 4 != 0 { mask |= CURL_CSELECT_ERR }
                    var running: Int32 = 0
                    _ = curl_multi_socket_action(multi, f, mask, &running)
                }
            }
            collectDone()
        }
        runDue()
        arm()
        return finishedCount - before
    }

    /// Starts calls submitted since the last look and applies cancels.
    private func takeInbox() {
        let (new, cancels, reports) = inbox.withLock { box in
            defer { box.calls = []; box.cancels = []; box.reports = [] }
            return (box.calls, box.cancels, box.reports)
        }
        for call in new {
            calls[call.id] = call
            call.decide()
        }
        for id in cancels { calls[id]?.cancel() }
        for (id, report) in reports { calls[id]?.offThread(report) }
        collectDone()
    }

    /// libcurl's timer and the calls' timers that are due.
    private func runDue() {
        for _ in 0..<16 {
            let now = MonotonicClock.nowMs()
            var fired = false
            if let at = curlTimerMs, at <= now {
                curlTimerMs = nil
                var running: Int32 = 0
                _ = curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running)
                collectDone()
                fired = true
            }
            while let entry = timers.popDue(nowMs: now) {
                guard let call = calls[entry.id], call.scheduledMs == entry.atMs else { continue }
                call.scheduledMs = .max
                call.timerFired(now: now)
                fired = true
            }
            collectDone()
            if !fired { return }
        }
    }

    private func nextDueMs() -> Int64 { min(curlTimerMs ?? .max, timers.first?.atMs ?? .max) }

    /// Arms the timerfd for the next thing due, so that `fd` turns readable then.
    private func arm() {
        let due = nextDueMs()
        guard due != armedMs else { return }
        armedMs = due
        _ = cms_timerfd_arm(timerFd, due == .max ? -1 : max(0, due - MonotonicClock.nowMs()))
    }

    private func collectDone() {
        var left: Int32 = 0
        while let msg = curl_multi_info_read(multi, &left) {
            guard msg.pointee.msg == CURLMSG_DONE, let easy = msg.pointee.easy_handle,
                  let call = transfers[UInt(bitPattern: easy)] else { continue }
            call.transferDone(msg.pointee.data.result)
        }
    }

    /// libcurl's SOCKETFUNCTION: what to watch on a socket.
    private func watch(_ socket: Int32, _ what: Int32) {
        if what == CURL_POLL_REMOVE {
            _ = cms_epoll_del(fd, socket)
            return
        }
        _ = cms_epoll_set(fd, socket, what & CURL_POLL_IN != 0 ? 1 : 0, what & CURL_POLL_OUT != 0 ? 1 : 0)
    }

    // MARK: For calls

    func add(_ transfer: EngineTransfer) throws(ModelsError) {
        guard curl_multi_add_handle(multi, transfer.easy) == CURLM_OK else {
            throw ModelsError(.transport, "libcurl refused the transfer")
        }
        transfers[UInt(bitPattern: transfer.easy)] = transfer.owner
    }

    func remove(_ transfer: EngineTransfer) {
        if transfers.removeValue(forKey: UInt(bitPattern: transfer.easy)) != nil {
            curl_multi_remove_handle(multi, transfer.easy)
        }
    }

    /// An id for a call the engine makes itself (a hedge).
    func newCallID() -> UInt64 {
        inbox.withLock { box in
            defer { box.nextID += 1 }
            return box.nextID
        }
    }

    /// A hedge (EngineCall+Hedge.swift) gets its timers, transfers and cancels
    /// like a call, without counting as one in flight.
    func register(_ hedge: EngineCall) { calls[hedge.id] = hedge }

    func unregister(_ hedge: EngineCall) {
        if calls[hedge.id] === hedge { calls.removeValue(forKey: hedge.id) }
    }

    /// Runs `job` on a worker thread (made on first use); false when no thread can run it.
    func runOffThread(_ job: @escaping () -> Void) -> Bool {
        let workers = workersIfAny ?? EngineWorkers()
        workersIfAny = workers
        return workers.run(job)
    }

    /// From a worker thread: hands `report` to call `id` on the engine's thread.
    /// The job holds the engine until it returns, so the eventfd is open.
    func post(_ id: UInt64, _ report: OffThreadReport) {
        inbox.withLock { $0.reports.append((id, report)) }
        wake()
    }

    /// Puts `call` on the timer heap for its next wake-up, when that is sooner than the one it has.
    func schedule(_ call: EngineCall) {
        let at = call.wakeMs
        guard at < call.scheduledMs else { return }
        call.scheduledMs = at
        timers.push(TimerHeap.Entry(atMs: at, id: call.id))
    }

    func finished(_ call: EngineCall) {
        calls.removeValue(forKey: call.id)
        finishedCount += 1
        if let key = call.listenerKey { call.cancellation?.removeListener(key) }
    }

    func completionReturned() {
        inFlightCount.subtract(1, ordering: .releasing)
    }

    // MARK: A thread of its own

    /// Runs `process` on a thread of the engine's own until `close`; false when
    /// it runs already or the thread cannot be created.
    public func startThread() -> Bool {
        guard !threaded.load(ordering: .acquiring) else { return false }
        threaded.store(true, ordering: .releasing)
        var t = pthread_t()
        let me = Unmanaged.passRetained(self).toOpaque()
        guard pthread_create(&t, nil, { arg in
            let engine = Unmanaged<Engine>.fromOpaque(arg!).takeRetainedValue()
            engine.loopThread.store(pthread_self(), ordering: .releasing)
            while !engine.stopThread.load(ordering: .acquiring) { engine.process(timeoutMs: 1000) }
            return nil
        }, me) == 0 else {
            Unmanaged<Engine>.fromOpaque(me).release()
            threaded.store(false, ordering: .releasing)
            return false
        }
        thread = t
        threaded.store(true, ordering: .releasing)
        return true
    }

    public var hasThread: Bool { threaded.load(ordering: .acquiring) }

    /// Stops the engine's thread (when it has one) and ends every call in
    /// flight with `.cancelled`, calling their completions on this thread.
    /// Calls submitted later are refused.
    public func close() {
        if let t = thread {
            stopThread.store(true, ordering: .releasing)
            wake()
            pthread_join(t, nil)
            thread = nil
        }
        inbox.withLock { $0.closed = true }
        takeInbox()
        for call in Array(calls.values).sorted(by: { $0.id < $1.id }) { call.cancel() }
        timers.removeAll()
    }
}
