// SPDX-License-Identifier: Apache-2.0
import CModelsSupport
import Glibc
import ModelsCore

/// The options every easy handle gets, whoever drives it (the blocking
/// `HTTPTransfer` or the `Engine`): URL, protocols, TLS, the share handle,
/// headers (checked for control characters), method, proxy, and the
/// callbacks with their user data.
package enum EasyOptions {
    package typealias DataFunction = @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int
    package typealias SockoptFunction = @convention(c) (UnsafeMutableRawPointer?, curl_socket_t, curlsocktype) -> Int32
    package typealias PrereqFunction = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<CChar>?,
                                               UnsafeMutablePointer<CChar>?, Int32, Int32) -> Int32

    package struct Callbacks {
        var write: DataFunction
        var header: DataFunction
        /// Kept-alive connections with stray bytes are not reused (see `KeptConnections`).
        var prereq: PrereqFunction
        /// Each socket a new connection opens: passed to `KeptConnections.opened`
        /// and kept by the transfer, for its prereq callback.
        var sockopt: SockoptFunction

        package init(write: DataFunction, header: DataFunction, prereq: PrereqFunction, sockopt: SockoptFunction) {
            (self.write, self.header, self.prereq, self.sockopt) = (write, header, prereq, sockopt)
        }
    }

    /// Sets the options that stay for the next request with the same `setup`;
    /// `headerList` receives the header list the handle points to (the caller frees it).
    @inline(never) // rarely runs: kept out of the per-request path
    package static func configure(_ easy: UnsafeMutableRawPointer, _ request: HTTPRequest, setup: TransferSetup,
                          errorBuffer: UnsafeMutablePointer<CChar>, headerList: inout UnsafeMutablePointer<curl_slist>?,
                          user: UnsafeMutableRawPointer, callbacks: Callbacks, host: @autoclosure () -> String) throws(ModelsError) {
        var rc = CURLE_OK
        func set(_ code: CURLcode) { if rc == CURLE_OK { rc = code } }
        set(cms_easy_setopt_ptr(easy, CURLOPT_URL, request.url))
        set(cms_easy_setopt_ptr(easy, CURLOPT_PROTOCOLS_STR, "http,https"))
        set(cms_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0))
        set(cms_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1))
        set(cms_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2))
        set(cms_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1))
        set(cms_easy_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1))
        set(cms_easy_setopt_long(easy, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1))
        // Best effort, not checked: libcurl (7.88) refuses to resize the receive
        // buffer a pooled handle kept from an earlier failed transfer (a DNS
        // failure, say), and that must not fail every later request.
        _ = cms_easy_setopt_long(easy, CURLOPT_BUFFERSIZE, 64 << 10)
        set(cms_easy_setopt_share(easy, Curl.share))
        set(cms_easy_setopt_ptr(easy, CURLOPT_USERAGENT, LibraryVersion.userAgent))
        set(cms_easy_setopt_ptr(easy, CURLOPT_ERRORBUFFER, errorBuffer))
        if request.http1Only { set(cms_easy_setopt_long(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1)) }

        for h in request.headers + [("Expect", "")] {
            // The last line of defence against a header that would split the request
            // (keys and tokens are checked where they come in, with better messages).
            guard HeaderText.isValidName(h.name), HeaderText.isValidValue(h.value) else {
                throw ModelsError(.invalidArgument, "the request header \"\(HeaderText.printableName(h.name))\" holds a control "
                                  + "character (CR, LF, NUL or another); it was not sent")
            }
            // "Expect:" with no value stops curl from waiting for 100 Continue on large bodies.
            let line = h.value.isEmpty ? "\(h.name):" : "\(h.name): \(h.value)"
            guard let list = curl_slist_append(headerList, line) else { throw ModelsError(.noMemory, "out of memory") }
            headerList = list
        }
        set(cms_easy_setopt_ptr(easy, CURLOPT_HTTPHEADER, headerList))

        switch request.method {
        case .post: set(cms_easy_setopt_long(easy, CURLOPT_POST, 1))
        case .get: set(cms_easy_setopt_long(easy, CURLOPT_HTTPGET, 1))
        }

        if let proxy = setup.proxy {
            set(cms_easy_setopt_ptr(easy, CURLOPT_PROXY, proxy.url))
            if let noProxy = proxy.noProxy { set(cms_easy_setopt_ptr(easy, CURLOPT_NOPROXY, noProxy)) }
        } else {
            set(cms_easy_setopt_ptr(easy, CURLOPT_PROXY, ""))
        }

        set(cms_easy_setopt_ptr(easy, CURLOPT_WRITEDATA, user))
        set(cms_easy_setopt_ptr(easy, CURLOPT_HEADERDATA, user))
        set(cms_easy_setopt_write(easy, callbacks.write))
        set(cms_easy_setopt_header(easy, callbacks.header))
        set(cms_easy_setopt_ptr(easy, CURLOPT_PREREQDATA, user))
        set(cms_easy_setopt_prereq(easy, callbacks.prereq))
        set(cms_easy_setopt_ptr(easy, CURLOPT_SOCKOPTDATA, user))
        set(cms_easy_setopt_sockopt(easy, callbacks.sockopt))
        set(cms_easy_setopt_closesocket(easy, { _, socket in KeptConnections.close(socket) }))
        guard rc == CURLE_OK else {
            throw TransportErrors.error(for: rc, detail: String(cString: curl_easy_strerror(rc)), host: host())
        }
    }
}
