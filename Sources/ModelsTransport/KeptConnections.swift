// SPDX-License-Identifier: Apache-2.0
import CModelsSupport
import Glibc
import ModelsCore

/// Kept-alive HTTP/1.1 connections, watched so that one holding bytes that
/// answer no request is never reused: those bytes (a server's answer to the
/// second half of a split request, or anything a server sends after an answer)
/// would be read as the answer to the next request sent on it.
///
/// libcurl closes a connection whose transfer ended early or that got more
/// bytes than the answer in the same read, but 7.88 reuses an idle connection
/// whose extra bytes came a moment later (newer versions refuse one with input
/// waiting). So, just before a request goes out on a connection (libcurl's
/// PREREQFUNCTION), its socket is polled: anything waiting means the transfer
/// is stopped before it sends a byte, libcurl closes that connection, and the
/// transfer starts again on another.
///
/// Sockets are known by their ports: libcurl reports a new socket when it is
/// made (SOCKOPTFUNCTION), the ports of the connection a request goes out on
/// (PREREQFUNCTION) and closes sockets through CLOSESOCKETFUNCTION, which
/// forgets them under the same lock, so a socket number is never taken for
/// another file. Only connections whose last answer came over HTTP/1.x are
/// polled: an HTTP/2 server may send frames at any time.
package enum KeptConnections {
    private struct Key: Hashable {
        var localPort: Int
        var peerPort: Int
    }

    private struct Entry {
        var socket: Int32
        /// Its last answer came over HTTP/1.x: stray bytes have no excuse.
        var http1: Bool
    }

    private struct State {
        /// Sockets libcurl made whose ports are not looked up yet.
        var unidentified: Set<Int32> = []
        var entries: [Key: Entry] = [:]
        /// The key of each socket in `entries`, so that closing one is a lookup.
        var keys: [Int32: Key] = [:]
    }

    private static let state = Locked(State())

    /// CURLOPT_SOCKOPTFUNCTION: libcurl made a socket for a connection.
    package static func opened(_ socket: Int32) {
        state.withLock { _ = $0.unidentified.insert(socket) }
    }

    /// CURLOPT_CLOSESOCKETFUNCTION: forgets the socket, then closes it (under the
    /// lock, so no other thread looks it up while its number is free).
    static func close(_ socket: Int32) -> Int32 {
        state.withLock { s in
            s.unidentified.remove(socket)
            if let key = s.keys.removeValue(forKey: socket) { s.entries[key] = nil }
            return Glibc.close(socket)
        }
    }

    /// Whether the connection a request is about to go out on (by its ports) is
    /// a kept-alive HTTP/1.x connection with bytes, or its end, waiting.
    /// `socket` is the one the request's transfer opened (-1: it reuses a
    /// connection): a new connection is identified by it, without scanning
    /// the sockets not identified yet, which costs a system call each and made
    /// thousands of new connections at once quadratic.
    package static func hasStrayInput(socket: Int32, localPort: Int, peerPort: Int) -> Bool {
        let key = Key(localPort: localPort, peerPort: peerPort)
        let kept: Int32? = state.withLock { s in
            if let entry = s.entries[key] { return entry.http1 ? entry.socket : nil }
            if socket >= 0, s.unidentified.remove(socket) != nil {
                s.entries[key] = Entry(socket: socket, http1: false)
                s.keys[socket] = key
            } else {
                identify(key, in: &s)
            }
            return nil
        }
        guard let kept else { return false }
        // Outside the lock: at worst a socket closed since is polled, with no effect.
        var p = pollfd(fd: kept, events: Int16(POLLIN | POLLPRI), revents: 0)
        return poll(&p, 1, 0) > 0
    }

    /// A transfer on the connection with these ports ended cleanly over `http1`.
    package static func finished(localPort: Int, peerPort: Int, http1: Bool) {
        state.withLock { s in
            let key = Key(localPort: localPort, peerPort: peerPort)
            if s.entries[key]?.http1 != http1 { s.entries[key]?.http1 = http1 }
        }
    }

    /// A new connection's first request: finds its socket among the unidentified ones.
    private static func identify(_ key: Key, in s: inout State) {
        for socket in s.unidentified {
            guard let local = port(of: socket, peer: false), local == key.localPort,
                  let peer = port(of: socket, peer: true), peer == key.peerPort else { continue }
            s.unidentified.remove(socket)
            s.entries[key] = Entry(socket: socket, http1: false)
            s.keys[socket] = key
            return
        }
    }

    /// The local or peer TCP port of an IPv4 or IPv6 socket.
    private static func port(of socket: Int32, peer: Bool) -> Int? {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                peer ? getpeername(socket, $0, &length) : getsockname(socket, $0, &length)
            }
        }
        guard rc == 0 else { return nil }
        // sin_port and sin6_port: both right after the family, in network order.
        guard Int32(address.ss_family) == AF_INET || Int32(address.ss_family) == AF_INET6 else { return nil }
        return withUnsafeBytes(of: &address) { Int(UInt16(bigEndian: $0.load(fromByteOffset: 2, as: UInt16.self))) }
    }
}
