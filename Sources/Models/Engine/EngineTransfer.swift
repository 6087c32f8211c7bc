// SPDX-License-Identifier: Apache-2.0
import CModelsSupport
import Glibc
import ModelsCore
import ModelsTransport

/// One HTTP exchange on the engine's multi handle: an easy handle set up with
/// the options every transfer gets (`EasyOptions`), its response head read by
/// `ResponseHeadParser`, and its body handed to the call that owns it. libcurl
/// calls back on the engine's thread, inside `curl_multi_socket_action`.
final class EngineTransfer {
    let easy: UnsafeMutableRawPointer
    let url: String
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private(set) var headParser = ResponseHeadParser()
    /// The call the body goes to; it outlives the transfer (it removes it before it ends).
    unowned let owner: EngineCall
    /// Set by the prereq callback: the kept-alive connection held stray bytes.
    var stoppedForStrayInput = false
    var strayRestarts = 0
    /// The socket of the connection this transfer opened (none when it reuses one).
    var openedSocket: Int32 = -1

    var host: String { HTTPTransfer.hostForMessages(url) }
    var head: HTTPResponseHead { headParser.head }

    init(_ request: HTTPRequest, connectTimeoutMs: Int64, owner: EngineCall) throws(ModelsError) {
        guard let easy = curl_easy_init() else { throw ModelsError(.noMemory, "cannot create a libcurl handle") }
        self.easy = easy
        self.owner = owner
        url = request.url
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let setup = TransferSetup(url: request.url, method: request.method, headers: request.headers,
                                  http1Only: request.http1Only, proxy: Proxy.forURL(request.url))
        let me = Unmanaged.passUnretained(self).toOpaque()
        try EasyOptions.configure(easy, request, setup: setup, errorBuffer: errorBuffer, headerList: &headerList,
                                  user: me, callbacks: Self.callbacks, host: HTTPTransfer.hostForMessages(request.url))
        var rc = cms_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Int(max(1, min(connectTimeoutMs, 30_000))))

        if rc == CURLE_OK, request.method == .post {
            rc = cms_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count))
            // Copied by libcurl: the request may go before the transfer does.
            if rc == CURLE_OK {
                rc = request.body.withUnsafeBytes { bytes in
                    cms_easy_setopt_ptr(easy, CURLOPT_COPYPOSTFIELDS, bytes.baseAddress ?? UnsafeRawPointer(errorBuffer))
                }
            }
        }
        guard rc == CURLE_OK else {
            throw TransportErrors.error(for: rc, detail: String(cString: curl_easy_strerror(rc)), host: host)
        }
    }

    deinit {
        curl_easy_cleanup(easy)
        if let list = headerList { curl_slist_free_all(list) }
        errorBuffer.deallocate()
    }

    /// The error a finished transfer's libcurl code stands for (nil for CURLE_OK).
    func error(for code: CURLcode) -> ModelsError? {
        guard code != CURLE_OK else { return nil }
        if code == CURLE_OUT_OF_MEMORY {
            // libcurl reports a response line over its own limit as out of memory: the server's fault.
            return ModelsError(.protocol, headParser.isComplete
                ? "the response from \(host) has a line longer than libcurl accepts"
                : "the response headers from \(host) have a line longer than libcurl accepts (100 KiB)")
        }
        return TransportErrors.error(for: code, detail: String(cString: errorBuffer), host: host)
    }

    /// After a clean end: tells `KeptConnections` whether the connection spoke
    /// HTTP/1.x, so that stray bytes on it keep it from being reused.
    func markKept() {
        var version = 0, local = 0, peer = 0
        _ = cms_easy_getinfo_long(easy, CURLINFO_HTTP_VERSION, &version)
        _ = cms_easy_getinfo_long(easy, CURLINFO_LOCAL_PORT, &local)
        _ = cms_easy_getinfo_long(easy, CURLINFO_PRIMARY_PORT, &peer)
        KeptConnections.finished(localPort: local, peerPort: peer,
                                 http1: version == CURL_HTTP_VERSION_1_0 || version == CURL_HTTP_VERSION_1_1)
    }

    /// Before libcurl starts it again on another connection.
    func clearError() { errorBuffer[0] = 0 }

    private static func from(_ user: UnsafeMutableRawPointer?) -> EngineTransfer? {
        user.map { Unmanaged<EngineTransfer>.fromOpaque($0).takeUnretainedValue() }
    }

    private static let callbacks = EasyOptions.Callbacks(
        write: { data, size, count, user in
            guard let transfer = EngineTransfer.from(user) else { return 0 }
            let n = size * count
            return transfer.owner.receiveBody(UnsafeRawBufferPointer(start: data, count: n)) ? n : 0
        },
        header: { data, size, count, user in
            guard let transfer = EngineTransfer.from(user) else { return 0 }
            let n = size * count
            switch transfer.headParser.take(UnsafeRawBufferPointer(start: data, count: n), easy: transfer.easy) {
            case .more: return n
            case .complete:
                transfer.owner.headArrived()
                return n
            case .tooLarge:
                transfer.owner.transferFailedInCallback(ModelsError(
                    .protocol, "the response headers from \(transfer.host) are larger than \(ResponseHeadParser.maxHeaderBytes) bytes"))
                return 0
            }
        },
        prereq: { user, _, _, peerPort, localPort in
            guard let transfer = EngineTransfer.from(user) else { return 0 }
            let socket = transfer.openedSocket
            transfer.openedSocket = -1
            guard KeptConnections.hasStrayInput(socket: socket, localPort: Int(localPort), peerPort: Int(peerPort)) else {
                return Int32(CURL_PREREQFUNC_OK)
            }
            transfer.stoppedForStrayInput = true
            return Int32(CURL_PREREQFUNC_ABORT)
        },
        sockopt: { user, socket, purpose in
            if purpose == CURLSOCKTYPE_IPCXN {
                KeptConnections.opened(socket)
                EngineTransfer.from(user)?.openedSocket = socket
            }
            return Int32(CURL_SOCKOPT_OK)
        })
}
