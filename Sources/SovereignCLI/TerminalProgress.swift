import Foundation
import SovereignModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A one-line progress indicator on standard error, shown only when standard error is a terminal.
enum TerminalProgress {
    static let isTerminal = isatty(2) == 1

    /// A progress callback that redraws `label done/total` in place, or `nil` when output is not a terminal.
    static func lineOnStandardError(label: String) -> FleetLoader.Progress? {
        guard isTerminal else { return nil }
        return { done, total in
            // Redraw at most about a hundred times: a terminal write per file would slow big fleets.
            let stride = max(1, total / 100)
            guard done % stride == 0 || done == total else { return }
            FileHandle.standardError.write(Data("\r\(label) \(done)/\(total)".utf8))
        }
    }

    /// Erases the progress line, if one was drawn.
    static func clear() {
        guard isTerminal else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }
}
