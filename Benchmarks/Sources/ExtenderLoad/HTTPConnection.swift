import Foundation

/// A failure of the load client: what it was doing and what went wrong.
struct LoadError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One keep-alive HTTP/1.1 connection with one request in flight, on plain POSIX sockets so that the client
/// adds as little as it can to what it measures. It writes a request as Go's `net/http` transport does (the
/// head, then the body, in separate writes through a 4 KB buffer) and reads `Content-Length` answers only.
final class HTTPConnection {
    private let fd: Int32
    private let host: String
    /// Whether to write head and body in one `write` (the kindest client) instead of Go's several.
    private let singleWrite: Bool
    private var inbox: [UInt8] = []

    /// Connects to `host:port` (IPv4), with `TCP_NODELAY` on as Go's `net` package sets it by default.
    init(host: String, port: Int, noDelay: Bool, singleWrite: Bool) throws {
        self.host = host
        self.singleWrite = singleWrite
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LoadError("socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw LoadError("expected an IPv4 address like 127.0.0.1, found \"\(host)\"")
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw LoadError("connect to \(host):\(port): errno \(errno)") }
        var flag: Int32 = noDelay ? 1 : 0
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &flag, socklen_t(MemoryLayout<Int32>.size))
        inbox.reserveCapacity(1 << 20)
    }

    deinit { close(fd) }

    /// Sends one request and reads its whole answer.
    ///
    /// - Returns: The status code and the body.
    func send(_ method: String, _ path: String, body: [UInt8] = []) throws -> (status: Int, body: ArraySlice<UInt8>) {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: Go-http-client/1.1\r\n"
        if method == "POST" {
            head += "Content-Length: \(body.count)\r\nContent-Type: application/json\r\n"
        }
        head += "Accept-Encoding: gzip\r\n\r\n"
        if singleWrite {
            try writeAll(Array(head.utf8) + body)
        } else {
            // bufio.Writer(4096): the head and the body's first bytes fill the buffer, then the rest.
            let bytes = Array(head.utf8) + body
            var start = 0
            while start < bytes.count {
                let end = min(bytes.count, start + 4096)
                try writeAll(bytes[start..<end])
                start = end
            }
        }
        return try readResponse()
    }

    private func writeAll(_ bytes: some Collection<UInt8>) throws {
        try Array(bytes).withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                guard n > 0 else { throw LoadError("write: errno \(errno)") }
                offset += n
            }
        }
    }

    private func readResponse() throws -> (status: Int, body: ArraySlice<UInt8>) {
        var headEnd: Int?
        while true {
            if headEnd == nil { headEnd = Self.endOfHead(inbox) }
            if let end = headEnd {
                let head = String(decoding: inbox[..<end], as: UTF8.self)
                let (status, length) = try Self.parseHead(head)
                if inbox.count >= end + length {
                    let body = inbox[end..<(end + length)]
                    inbox.removeFirst(end + length)
                    return (status, body)
                }
            }
            try fill()
        }
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { throw LoadError(n == 0 ? "the server closed the connection" : "read: errno \(errno)") }
        inbox.append(contentsOf: chunk[..<n])
    }

    /// The offset just past the blank line ending the head, if it has arrived.
    static func endOfHead(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4)
        where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i + 4
        }
        return nil
    }

    static func parseHead(_ head: String) throws -> (status: Int, length: Int) {
        let lines = head.split(separator: "\r\n")
        guard let first = lines.first, first.hasPrefix("HTTP/1.1 "),
            let status = Int(first.dropFirst(9).prefix(3))
        else { throw LoadError("expected an HTTP/1.1 status line, found \"\(lines.first ?? "")\"") }
        for line in lines.dropFirst() where line.lowercased().hasPrefix("content-length:") {
            if let length = Int(line.dropFirst(15).trimmingCharacters(in: .whitespaces)) { return (status, length) }
        }
        throw LoadError("expected a Content-Length answer, found the head \"\(head)\"")
    }
}
