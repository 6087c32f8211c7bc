// SPDX-License-Identifier: Apache-2.0
import CModelsSupport
import ModelsCore

/// libcurl's result codes in the library's terms: what failed, and whether
/// trying again may help.
package enum TransportErrors {
    package static func error(for code: CURLcode, detail: String, host: String) -> ModelsError {
        let reason = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            return ModelsError(.timeout, "timed out talking to \(host): \(reason)", isTransient: true)
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT, CURLE_SEND_ERROR,
             CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_SSL_CONNECT_ERROR, CURLE_HTTP2,
             CURLE_HTTP2_STREAM, CURLE_HTTP3, CURLE_QUIC_CONNECT_ERROR:
            return ModelsError(.transport, "connection to \(host) failed: \(reason)", isTransient: true)
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            return ModelsError(.invalidArgument, "bad provider URL for \(host): \(reason)")
        case CURLE_OUT_OF_MEMORY:
            return ModelsError(.noMemory, "out of memory in libcurl")
        case CURLE_ABORTED_BY_CALLBACK:
            return ModelsError(.cancelled, "cancelled by the caller")
        default:
            // TLS verification failures and the like: trying again will not help.
            return ModelsError(.transport, "request to \(host) failed: \(reason)")
        }
    }
}
