import Logging
import ServiceLifecycle
import UnixSignals

/// Keeps the listeners' certificates current without a restart: on SIGHUP every context reloads, and
/// every `interval` each one reloads if its files changed (a renewal by cert-manager or certbot). A
/// reload that fails is logged and the certificate in use stays.
struct TLSReloader: Service {
    let contexts: [ReloadingTLSContext]
    let interval: Duration
    /// Trapped before the listeners start, so a SIGHUP never finds the default action (exit) in place.
    let hangups: UnixSignalsSequence
    let logger: Logger

    init(contexts: [ReloadingTLSContext], interval: Duration, logger: Logger) async {
        self.contexts = contexts
        self.interval = interval
        self.hangups = await UnixSignalsSequence(trapping: .sighup)
        self.logger = logger
    }

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask {
                        for await _ in hangups { reload(force: true) }
                    }
                    group.addTask {
                        while true {
                            try await Task.sleep(for: interval)
                            reload(force: false)
                        }
                    }
                }
            }
        } catch is CancellationError {
            // Shutting down: the only way out of the two loops.
        }
    }

    func reload(force: Bool) {
        for context in contexts {
            do {
                if force {
                    try context.reload()
                } else if try !context.reloadIfChanged() {
                    continue
                }
                logger.info("tls: reloaded", metadata: ["tls.certificate": "\(context.files.certificate)"])
            } catch {
                logger.error("tls: kept the certificate in use", metadata: ["error": "\(error)"])
            }
        }
    }
}
